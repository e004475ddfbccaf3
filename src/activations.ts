// The catalogue of activations: one entry per activation, and the only list of them on the
// TypeScript side. An entry says what the activation is called, which PyTorch module it reproduces,
// its formula and properties, its parameter with the default, and a float64 scalar reference: the
// value and the derivative defined together (micrograd's op-with-its-backward, TensorFlow
// Playground's {output, der}), with PyTorch's derivative at kinks.
//
// The fast kernels are the pair <name>Forward4/<name>Backward4 in assembly/activationMath.ts; the
// build derives everything else in the assembly from those pairs. test/kernelsVsReference.test.ts
// fails when the catalogue and the kernels' exports name different activations, and holds every
// kernel to the reference below. The README's "How it is built" has the recipe for adding one.

/** A float64 scalar reference, the value and its derivative together; p is the entry's parameter. */
export interface ScalarReference {
  output(x: number, p: number): number;
  /** df/dx; at a kink, the one-sided value PyTorch's autograd gives. */
  der(x: number, p: number): number;
  /**
   * The inputs over which the f32 kernels hold output and der to a few ulp (test/vectorMath.test.ts):
   * as wide as the kernel stays that close, so the tails are checked too.
   */
  window: readonly [number, number];
  /** Where the derivative jumps (its value there is PyTorch's convention); none if it is continuous. */
  kinks?: readonly number[];
}

/** An activation's one tunable constant, as PyTorch's module names it. */
export interface ActivationParameter {
  /** PyTorch's argument name (the fixtures' key): "negative_slope". */
  name: string;
  default: number;
  description: string;
}

interface ActivationSpec {
  /** The PyTorch module the kernels reproduce. */
  torchModule: string;
  formula: string;
  /** Zero-centred output: the mean activation of symmetric inputs is near 0. */
  zeroCentered: boolean;
  /** Where the derivative goes to 0 (the gradient vanishes). */
  saturates: "both sides" | "negative side" | "positive side" | "no";
  /** Whether units can die: a zero derivative over a whole half-line. */
  deadUnits: boolean;
  /** Sigmoid-like: "saturated" means the derivative is below 1% of its maximum. */
  saturationDiagnostic: boolean;
  /** Relu-like: "dead" means never positive over the test set. */
  deadUnitDiagnostic: boolean;
  /** The parameter the kernels take as `param`; none for most activations (then param is ignored). */
  parameter?: ActivationParameter;
  /**
   * A learned parameter: the activation module has a state_dict tensor `weight` of shape [1] (one
   * per layer, as nn.PReLU() has), initialised to `parameter.default` and trained with the weights.
   */
  learned?: true;
  /**
   * Random slopes (nn.RReLU): in training each element with x ≤ 0 is multiplied by a slope of its
   * own, drawn from U(lower, upper) at every forward pass, and its derivative is that slope; in
   * eval mode the slope is their mean (lower + upper)/2. `reference` and the kernel pair are eval
   * mode's; the engine draws and applies the training slopes (Mlp.forward).
   */
  randomSlope?: { lower: number; upper: number };
  reference: ScalarReference;
}

// Constants of the references, as PyTorch defines them.
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;
/** nn.Softplus's threshold: above it, softplus(x) = x and its derivative is 1. */
const SOFTPLUS_THRESHOLD = 20;
/** nn.CELU's alpha and nn.Softshrink's/nn.Hardshrink's lambd: PyTorch's defaults, fixed (not tunable). */
const CELU_ALPHA = 1;
const SHRINK_LAMBDA = 0.5;
/** hardsigmoid's slope as PyTorch's backward has it: 1/6 rounded to float32, even in float64. */
const HARDSIGMOID_SLOPE = Math.fround(1 / 6);
/** nn.RReLU's defaults: the training slopes' range, and eval mode's slope, their mean 11/48. */
const RRELU_SLOPES = { lower: 1 / 8, upper: 1 / 3 };
export const RRELU_EVAL_SLOPE = (RRELU_SLOPES.lower + RRELU_SLOPES.upper) / 2;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const softplus = (x: number) => (x > SOFTPLUS_THRESHOLD ? x : Math.log1p(Math.exp(x)));
const clamp = (x: number, lo: number, hi: number) => (x < lo ? lo : x > hi ? hi : x);
const normalPdf = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
/** Φ(x) = ½·erfc(−x/√2), accurate in both tails. */
const normalCdf = (x: number) => 0.5 * erfc(-x / Math.SQRT2);

