// The Train page's HTML shell: the knobs (from the flag table) as JSON for the page module, which
// builds the form from them. Every URL in it is relative, so the same page works at /train on
// `actlab serve` and as index.html of the static site.
import type { Knob } from "../browser/trainSpec.js";
import { PAGE_CSS } from "./pageHtml.js";

const TRAIN_CSS = `
.buttons { display: flex; gap: 8px; align-items: center; margin: 8px 0; }
button { font: inherit; padding: 4px 14px; border-radius: 6px; border: 1px solid #8a93a8; background: #fff; cursor: pointer; }
button:focus-visible, input:focus-visible, select:focus-visible, a:focus-visible { outline: 3px solid #3b6fd8; outline-offset: 2px; }
button:disabled { opacity: 0.5; cursor: default; }
.knob { display: inline-flex; flex-direction: column; margin: 0 14px 6px 0; font-size: 13px; }
.knob input[type=text], .knob input[type=number] { width: 90px; }
#downloads a { margin-right: 14px; }
`;

/** Escapes JSON for a <script> element (no "</script>" can end it early). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

export function trainPageHtml(knobs: Knob[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>actlab · train in the browser</title>
<link rel="icon" href="data:,">
<style>${PAGE_CSS}${TRAIN_CSS}</style>
<script src="vendor/vega.min.js"></script>
<script src="vendor/vega-lite.min.js"></script>
<script id="knobs" type="application/json">${scriptJson(knobs)}</script>
<script type="module" src="dist/src/browser/trainApp.js"></script>
</head>
<body data-status="loading">
<header>
  <h1>actlab · train in the browser</h1>
  <span id="progress" class="muted" role="status" aria-live="polite"></span>
</header>
<div id="error" class="error" role="alert" hidden></div>
<form id="form" class="controls" aria-label="Training settings" onsubmit="return false">
  <fieldset><legend>Experiment</legend><div id="knobs-form"></div></fieldset>
</form>
<div class="buttons" role="toolbar" aria-label="Training controls">
  <button type="button" id="start">Start</button>
  <button type="button" id="pause" disabled>Pause</button>
  <button type="button" id="step" disabled>Step</button>
  <button type="button" id="reset" disabled>Reset</button>
  <label>Histogram layer <select id="hist-layer" aria-label="Layer whose gradient histogram is shown"></select></label>
</div>
<div id="downloads" aria-label="Downloads"></div>
<main>
  <section class="card"><h2>Train loss (smoothed, per step)</h2><div id="chart-loss" data-chart="loss"></div></section>
  <section class="card"><h2>Test accuracy per epoch</h2><div id="chart-accuracy" data-chart="accuracy"></div></section>
  <section class="card"><h2>Gradient norm by layer depth</h2><div id="chart-depth" data-chart="depth"></div></section>
  <section class="card"><h2>Dead and saturated units</h2><div id="chart-units" data-chart="units"></div></section>
  <section class="card"><h2>One layer's weight gradients</h2><div id="chart-histogram" data-chart="histogram"></div></section>
  <section class="card"><h2>Activation explorer</h2>
    <p class="note">The chosen activations and their derivatives, computed by the kernels that train the models.</p>
    <div id="chart-activations" data-chart="activations"></div></section>
</main>
</body>
</html>
`;
}
