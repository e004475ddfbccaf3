/// <reference lib="dom" />
// The dashboard's sweep view: for each sweep in the log folder, its trials by state, the report's
// sentences and its four charts (the server sends the report's own Vega-Lite specs, so page and
// report draw the same thing). It polls on its own and redraws a sweep when its files change, so
// it follows a running sweep live. The section stays hidden when the folder holds no sweep.
import type { SweepAnswer, SweepListing } from "../sweepStore.js";
import { element, getJson } from "./dom.js";

interface VegaView {
  runAsync(): Promise<VegaView>;
  finalize(): void;
}
declare const vega: { View: new (runtime: unknown, options: Record<string, unknown>) => VegaView; parse(spec: unknown): unknown };
declare const vegaLite: { compile(spec: unknown): { spec: unknown } };


/** Drawn sweeps by name, with the version they were drawn at and their views (finalized on redraw). */
const drawn = new Map<string, { version: string; views: VegaView[]; card: HTMLElement }>();

async function drawSweep(container: HTMLElement, listing: SweepListing): Promise<void> {
  const answer = await getJson<SweepAnswer>("/api/sweep", [["sweep", listing.name]]);
  const previous = drawn.get(listing.name);
  for (const view of previous?.views ?? []) view.finalize();
  const card = element("section", { className: "card wide" });
  card.dataset.sweep = listing.name;
  const states = Object.entries(answer.states).map(([state, n]) => `${n} ${state}`).join(", ");
  card.append(
    element("h2", { textContent: `Sweep ${answer.title} (${listing.name})` }),
    element("p", { className: "note", textContent: `${answer.trials} trials: ${states}; ${answer.jobsDone} of ${answer.jobsTotal} jobs (trial × seed) ended` }),
    ...answer.sentences.map((s) => element("p", { textContent: s })),
    ...answer.warnings.map((w) => element("p", { className: "warnings", textContent: w })),
  );
  const grid = element("div", { className: "grid" });
  card.append(grid);
  const views: VegaView[] = [];
  for (const chart of answer.charts) {
    const holder = element("div", { className: "chart" });
    holder.dataset.chart = `sweep:${chart.id}`;
    const target = element("div");
    holder.append(target);
    grid.append(holder);
    const view = new vega.View(vega.parse(vegaLite.compile(chart.spec).spec), { renderer: "svg", container: target });
    await view.runAsync();
    views.push(view);
  }
  if (previous) previous.card.replaceWith(card);
  else container.append(card);
  drawn.set(listing.name, { version: listing.version, views, card });
}

async function refresh(container: HTMLElement): Promise<void> {
  const { sweeps } = await getJson<{ sweeps: SweepListing[] }>("/api/sweeps");
  container.hidden = sweeps.length === 0;
  for (const listing of sweeps) {
    if (drawn.get(listing.name)?.version !== listing.version) await drawSweep(container, listing);
  }
  container.dataset.status = "ready";
}

/** Starts the sweep view in `container`, polling every refreshMs. */
export function startSweepView(container: HTMLElement, refreshMs: number): void {
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      await refresh(container);
    } catch (error) {
      console.error(error); // The next poll tries again; what is drawn stays.
    } finally {
      busy = false;
    }
  };
  void tick();
  setInterval(() => void tick(), refreshMs);
}
