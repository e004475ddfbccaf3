// The catalogue of activations: what each one is called, what it computes, and what it is known for.
// The numbers themselves (values, derivatives, ranges) always come from the kernels in
// assembly/activations.ts; this file holds the words around them.

export const ACTIVATION_NAMES = [
  "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu",
  "gelu", "silu", "softplus", "mish", "hardtanh", "softsign",
] as const;

export type ActivationName = (typeof ACTIVATION_NAMES)[number];

export const DEFAULT_LEAKY_SLOPE = 0.01;

export interface ActivationInfo {
  name: ActivationName;
  /** The PyTorch module the kernels reproduce. */
  torchModule: string;
  formula: string;
  /** Zero-centred output: the mean activation of symmetric inputs is near 0. */
  zeroCentered: boolean;
  /** Where the derivative goes to 0 (the gradient vanishes). */
  saturates: "both sides" | "negative side" | "no";
  /** Whether units can die: a zero derivative over a whole half-line. */
  deadUnits: boolean;
  /** Sigmoid-like: "saturated" means the derivative is below 1% of its maximum. */
  saturationDiagnostic: boolean;
  /** Relu-like: "dead" means never positive over the test set. */
  deadUnitDiagnostic: boolean;
}

export const ACTIVATIONS: Readonly<Record<ActivationName, ActivationInfo>> = {
  sigmoid: { name: "sigmoid", torchModule: "nn.Sigmoid()", formula: "1 / (1 + exp(-x))", zeroCentered: false, saturates: "both sides", deadUnits: false, saturationDiagnostic: true, deadUnitDiagnostic: false },
  tanh: { name: "tanh", torchModule: "nn.Tanh()", formula: "(exp(x) - exp(-x)) / (exp(x) + exp(-x))", zeroCentered: true, saturates: "both sides", deadUnits: false, saturationDiagnostic: true, deadUnitDiagnostic: false },
  relu: { name: "relu", torchModule: "nn.ReLU()", formula: "max(0, x)", zeroCentered: false, saturates: "negative side", deadUnits: true, saturationDiagnostic: false, deadUnitDiagnostic: true },
  leaky_relu: { name: "leaky_relu", torchModule: "nn.LeakyReLU(negative_slope)", formula: "x if x > 0 else slope * x", zeroCentered: false, saturates: "no", deadUnits: false, saturationDiagnostic: false, deadUnitDiagnostic: true },
  elu: { name: "elu", torchModule: "nn.ELU(alpha=1.0)", formula: "x if x > 0 else exp(x) - 1", zeroCentered: true, saturates: "negative side", deadUnits: false, saturationDiagnostic: false, deadUnitDiagnostic: true },
  selu: { name: "selu", torchModule: "nn.SELU()", formula: "1.0507 * (x if x > 0 else 1.6733 * (exp(x) - 1))", zeroCentered: true, saturates: "negative side", deadUnits: false, saturationDiagnostic: false, deadUnitDiagnostic: true },
  gelu: { name: "gelu", torchModule: "nn.GELU(approximate='none')", formula: "x * Φ(x) = 0.5 * x * (1 + erf(x / √2))", zeroCentered: false, saturates: "negative side", deadUnits: false, saturationDiagnostic: false, deadUnitDiagnostic: true },
  silu: { name: "silu", torchModule: "nn.SiLU()", formula: "x * sigmoid(x)", zeroCentered: false, saturates: "negative side", deadUnits: false, saturationDiagnostic: false, deadUnitDiagnostic: true },
  softplus: { name: "softplus", torchModule: "nn.Softplus(beta=1, threshold=20)", formula: "log(1 + exp(x))", zeroCentered: false, saturates: "negative side", deadUnits: false, saturationDiagnostic: false, deadUnitDiagnostic: false },
  mish: { name: "mish", torchModule: "nn.Mish()", formula: "x * tanh(softplus(x))", zeroCentered: false, saturates: "negative side", deadUnits: false, saturationDiagnostic: false, deadUnitDiagnostic: true },
  hardtanh: { name: "hardtanh", torchModule: "nn.Hardtanh(-1, 1)", formula: "clamp(x, -1, 1)", zeroCentered: true, saturates: "both sides", deadUnits: true, saturationDiagnostic: true, deadUnitDiagnostic: false },
  softsign: { name: "softsign", torchModule: "nn.Softsign()", formula: "x / (1 + |x|)", zeroCentered: true, saturates: "both sides", deadUnits: false, saturationDiagnostic: true, deadUnitDiagnostic: false },
};

export function isActivationName(name: string): name is ActivationName {
  return (ACTIVATION_NAMES as readonly string[]).includes(name);
}
