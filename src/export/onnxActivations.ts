// Every activation as ONNX opset-17 operators: one entry per name, each a small graph from the
// activation's input to its output that computes what the PyTorch module computes. Where opset 17
// has the operator with PyTorch's meaning it is used as is; the rest are built from primitives
// (opset 17 has no Gelu or Mish, and its Softplus lacks PyTorch's threshold).
// Adding an activation is one line here; test/onnx.test.ts checks that every name in the catalogue
// (src/activations.ts) has its line.
import { RRELU_EVAL_SLOPE } from "../activations.js";
import { float, type GraphBuilder } from "./onnxGraph.js";

/** What an activation module may need besides its input. */
export interface ActivationContext {
  /** leaky_relu's negative slope, from the checkpoint's metadata. */
  leakySlope: number;
  /** A learnable tensor of this activation's module, by state_dict suffix ("weight" for PReLU), as an initializer. */
  parameter(suffix: string): string;
}

/** Emits the nodes of one activation applied to `x`; returns the name of the result. */
export type OnnxActivation = (g: GraphBuilder, x: string, context: ActivationContext) => string;

// PyTorch's constants, as the kernels use them (assembly/activationMath.ts).
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;
const SOFTPLUS_THRESHOLD = 20;

/**
 * nn.Softplus(beta=1, threshold=20): x itself above the threshold, log(1 + eˣ) below. ONNX's
 * Softplus has no threshold; in float32 the two agree there anyway (log1p(e⁻ˣ) < 2·10⁻⁹ is under half
 * an ulp of x ≥ 20), but an exporter should not lean on how a runtime evaluates Softplus.
 */
function torchSoftplus(g: GraphBuilder, x: string): string {
  return g.op("Where", [g.op("Greater", [x, g.scalar(SOFTPLUS_THRESHOLD)]), x, g.op("Softplus", [x])]);
}

/** max(lo, min(hi, x)): Clip takes its bounds as inputs since opset 11. */
const clip = (g: GraphBuilder, x: string, lo: number, hi: number) => g.op("Clip", [x, g.scalar(lo), g.scalar(hi)]);

export const ONNX_ACTIVATIONS: Readonly<Record<string, OnnxActivation>> = {
  sigmoid: (g, x) => g.op("Sigmoid", [x]),
  tanh: (g, x) => g.op("Tanh", [x]),
  relu: (g, x) => g.op("Relu", [x]),
  leaky_relu: (g, x, c) => g.op("LeakyRelu", [x], { alpha: float(c.leakySlope) }),
  elu: (g, x) => g.op("Elu", [x], { alpha: float(1) }),
  selu: (g, x) => g.op("Selu", [x], { alpha: float(SELU_ALPHA), gamma: float(SELU_SCALE) }),
  // Exact GELU, x · ½(1 + erf(x/√2)), as PyTorch's approximate='none' computes it (x · M_SQRT1_2).
  gelu: (g, x) => g.op("Mul", [x, g.op("Mul", [g.scalar(0.5), g.op("Add", [g.scalar(1), g.op("Erf", [g.op("Mul", [x, g.scalar(Math.SQRT1_2)])])])])]),
  silu: (g, x) => g.op("Mul", [x, g.op("Sigmoid", [x])]),
  softplus: (g, x) => torchSoftplus(g, x),
  // PyTorch's mish is x · tanh(log1p(eˣ)), with no threshold; tanh is 1 in float32 long before it would matter.
  mish: (g, x) => g.op("Mul", [x, g.op("Tanh", [g.op("Softplus", [x])])]),
  hardtanh: (g, x) => clip(g, x, -1, 1),
  softsign: (g, x) => g.op("Softsign", [x]),
  // The activations of issue 11, ready for when the catalogue names them.
  celu: (g, x) => g.op("Celu", [x], { alpha: float(1) }),
  relu6: (g, x) => clip(g, x, 0, 6),
  hardsigmoid: (g, x) => g.op("HardSigmoid", [x], { alpha: float(1 / 6), beta: float(0.5) }),
  hardswish: (g, x) => g.op("HardSwish", [x]),
  logsigmoid: (g, x) => g.op("Neg", [g.op("Softplus", [g.op("Neg", [x])])]),
  tanhshrink: (g, x) => g.op("Sub", [x, g.op("Tanh", [x])]),
  softshrink: (g, x) => g.op("Shrink", [x], { lambd: float(0.5), bias: float(0.5) }),
  hardshrink: (g, x) => g.op("Shrink", [x], { lambd: float(0.5), bias: float(0) }),
  prelu: (g, x, c) => g.op("PRelu", [x, c.parameter("weight")]),
  // nn.RReLU in eval mode (an exported model is one) is a leaky relu with the mean of its random slopes.
  rrelu: (g, x) => g.op("LeakyRelu", [x], { alpha: float(RRELU_EVAL_SLOPE) }),
  sin: (g, x) => g.op("Sin", [x]),
  gaussian: (g, x) => g.op("Exp", [g.op("Neg", [g.op("Mul", [x, x])])]),
};

export function onnxActivation(name: string): OnnxActivation {
  // Own keys only: "toString" is not an activation.
  const build = Object.hasOwn(ONNX_ACTIVATIONS, name) ? ONNX_ACTIVATIONS[name] : undefined;
  if (!build) throw new Error(`ONNX export: no ONNX form for the activation "${name}" (add it to src/export/onnxActivations.ts)`);
  return build;
}
