// A run's settings as people read them, from its config.json: those every model trains with, and
// those that differ between models (a preset's --init per model). The HTML report and the dashboard
// (through the server's config answer) both show this one table.
import { knobsOf, type Knob } from "./optim.js";
import type { RunConfigFile } from "./runFormat.js";

export interface SettingsTable {
  /** Settings every model trains with, in SETTING_LABELS' order. */
  shared: Array<{ name: string; value: string }>;
  /** Settings that differ between models: their names, and each model's values ("—" where one does not apply). */
  perModel: { names: string[]; rows: Array<{ model: string; values: string[] }> };
}

/**
 * The settings shown and their labels, in order. A setting a config.json does not record (norm, in
 * runs from before it) is left out; one recorded but not listed here is shown under its own name.
 */
const SETTING_LABELS: Record<string, string> = {
  optimizer: "optimiser",
  lr: "lr",
  momentum: "momentum",
  weightDecay: "weight decay",
  betas: "betas",
  eps: "eps",
  init: "init",
  norm: "norm",
  batchSize: "batch size",
  testBatchSize: "test batch size",
  epochs: "epochs",
  mean: "input mean",
  std: "input std",
};

const KNOBS: ReadonlySet<string> = new Set<Knob>(["lr", "momentum", "weightDecay", "betas", "eps"]);
const NOT_APPLICABLE = "—";

function valueText(value: unknown): string {
  if (Array.isArray(value)) return value.map(valueText).join(", ");
  return String(value);
}

/** The table of `config`; each model's settings are the run's with its own over them. */
export function settingsTable(config: Pick<RunConfigFile, "settings" | "models">): SettingsTable {
  const models = config.models.map((m) => {
    const own = { ...config.settings, ...m.settings };
    const settings: Record<string, unknown> = own;
    // A knob the model's optimiser does not take is recorded at a fallback value, unused: not shown.
    const takes = new Set<string>(knobsOf(own.optimizer));
    const shown = new Map<string, string>();
    for (const [key, value] of Object.entries(settings)) {
      if (value === undefined) continue;
      shown.set(key, KNOBS.has(key) && !takes.has(key) ? NOT_APPLICABLE : valueText(value));
    }
    return { model: m.model, shown };
  });
  const keys = [...new Set(models.flatMap((m) => [...m.shown.keys()]))];
  const order = Object.keys(SETTING_LABELS);
  keys.sort((a, b) => (order.includes(a) ? order.indexOf(a) : order.length) - (order.includes(b) ? order.indexOf(b) : order.length));
  const table: SettingsTable = { shared: [], perModel: { names: [], rows: models.map((m) => ({ model: m.model, values: [] })) } };
  for (const key of keys) {
    const values = models.map((m) => m.shown.get(key) ?? NOT_APPLICABLE);
    const name = SETTING_LABELS[key] ?? key;
    if (values.every((v) => v === values[0])) {
      if (values[0] !== NOT_APPLICABLE) table.shared.push({ name, value: values[0] });
    } else {
      table.perModel.names.push(name);
      values.forEach((v, i) => table.perModel.rows[i].values.push(v));
    }
  }
  if (table.perModel.names.length === 0) table.perModel.rows = [];
  return table;
}
