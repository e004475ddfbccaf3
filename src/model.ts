// The notebook's MLP, as a plain description: Sequential(Linear, act, Linear, act, ..., Linear).
// numHiddenLayers counts the Linear layers, so the net has numHiddenLayers − 1 hidden widths.
import { ACTIVATION_NAMES, DEFAULT_LEAKY_SLOPE, isActivationName, type ActivationName } from "./activations.js";
import { InputError } from "./errors.js";
import { parameterLayout } from "./layout.js";
import { DEFAULT_NORM, NORM_NAMES, isNormName, type NormName } from "./norms.js";

export interface MlpConfig {
  inSize: number;
  outSize: number;
  /** One width per hidden layer: numHiddenLayers − 1 entries. */
  hiddenSizes: number[];
  activation: ActivationName;
  /** leaky_relu's negative slope; ignored by the other activations. */
  leakySlope: number;
  /** The norm layer of every hidden block, `Linear → norm → activation` (norms.ts). */
  norm: NormName;
}

export interface MlpOptions {
  inSize: number;
  outSize: number;
  hiddenSize?: number | number[];
  numHiddenLayers?: number;
  activation?: string;
  leakySlope?: number;
  norm?: string;
}

/** The notebook's shallow net: 5 Linear layers, hidden layers 64 wide (mlpConfig's and the CLI's defaults). */
export const DEFAULT_NUM_HIDDEN_LAYERS = 5;
export const DEFAULT_HIDDEN_SIZE = 64;

/** Builds a config with the notebook's defaults and meaning, refusing what the notebook cannot build. */
export function mlpConfig(options: MlpOptions): MlpConfig {
  const { inSize, outSize } = options;
  const hiddenSize = options.hiddenSize ?? DEFAULT_HIDDEN_SIZE;
  const numHiddenLayers = options.numHiddenLayers ?? DEFAULT_NUM_HIDDEN_LAYERS;
  const activation = options.activation ?? "sigmoid";
  const leakySlope = options.leakySlope ?? DEFAULT_LEAKY_SLOPE;
  requireWidth("inSize", inSize);
  requireWidth("outSize", outSize);
  if (!Number.isInteger(numHiddenLayers) || numHiddenLayers < 2) {
    throw new InputError(`numHiddenLayers must be an integer of at least 2 (it counts the Linear layers); got ${numHiddenLayers}`);
  }
  const expected = numHiddenLayers - 1;
  let hiddenSizes: number[];
  if (Array.isArray(hiddenSize)) {
    if (hiddenSize.length !== expected) {
      throw new InputError(
        `hidden size must be an integer or a list of exactly ${expected} widths (numHiddenLayers ${numHiddenLayers} − 1); got a list of ${hiddenSize.length}`,
      );
    }
    hiddenSizes = [...hiddenSize];
  } else {
    hiddenSizes = new Array<number>(expected).fill(hiddenSize);
  }
  hiddenSizes.forEach((width, i) => requireWidth(`hidden size ${i + 1}`, width));
  if (!isActivationName(activation)) throw unknownActivation(activation);
  if (!Number.isFinite(leakySlope)) throw new InputError(`leaky slope must be a finite number; got ${leakySlope}`);
  const norm = options.norm ?? DEFAULT_NORM;
  if (!isNormName(norm)) throw new InputError(`unknown norm "${norm}"; valid names: ${NORM_NAMES.join(", ")}`);
  return { inSize, outSize, hiddenSizes, activation, leakySlope, norm };
}

function requireWidth(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 1 << 20) {
    throw new InputError(`${name} must be a positive integer; got ${value}`);
  }
}

/** An InputError for a name that is not an activation, listing the valid ones and the closest. */
export function unknownActivation(name: string): InputError {
  const closest = [...ACTIVATION_NAMES].sort((a, b) => editDistance(name, a) - editDistance(name, b))[0];
  return new InputError(
    `unknown activation "${name}" (did you mean "${closest}"?); valid names: ${ACTIVATION_NAMES.join(", ")}`,
  );
}

export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** The (in, out) sizes of every Linear layer, first to last (read from the parameter layout). */
export function linearShapes(config: MlpConfig): Array<[number, number]> {
  return parameterLayout(config).linears.map((l) => [l.inSize, l.outSize]);
}

export function parameterCount(config: MlpConfig): number {
  return parameterLayout(config).size;
}

/** PyTorch state_dict names, in the parameter block's order (see layout.ts). */
export function stateDictNames(config: MlpConfig): string[] {
  return parameterLayout(config).tensors.map((t) => t.name);
}
