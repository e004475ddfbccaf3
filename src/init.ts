// The catalogue of initialisation schemes: for each `--init` name, how a Linear layer's weight and
// bias are drawn, in PyTorch's terms. This one table drives the flag's choices and help, what
// config.json and the checkpoints record, the README's table and the tests' expectations; the
// draws themselves come from the seeded generator (random.ts), in float64, rounded to float32.
//
// The gain is torch.nn.init.calculate_gain's for the model's activation. PyTorch has a gain for
// five of actlab's activations and raises ValueError("Unsupported nonlinearity <name>") for the
// rest; for those actlab uses calculate_gain('linear') = 1, as a PyTorch user must pass
// nonlinearity='linear' (or no gain) to get any init at all. Every Linear, the last one included,
// gets the same gain, as `model.apply(init_fn)` does in PyTorch.
import type { ActivationName } from "./activations.js";
import { tensorView, type ParameterLayout } from "./layout.js";
import type { Random } from "./random.js";

/** What a tensor is drawn from. */
export type Distribution =
  /** U(−bound, bound). */
  | { kind: "uniform"; bound: number }
  /** N(0, std²). */
  | { kind: "normal"; std: number }
  /** gain × a (semi-)orthogonal matrix: WᵀW = gain²·I when tall or square, WWᵀ = gain²·I when wide. */
  | { kind: "orthogonal"; gain: number }
  | { kind: "zeros" };

export interface InitScheme {
  /** One line for the help and the README. */
  description: string;
  /** What PyTorch runs on each Linear `m` for the same result (gain = calculate_gain(activation)). */
  torch: { weight: string; bias: string };
  /** Whether the activation's gain enters the weight's distribution. */
  usesGain: boolean;
  /** The weight's distribution for a Linear with these fans (fan_in = in_features, fan_out = out_features). */
  weight(fanIn: number, fanOut: number, gain: number): Distribution;
  /** The bias's distribution. */
  bias(fanIn: number): Distribution;
}

const uniform = (bound: number): Distribution => ({ kind: "uniform", bound });
const normal = (std: number): Distribution => ({ kind: "normal", std });
const zeros = (): Distribution => ({ kind: "zeros" });
const ZERO_BIAS = "nn.init.zeros_(m.bias)";

// The formulas are written in torch.nn.init's order of operations (std first, then √3·std for a
// bound), so the float64 bounds agree with PyTorch's to the last bit or two.
export const INIT_SCHEMES = {
  pytorch: {
    description: "nn.Linear's default: weight and bias U(±1/√fan_in)",
    torch: { weight: "nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5))", bias: "nn.init.uniform_(m.bias, -1/math.sqrt(fan_in), 1/math.sqrt(fan_in))" },
    usesGain: false,
    // 1/√fan_in, not kaiming_uniform_'s √3·(√(1/3)/√fan_in): the same number up to rounding, and the
    // one actlab has always drawn, so runs and checkpoints from before --init keep their numbers.
    weight: (fanIn) => uniform(1 / Math.sqrt(fanIn)),
    bias: (fanIn) => uniform(1 / Math.sqrt(fanIn)),
  },
  "xavier-uniform": {
    description: "Glorot & Bengio (2010): U(±gain·√(6/(fan_in+fan_out))), zero bias",
    torch: { weight: "nn.init.xavier_uniform_(m.weight, gain=gain)", bias: ZERO_BIAS },
    usesGain: true,
    weight: (fanIn, fanOut, gain) => uniform(Math.sqrt(3) * (gain * Math.sqrt(2 / (fanIn + fanOut)))),
    bias: zeros,
  },
  "xavier-normal": {
    description: "Glorot & Bengio (2010): N(0, gain²·2/(fan_in+fan_out)), zero bias",
    torch: { weight: "nn.init.xavier_normal_(m.weight, gain=gain)", bias: ZERO_BIAS },
    usesGain: true,
    weight: (fanIn, fanOut, gain) => normal(gain * Math.sqrt(2 / (fanIn + fanOut))),
    bias: zeros,
  },
  "kaiming-uniform": {
    description: "He et al. (2015), fan_in mode: U(±gain·√(3/fan_in)), zero bias",
    torch: { weight: "nn.init.kaiming_uniform_(m.weight, mode='fan_in', nonlinearity=<activation>)", bias: ZERO_BIAS },
    usesGain: true,
    weight: (fanIn, _fanOut, gain) => uniform(Math.sqrt(3) * (gain / Math.sqrt(fanIn))),
    bias: zeros,
  },
  "kaiming-normal": {
    description: "He et al. (2015), fan_in mode: N(0, gain²/fan_in), zero bias",
    torch: { weight: "nn.init.kaiming_normal_(m.weight, mode='fan_in', nonlinearity=<activation>)", bias: ZERO_BIAS },
    usesGain: true,
    weight: (fanIn, _fanOut, gain) => normal(gain / Math.sqrt(fanIn)),
    bias: zeros,
  },
  orthogonal: {
    description: "Saxe et al. (2014): gain × the Q of a normal matrix's QR (signs fixed by R's diagonal), zero bias",
    torch: { weight: "nn.init.orthogonal_(m.weight, gain=gain)", bias: ZERO_BIAS },
    usesGain: true,
    weight: (_fanIn, _fanOut, gain) => ({ kind: "orthogonal", gain }),
    bias: zeros,
  },
  "lecun-normal": {
    description: "LeCun et al. (1998), what SELU expects: N(0, 1/fan_in) (not truncated), zero bias",
    torch: { weight: "nn.init.kaiming_normal_(m.weight, mode='fan_in', nonlinearity='linear')", bias: ZERO_BIAS },
    usesGain: false,
    weight: (fanIn) => normal(1 / Math.sqrt(fanIn)),
    bias: zeros,
  },
} as const satisfies Record<string, InitScheme>;

