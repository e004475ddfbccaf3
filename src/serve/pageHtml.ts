// The dashboard's HTML shell and style sheet. The page's behaviour is TypeScript in ./page/,
// compiled by tsc with the rest and served from dist as browser modules.

export function pageHtml(refreshMs: number): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>actlab dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/style.css">
<script src="/vendor/vega.min.js"></script>
<script src="/vendor/vega-lite.min.js"></script>
<script type="module" src="/app/app.js"></script>
</head>
<body data-refresh-ms="${Math.round(refreshMs)}" data-status="loading">
<header>
  <h1>actlab</h1>
  <span id="logdir" class="muted"></span>
  <span id="live" class="muted"></span>
  <a href="/train">Train in the browser</a>
</header>
<div id="error" class="error" hidden></div>
<div id="warnings" class="warnings" hidden></div>
<p id="empty" class="note" hidden>No runs in this folder yet: start one with <code>actlab experiment seed</code>; this page picks it up as soon as its first epoch is logged.</p>
<div id="sweeps" hidden></div>
<section class="controls">
  <fieldset><legend>Runs</legend><div id="run-picker-list"></div></fieldset>
  <fieldset><legend>Models</legend><div id="model-picker-list"></div></fieldset>
  <fieldset><legend>Per-layer views</legend>
    <label>Epoch <select id="epoch"></select></label>
    <label>Layer <select id="layer"></select></label>
    <label>Seed <select id="seed"></select></label>
    <label>Heat maps of <select id="hist"></select></label>
    <label>Histogram axis <select id="scale"></select></label>
  </fieldset>
</section>
<main>
  <section class="card"><h2>Test accuracy</h2><div id="chart-accuracy"></div></section>
  <section class="card"><h2>Train loss</h2><div id="chart-loss"></div></section>
  <section class="card wide"><h2>Gradient norm by layer depth</h2>
    <p class="note">The L2 norm of each layer's weight gradient. A gradient that shrinks layer by layer towards the input (left) is a vanishing gradient: those layers barely learn.</p>
    <div id="chart-depth"></div></section>
  <section class="card wide"><h2>One layer's gradients, models overlaid</h2>
    <p class="note">The distribution of the selected layer's weight gradients for each model at one epoch. On the log axis, a model whose gradients vanish sits far to the left; gradients that are exactly zero (dead units) gather at the left edge.</p>
    <div id="chart-overlay"></div></section>
  <section class="card wide"><h2>Histograms over epochs</h2>
    <p class="note" id="heat-caption"></p>
    <div id="chart-heatmaps" class="grid"></div></section>
  <section class="card wide"><h2>Dead and saturated units</h2>
    <p class="note">Dead: never positive over the test set (relu-like activations). Saturated: derivative below 1% of its maximum on most test images (sigmoid-like activations).</p>
    <div id="chart-units"></div></section>
  <section class="card wide"><h2>Activation explorer</h2>
    <p class="note">Values and derivatives computed by the same WebAssembly kernels that train the models.</p>
    <div id="act-picker" class="choices"></div>
    <div class="inline">
      <label>from <input id="act-from" type="number" step="any"></label>
      <label>to <input id="act-to" type="number" step="any"></label>
      <label>leaky relu slope <input id="act-slope" type="number" step="any"></label>
    </div>
    <div id="chart-activations"></div></section>
  <section class="card wide"><h2>Summary</h2><div id="summary"></div></section>
</main>
</body>
</html>
`;
}

export const PAGE_CSS = `
:root { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2330; background: #f4f5f8; }
body { margin: 0; padding: 0 20px 40px; }
header { display: flex; align-items: baseline; gap: 16px; padding: 14px 0 8px; }
h1 { font-size: 22px; margin: 0; }
h2 { font-size: 15px; margin: 0 0 6px; }
h3 { font-size: 13px; margin: 10px 0 4px; }
.muted { color: #6b7385; font-size: 13px; }
.note { color: #5b6375; font-size: 12.5px; margin: 2px 0 8px; max-width: 900px; }
.error { background: #fde8e8; border: 1px solid #e5a1a1; padding: 8px 12px; border-radius: 6px; margin: 8px 0; }
.warnings { background: #fff6df; border: 1px solid #e9cf85; padding: 8px 12px; border-radius: 6px; margin: 8px 0; font-size: 13px; }
.warnings ul { margin: 4px 0 0; padding-left: 20px; }
.controls { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0 12px; }
fieldset { border: 1px solid #d6d9e0; border-radius: 6px; background: #fff; padding: 6px 12px 8px; font-size: 13px; }
fieldset label { margin-right: 12px; white-space: nowrap; }
legend { font-weight: 600; padding: 0 4px; }
.choice { display: inline-block; margin-right: 12px; }
main { display: flex; flex-wrap: wrap; gap: 14px; }
.card { background: #fff; border: 1px solid #d6d9e0; border-radius: 8px; padding: 12px 14px; box-sizing: border-box; }
.card.wide { flex-basis: 100%; }
.grid { display: flex; flex-wrap: wrap; gap: 8px 18px; }
.caption { font-size: 12px; color: #5b6375; margin-bottom: 2px; }
.inline { display: flex; gap: 14px; font-size: 13px; margin: 6px 0; }
.inline input { width: 70px; }
.choices { font-size: 13px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { text-align: right; padding: 3px 10px; border-bottom: 1px solid #eceef2; }
th:first-child, td:first-child { text-align: left; }
`;
