// Built-in sweeps, each a grid in the spec file's own terms (flag names, flag texts), so a preset is
// read by the same parsers as the command line and any flag typed with it overrides its values.
import type { RawGrid } from "./grid.js";

/** The twelve activations the notebook study started with (newer catalogue entries are not in the preset). */
export const ORIGINAL_ACTIVATIONS = [
  "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "silu", "softplus", "mish", "hardtanh", "softsign",
] as const;

function preset(name: string, values: Record<string, string[]>): RawGrid {
  return Object.fromEntries(Object.entries(values).map(([key, texts]) => [key, { texts, origin: `preset ${name} (${key})` }]));
}

export const PRESETS = {
  /** Which activation survives which depth: 12 activations × 8 depths, width 64, PyTorch init, 3 seeds, 10 epochs. */
  depth: preset("depth", {
    activations: [...ORIGINAL_ACTIVATIONS],
    layers: ["2", "3", "4", "6", "8", "10", "15", "20"],
    hidden: ["64"],
    init: ["pytorch"],
    seeds: ["0,1,2"],
    epochs: ["10"],
  }),
} satisfies Record<string, RawGrid>;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];