/** erfc in float64: the Maclaurin series of erf where it converges well, a continued fraction beyond. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (Math.abs(x) < 3) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) <= 1e-17 * Math.abs(sum)) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (x < 0) return 2 - erfc(-x);
  // erfc(x) = e^(−x²)/√π / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated from the bottom.
  let t = x;
  for (let k = 120; k >= 1; k--) t = x + k / 2 / t;
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * t);
}

/** The leaky_relu slope for x < 0 when none is given: nn.LeakyReLU's negative_slope default. */
export const DEFAULT_LEAKY_SLOPE = 0.01;

const CATALOGUE = {
  sigmoid: {
    torchModule: "nn.Sigmoid()", formula: "1 / (1 + exp(-x))",
    zeroCentered: false, saturates: "both sides", deadUnits: false, saturationDiagnostic: true, deadUnitDiagnostic: false,
    reference: { output: sigmoid, der: (x) => sigmoid(x) * (1 - sigmoid(x)), window: [-80, 80] },
  },
  tanh: {
    torchModule: "nn.Tanh()", formula: "(exp(x) - exp(-x)) / (exp(x) + exp(-x))",
    zeroCentered: true, saturates: "both sides", deadUnits: false, saturationDiagnostic: true, deadUnitDiagnostic: false,
    reference: { output: Math.tanh, der: (x) => 1 - Math.tanh(x) ** 2, window: [-12, 12] },
  },
  relu: {
    torchModule: "nn.ReLU()", formula: "max(0, x)",
    zeroCentered: false, saturates: "negative side", deadUnits: true, saturationDiagnostic: false, deadUnitDiagnostic: true,
    // relu'(0) = 0, as PyTorch's threshold_backward gives.
    reference: { output: (x) => (x < 0 ? 0 : x), der: (x) => (x > 0 ? 1 : 0), window: [-10, 10], kinks: [0] },
  },
  leaky_relu: {
    torchModule: "nn.LeakyReLU(negative_slope)", formula: "x if x > 0 else slope * x",
    zeroCentered: false, saturates: "no", deadUnits: false, saturationDiagnostic: false, deadUnitDiagnostic: true,
    parameter: { name: "negative_slope", default: DEFAULT_LEAKY_SLOPE, description: "leaky_relu's slope for x < 0" },
    // leaky_relu'(0) = slope (the x ≤ 0 branch).
    reference: { output: (x, slope) => (x > 0 ? x : slope * x), der: (x, slope) => (x > 0 ? 1 : slope), window: [-10, 10], kinks: [0] },
  },
  elu: {
    torchModule: "nn.ELU(alpha=1.0)", formula: "x if x > 0 else exp(x) - 1",
    zeroCentered: true, saturates: "negative side", deadUnits: false, saturationDiagnostic: false, deadUnitDiagnostic: true,
    // elu'(0) = alpha = 1 (the x ≤ 0 branch).
    reference: { output: (x) => (x > 0 ? x : Math.expm1(x)), der: (x) => (x > 0 ? 1 : Math.exp(x)), window: [-40, 10] },
  },
  selu: {
    torchModule: "nn.SELU()", formula: "1.0507 * (x if x > 0 else 1.6733 * (exp(x) - 1))",
    zeroCentered: true, saturates: "negative side", deadUnits: false, saturationDiagnostic: false, deadUnitDiagnostic: true,
    // selu'(0) = scale·alpha (the x ≤ 0 branch).
    reference: {
      output: (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)),
      der: (x) => SELU_SCALE * (x > 0 ? 1 : SELU_ALPHA * Math.exp(x)),
      window: [-40, 10],
      kinks: [0],
    },
  },
  gelu: {
    torchModule: "nn.GELU(approximate='none')", formula: "x * Φ(x) = 0.5 * x * (1 + erf(x / √2))",
    zeroCentered: false, saturates: "negative side", deadUnits: false, saturationDiagnostic: false, deadUnitDiagnostic: true,
    reference: { output: (x) => x * normalCdf(x), der: (x) => normalCdf(x) + x * normalPdf(x), window: [-5.5, 5.5] },
  },
  silu: {
    torchModule: "nn.SiLU()", formula: "x * sigmoid(x)",
    zeroCentered: false, saturates: "negative side", deadUnits: false, saturationDiagnostic: false, deadUnitDiagnostic: true,
    reference: { output: (x) => x * sigmoid(x), der: (x) => sigmoid(x) * (1 + x * (1 - sigmoid(x))), window: [-40, 40] },
  },
  softplus: {
    torchModule: "nn.Softplus(beta=1, threshold=20)", formula: "log(1 + exp(x))",
    zeroCentered: false, saturates: "negative side", deadUnits: false, saturationDiagnostic: false, deadUnitDiagnostic: false,
    reference: { output: softplus, der: (x) => (x > SOFTPLUS_THRESHOLD ? 1 : sigmoid(x)), window: [-80, 40] },
  },
  mish: {
    torchModule: "nn.Mish()", formula: "x * tanh(softplus(x))",
    zeroCentered: false, saturates: "negative side", deadUnits: false, saturationDiagnostic: false, deadUnitDiagnostic: true,
    reference: {
      // PyTorch's softplus inside mish has no threshold: log1p(e^x).
      output: (x) => x * Math.tanh(Math.log1p(Math.exp(x))),
      der: (x) => {
        const t = Math.tanh(Math.log1p(Math.exp(x)));
        return t + x * sigmoid(x) * (1 - t * t);
      },
      window: [-40, 40],
    },
  },
  hardtanh: {
    torchModule: "nn.Hardtanh(-1, 1)", formula: "clamp(x, -1, 1)",
    zeroCentered: true, saturates: "both sides", deadUnits: true, saturationDiagnostic: true, deadUnitDiagnostic: false,
    // hardtanh'(±1) = 0: PyTorch's hardtanh_backward passes the gradient strictly inside (−1, 1).
    reference: { output: (x) => (x < -1 ? -1 : x > 1 ? 1 : x), der: (x) => (x > -1 && x < 1 ? 1 : 0), window: [-3, 3], kinks: [-1, 1] },
  },
  softsign: {
    torchModule: "nn.Softsign()", formula: "x / (1 + |x|)",
    zeroCentered: true, saturates: "both sides", deadUnits: false, saturationDiagnostic: true, deadUnitDiagnostic: false,
    reference: { output: (x) => x / (1 + Math.abs(x)), der: (x) => 1 / (1 + Math.abs(x)) ** 2, window: [-100, 100] },
  },
  celu: {
    torchModule: "nn.CELU(alpha=1.0)", formula: "x if x > 0 else alpha * (exp(x / alpha) - 1)",
    zeroCentered: true, saturates: "negative side", deadUnits: false, saturationDiagnostic: false, deadUnitDiagnostic: true,
    // celu'(0) = 1: PyTorch runs celu as elu with input scale 1/alpha (the x ≤ 0 branch, e^0).
    reference: {
      output: (x) => (x > 0 ? x : CELU_ALPHA * Math.expm1(x / CELU_ALPHA)),
      der: (x) => (x > 0 ? 1 : Math.exp(x / CELU_ALPHA)),
      window: [-40, 10],
    },
  },
  relu6: {
    torchModule: "nn.ReLU6()", formula: "min(max(0, x), 6)",
    zeroCentered: false, saturates: "both sides", deadUnits: true, saturationDiagnostic: false, deadUnitDiagnostic: true,
    // relu6'(0) = relu6'(6) = 0: PyTorch's relu6 is hardtanh(0, 6), whose gradient passes strictly inside.
    reference: { output: (x) => clamp(x, 0, 6), der: (x) => (x > 0 && x < 6 ? 1 : 0), window: [-10, 10], kinks: [0, 6] },
  },
  hardsigmoid: {
    torchModule: "nn.Hardsigmoid()", formula: "min(max(x + 3, 0), 6) / 6",
    zeroCentered: false, saturates: "both sides", deadUnits: true, saturationDiagnostic: true, deadUnitDiagnostic: false,
    // hardsigmoid'(±3) = 0 (strictly inside only), and the slope is float32's 1/6 even in float64.
    reference: { output: (x) => clamp(x + 3, 0, 6) / 6, der: (x) => (x > -3 && x < 3 ? HARDSIGMOID_SLOPE : 0), window: [-6, 6], kinks: [-3, 3] },
  },
  hardswish: {
    torchModule: "nn.Hardswish()", formula: "x * min(max(x + 3, 0), 6) / 6",
    zeroCentered: false, saturates: "negative side", deadUnits: true, saturationDiagnostic: false, deadUnitDiagnostic: true,
    // hardswish'(−3) = −0.5 and hardswish'(3) = 1: PyTorch's vectorised backward takes x/3 + 1/2
    // on [−3, 3) and 1 from 3 on (its scalar path, for tensors under 16 floats, gives 1.5 at 3).
    reference: {
      output: (x) => (x * clamp(x + 3, 0, 6)) / 6,
      der: (x) => (x < -3 ? 0 : x < 3 ? x / 3 + 0.5 : 1),
      window: [-10, 10],
      kinks: [-3, 3],
    },
  },
  logsigmoid: {
    torchModule: "nn.LogSigmoid()", formula: "log(1 / (1 + exp(-x)))",
    zeroCentered: false, saturates: "positive side", deadUnits: false, saturationDiagnostic: true, deadUnitDiagnostic: false,
    reference: {
      output: (x) => (x < 0 ? x - Math.log1p(Math.exp(x)) : -Math.log1p(Math.exp(-x))),
      der: (x) => sigmoid(-x),
      window: [-80, 80],
    },
  },
  tanhshrink: {
    torchModule: "nn.Tanhshrink()", formula: "x - tanh(x)",
    // f' = tanh² vanishes only around 0: units stuck there learn slowly, which "saturated" measures.
    zeroCentered: true, saturates: "no", deadUnits: false, saturationDiagnostic: true, deadUnitDiagnostic: false,
    reference: { output: (x) => x - Math.tanh(x), der: (x) => Math.tanh(x) ** 2, window: [-100, 100] },
  },
  softshrink: {
    torchModule: "nn.Softshrink(lambd=0.5)", formula: "x - lambd if x > lambd, x + lambd if x < -lambd, else 0",
    // f' = 0 on [−lambd, lambd]: a dead zone in the middle, not a half-line; "saturated" measures it.
    zeroCentered: true, saturates: "no", deadUnits: false, saturationDiagnostic: true, deadUnitDiagnostic: false,
    // softshrink'(±lambd) = 0: PyTorch's backward zeroes [−lambd, lambd], the ends included.
    reference: {
      output: (x) => (x > SHRINK_LAMBDA ? x - SHRINK_LAMBDA : x < -SHRINK_LAMBDA ? x + SHRINK_LAMBDA : Number.isNaN(x) ? x : 0),
      der: (x) => (x >= -SHRINK_LAMBDA && x <= SHRINK_LAMBDA ? 0 : 1),
      window: [-10, 10],
      kinks: [-SHRINK_LAMBDA, SHRINK_LAMBDA],
    },
  },
  hardshrink: {
    torchModule: "nn.Hardshrink(lambd=0.5)", formula: "x if |x| > lambd else 0",
    zeroCentered: true, saturates: "no", deadUnits: false, saturationDiagnostic: true, deadUnitDiagnostic: false,
    // hardshrink'(±lambd) = 0, and hardshrink(±lambd) = 0: the ends belong to the zeroed interval.
    reference: {
      output: (x) => (x >= -SHRINK_LAMBDA && x <= SHRINK_LAMBDA ? 0 : x),
      der: (x) => (x >= -SHRINK_LAMBDA && x <= SHRINK_LAMBDA ? 0 : 1),
      window: [-10, 10],
      kinks: [-SHRINK_LAMBDA, SHRINK_LAMBDA],
    },
  },
  sin: {
    torchModule: "torch.sin (SIREN)", formula: "sin(x)",
    zeroCentered: true, saturates: "no", deadUnits: false, saturationDiagnostic: false, deadUnitDiagnostic: false,
    reference: { output: Math.sin, der: Math.cos, window: [-1000, 1000] },
  },
  gaussian: {
    torchModule: "torch.exp(-x * x)", formula: "exp(-x^2)",
    zeroCentered: false, saturates: "both sides", deadUnits: false, saturationDiagnostic: true, deadUnitDiagnostic: false,
    reference: { output: (x) => Math.exp(-x * x), der: (x) => -2 * x * Math.exp(-x * x), window: [-10, 10] },
  },
  prelu: {
    torchModule: "nn.PReLU()", formula: "x if x > 0 else a * x, a learned (one per layer, initially 0.25)",
    zeroCentered: false, saturates: "no", deadUnits: false, saturationDiagnostic: false, deadUnitDiagnostic: true,
    parameter: { name: "weight", default: 0.25, description: "PReLU's slope for x < 0 before training (learned, one per layer)" },
    learned: true,
    // prelu'(0) = a (the x ≤ 0 branch), as leaky_relu's.
    reference: { output: (x, a) => (x > 0 ? x : a * x), der: (x, a) => (x > 0 ? 1 : a), window: [-10, 10], kinks: [0] },
  },
  rrelu: {
    torchModule: "nn.RReLU(lower=1/8, upper=1/3)",
    formula: "x if x > 0 else a * x, a ~ U(1/8, 1/3) per element in training, 11/48 in eval",
    zeroCentered: false, saturates: "no", deadUnits: false, saturationDiagnostic: false, deadUnitDiagnostic: true,
    randomSlope: RRELU_SLOPES,
    // Eval mode: leaky_relu at 11/48, and rrelu'(0) = 11/48 (the x ≤ 0 branch). In training PyTorch
    // draws a slope for every x ≤ 0, 0 included, so rrelu'(0) is that element's slope there.
    reference: {
      output: (x) => (x > 0 ? x : RRELU_EVAL_SLOPE * x), der: (x) => (x > 0 ? 1 : RRELU_EVAL_SLOPE), window: [-10, 10], kinks: [0],
    },
  },
} satisfies Record<string, ActivationSpec>;

export type ActivationName = keyof typeof CATALOGUE;

/** Every activation, in the catalogue's order (the order of plots and tables). */
export const ACTIVATION_NAMES = Object.keys(CATALOGUE) as readonly ActivationName[];

export interface ActivationInfo extends ActivationSpec {
  name: ActivationName;
}

export const ACTIVATIONS: Readonly<Record<ActivationName, ActivationInfo>> = Object.fromEntries(
  ACTIVATION_NAMES.map((name) => [name, { name, ...(CATALOGUE[name] as ActivationSpec) }]),
) as Record<ActivationName, ActivationInfo>;

export function isActivationName(name: string): name is ActivationName {
  return Object.hasOwn(CATALOGUE, name);
}

/** The value the kernels take as `param` for an activation: its parameter, or its default when not given. */
export function activationParam(name: ActivationName, value?: number): number {
  const parameter = ACTIVATIONS[name].parameter;
  return parameter ? (value ?? parameter.default) : 0;
}