export type InitName = keyof typeof INIT_SCHEMES;
export const INIT_NAMES = Object.keys(INIT_SCHEMES) as [InitName, ...InitName[]];
/** Today's nn.Linear default; what a config.json or checkpoint from before --init was trained with. */
export const DEFAULT_INIT: InitName = "pytorch";

/**
 * calculate_gain's value for the activations PyTorch knows (by the name it knows them by); any other
 * activation falls back to 'linear' (see the top of this file).
 */
const TORCH_GAINS: Partial<Record<ActivationName, (leakySlope: number) => number>> = {
  sigmoid: () => 1,
  tanh: () => 5.0 / 3,
  relu: () => Math.sqrt(2.0),
  leaky_relu: (slope) => Math.sqrt(2.0 / (1 + slope ** 2)),
  selu: () => 3.0 / 4,
};

/** The gain for an activation and the calculate_gain call that gives it in PyTorch. */
export function activationGain(activation: ActivationName, leakySlope: number): { gain: number; torch: string } {
  const gain = TORCH_GAINS[activation];
  if (!gain) return { gain: 1, torch: "nn.init.calculate_gain('linear')" };
  const torch = activation === "leaky_relu" ? `nn.init.calculate_gain('leaky_relu', ${leakySlope})` : `nn.init.calculate_gain('${activation}')`;
  return { gain: gain(leakySlope), torch };
}

/**
 * Draws `out` (a [rows, cols] matrix, row-major, or any vector with rows = 1) from `distribution`.
 * Uniform and normal draw element by element in order; orthogonal draws the normal matrix first.
 */
export function drawTensor(out: Float32Array, rows: number, cols: number, distribution: Distribution, random: Random): void {
  switch (distribution.kind) {
    case "uniform": return random.fillUniform(out, distribution.bound);
    case "normal": return random.fillNormal(out, distribution.std);
    case "zeros": return void out.fill(0);
    case "orthogonal": return orthogonal(out, rows, cols, distribution.gain, random);
  }
}

/**
 * orthogonal_'s semantics: a [rows, cols] float32 matrix of N(0, 1) draws, transposed when wide so it
 * is tall (m × n, m ≥ n); Q of its QR with each column's sign set so R's diagonal is positive (what
 * `q *= sign(diag(r))` does); transposed back, times gain. Gram–Schmidt, run twice per column for
 * float64 accuracy ("twice is enough"), gives that Q directly: its R has a positive diagonal by
 * construction, and the QR with a positive diagonal is unique.
 */
function orthogonal(out: Float32Array, rows: number, cols: number, gain: number, random: Random): void {
  random.fillNormal(out, 1);
  const wide = rows < cols;
  const [m, n] = wide ? [cols, rows] : [rows, cols];
  // The tall matrix's columns: column j of A is row j of a wide W.
  const q = Array.from({ length: n }, (_, j) => Float64Array.from({ length: m }, (_, i) => (wide ? out[j * cols + i] : out[i * cols + j])));
  for (let j = 0; j < n; j++) {
    const v = q[j];
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let i = 0; i < m; i++) dot += q[k][i] * v[i];
        for (let i = 0; i < m; i++) v[i] -= dot * q[k][i];
      }
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += v[i] * v[i];
    norm = Math.sqrt(norm);
    for (let i = 0; i < m; i++) v[i] /= norm;
  }
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < m; i++) {
      if (wide) out[j * cols + i] = gain * q[j][i];
      else out[i * cols + j] = gain * q[j][i];
    }
  }
}

/**
 * A fresh parameter block for `layout` under `init`: Linear by Linear, first to last, the weight
 * ([out, in], fan_in = in) then the bias, each drawn in order from `random`. For `pytorch` this is
 * exactly the sequence of draws actlab made before --init existed.
 */
export function initialParameters(
  layout: ParameterLayout, init: InitName, gain: number, random: Random, block: Float32Array = new Float32Array(layout.size),
): Float32Array {
  const scheme: InitScheme = INIT_SCHEMES[init];
  if (block.length !== layout.size) throw new Error(`a block of ${block.length} floats for a layout of ${layout.size}`);
  for (const linear of layout.linears) {
    const { weight, bias } = linear;
    drawTensor(block.subarray(weight.offset, weight.offset + weight.size), linear.outSize, linear.inSize, scheme.weight(linear.inSize, linear.outSize, gain), random);
    drawTensor(block.subarray(bias.offset, bias.offset + bias.size), 1, linear.outSize, scheme.bias(linear.inSize), random);
  }
  // Norm modules start as PyTorch's reset_parameters and reset_running_stats leave them; they draw
  // nothing, so the Linears' draws are the same with or without norm.
  for (const norm of layout.norms) {
    tensorView(block, norm.weight).fill(1);
    tensorView(block, norm.bias).fill(0);
    if (norm.runningMean) tensorView(block, norm.runningMean).fill(0);
    if (norm.runningVar) tensorView(block, norm.runningVar).fill(1);
    if (norm.numBatchesTracked) tensorView(block, norm.numBatchesTracked).fill(0);
  }
  return block;
}
