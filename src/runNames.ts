// The names a run folder gives its series, TensorBoard tags and sub-folders. Part of the run format
// (runFormat.ts re-exports them), kept in a module of its own with no file system so that the
// browser's Train page names its series as the CLI does.

/** The series name of a model and seed in logs and file names: the model alone when there is one seed. */
export function seriesName(model: string, seed: number, multipleSeeds: boolean): string {
  return multipleSeeds ? `${model}_seed${seed}` : model;
}

/**
 * `addScalars` main tags: each series of one goes to the event file in sub-folder `<main>/<series>/`
 * with tag `<main>`, which TensorBoard overlays on one chart.
 */
export const OVERLAID_SCALARS = { accuracy: "accuracy", loss: "loss" } as const;

/** Per-layer scalars, tagged `<kind>/<series>/<layer>`. */
export type LayerScalarKind = "grad_norm" | "grad_to_weight" | "update_to_weight" | "nonfinite" | "dead_fraction" | "saturated_fraction";
/** Per-layer histograms, tagged `<kind>/<series>/<layer>` at step epoch − 1. */
export type HistogramKind = "weight" | "grad_weight";

export function layerTag(kind: LayerScalarKind | HistogramKind, series: string, layer: number): string {
  return `${kind}/${series}/${layer}`;
}

/** The scalar marking where a series diverged: value the step, at step the epoch. */
export function divergedTag(series: string): string {
  return `diverged/${series}`;
}
