// The Train page's knobs, read from the CLI's flag table: the query parameters are the flags' names,
// their defaults the flags' defaults, and on `actlab serve` a query is checked by the flags' own
// parsers (their messages and all). A training flag added to the table shows up in the page once it
// is listed here with how the page reads it; choices come from the catalogues that own them.
import { ACTIVATION_NAMES } from "../activations.js";
import type { Flag } from "../cli/flags.js";
import { SHAPE, TRAIN_RUN, TRAINING } from "../cli/flagTable.js";
import { INIT_NAMES } from "../init.js";
import { NORM_NAMES } from "../norms.js";
import { OPTIMIZER_NAMES } from "../optim.js";
import type { Knob, KnobKind } from "../browser/trainSpec.js";
import { HttpError } from "./safePath.js";

interface PageFlag {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  flag: Flag<any>;
  kind: KnobKind;
  choices?: readonly string[];
  min?: number;
  max?: number;
}

/** The flags the page offers, in the form's order (data, logdir, workers and the like are the CLI's business). */
const PAGE_FLAGS: PageFlag[] = [
  { flag: TRAIN_RUN.activations, kind: "names", choices: ACTIVATION_NAMES },
  { flag: SHAPE.layers, kind: "integer", min: 2, max: 64 },
  { flag: SHAPE.hidden, kind: "widths", min: 1, max: 4096 },
  { flag: TRAINING.init, kind: "choice", choices: INIT_NAMES },
  { flag: TRAINING.norm, kind: "choice", choices: NORM_NAMES },
  { flag: TRAINING.optimizer, kind: "choice", choices: OPTIMIZER_NAMES },
  { flag: TRAINING.lr, kind: "number", min: 0 },
  { flag: TRAINING.momentum, kind: "number", min: 0 },
  { flag: TRAINING.batchSize, kind: "integer", min: 1, max: 65_536 },
  { flag: TRAINING.leakySlope, kind: "number" },
  { flag: TRAINING.seeds, kind: "widths", min: 0, max: 2 ** 32 - 1 },
  { flag: TRAINING.epochs, kind: "integer", min: 1, max: 1000 },
  { flag: TRAINING.trainLimit, kind: "integer", min: 1, max: 60_000 },
];

/** The page's knobs, named and defaulted as the CLI's flags. */
export function trainKnobs(): Knob[] {
  return PAGE_FLAGS.map(({ flag, kind, choices, min, max }) => ({
    name: flag.name.slice(2),
    help: flag.help,
    kind,
    default: flag.default === undefined ? "" : (flag.show ?? String)(flag.default),
    ...(choices ? { choices: [...choices] } : {}),
    ...(min !== undefined ? { min } : {}),
    ...(max !== undefined ? { max } : {}),
  }));
}

/** Extra parameters of the page that are not flags. */
const PAGE_ONLY = new Set(["autostart", "seed"]);

/**
 * Checks a /train query with the flags' own parsers: a value the CLI would refuse is a 400 naming
 * the parameter, with the CLI's message. (The page reads the same query in the browser, for the static site.)
 */
export function checkTrainQuery(params: URLSearchParams): void {
  const byName = new Map(PAGE_FLAGS.map((p) => [p.flag.name.slice(2), p]));
  for (const [key, value] of params) {
    if (key === "seed") {
      const parsed = TRAINING.seed.parser("--seed").safeParse(value);
      if (!parsed.success) throw new HttpError(400, parsed.error.issues[0]?.message ?? `bad --seed ${value}`);
      continue;
    }
    if (PAGE_ONLY.has(key)) continue;
    const known = byName.get(key);
    if (!known) throw new HttpError(400, `unknown query parameter "${key}"; the Train page takes ${[...byName.keys(), ...PAGE_ONLY].join(", ")}`);
    const parsed = known.flag.parser(known.flag.name).safeParse(value);
    if (!parsed.success) throw new HttpError(400, parsed.error.issues[0]?.message ?? `bad ${known.flag.name} ${value}`);
  }
}
