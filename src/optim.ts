// The optimisers, one table: each entry says which per-parameter state buffers it keeps (under
// PyTorch's optimizer.state names, so a checkpoint's tensors read as torch's), which knobs it takes
// and their defaults (PyTorch's, but SGD's lr and momentum are the notebook's), the kernel it runs,
// and what it is in PyTorch. The flags' choices and checks, the settings' defaults, the engine's
// state size, the checkpoints' tensor names and the README's table all read this table.
//
// Update rules: PyTorch 1.13's _single_tensor_{sgd,adam,adamw,rmsprop} (torch/optim/*.py); the
// float64 references beside the engine's other references (engine/reference.ts) spell them out.
import type { KernelExports } from "./engine/kernels.js";

export const OPTIMIZER_NAMES = ["sgd", "nesterov", "adam", "adamw", "rmsprop"] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/** The knobs an optimiser may take, by their settings names (the flags are --lr, --momentum, --weight-decay, --betas, --eps). */
export interface OptimizerHyper {
  lr: number;
  momentum: number;
  weightDecay: number;
  betas: [number, number];
  eps: number;
}
export type Knob = keyof OptimizerHyper;

/** A knob's flag and its PyTorch keyword: for messages and the README. */
export const KNOBS: Record<Knob, { flag: string; torch: string }> = {
  lr: { flag: "--lr", torch: "lr" },
  momentum: { flag: "--momentum", torch: "momentum" },
  weightDecay: { flag: "--weight-decay", torch: "weight_decay" },
  betas: { flag: "--betas", torch: "betas" },
  eps: { flag: "--eps", torch: "eps" },
};

/** Pointers the kernel needs: parameter, gradient and the state blocks, n floats each. */
export interface StepPointers {
  params: number;
  grads: number;
  state: number[];
  n: number;
}

export interface Optimizer {
  description: string;
  /** The PyTorch call this reproduces (the knobs it takes, as keywords). */
  torch: string;
  /** Per-parameter state buffers, each parameterCount floats, named as PyTorch's optimizer.state keys. */
  state: readonly string[];
  /** The knobs it takes and their defaults; a knob absent here is refused when typed. */
  defaults: Partial<OptimizerHyper> & { lr: number };
  /** Fixed constants of the PyTorch call that actlab does not expose. */
  fixed?: Record<string, number>;
  /** Runs the kernel; t is the step number, 1 on the first step (PyTorch's state["step"] after its increment). */
  step(k: KernelExports, p: StepPointers, h: OptimizerHyper, t: number): void;
  /**
   * Element i of the step just taken (p_before − p_after), from the state, gradient and parameters after
   * step t: what the diagnostics' update-to-weight ratio measures. Exact where the state holds the whole
   * step; where weight decay acts outside it (Nesterov's g + λp, AdamW's lr·λ·p) p_after stands for
   * p_before, a relative error of lr·λ in that term.
   */
  update(state: Float32Array[], g: Float32Array, p: Float32Array, h: OptimizerHyper, t: number, i: number): number;
}

/** RMSprop's smoothing constant, PyTorch's default (not a flag: one knob fewer to explain). */
export const RMSPROP_ALPHA = 0.99;

/** Adam's scalars in float64 from t, as PyTorch computes them in Python floats. */
function adamScalars(h: OptimizerHyper, t: number): { stepSize: number; bias2Sqrt: number } {
  const [beta1, beta2] = h.betas;
  return { stepSize: h.lr / (1 - beta1 ** t), bias2Sqrt: Math.sqrt(1 - beta2 ** t) };
}

/** Adam's step without weight decay, from its moments: lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + eps). */
function adamUpdate(state: Float32Array[], h: OptimizerHyper, t: number, i: number): number {
  const { stepSize, bias2Sqrt } = adamScalars(h, t);
  return (stepSize * state[0][i]) / (Math.sqrt(state[1][i]) / bias2Sqrt + h.eps);
}

const SGD_STEP = (nesterov: number) => (k: KernelExports, p: StepPointers, h: OptimizerHyper) =>
  k.sgdStep(p.params, p.grads, p.state[0], p.n, h.lr, h.momentum, h.weightDecay, nesterov);

/**
 * Adam's kernel call, its weight decay as L2 on the gradient (Adam) or decoupled (AdamW: PyTorch
 * multiplies p by 1 − lr·λ in the parameter's dtype; the factor itself is a Python float).
 */
const ADAM_STEP = (decoupled: boolean) => (k: KernelExports, p: StepPointers, h: OptimizerHyper, t: number) => {
  const { stepSize, bias2Sqrt } = adamScalars(h, t);
  k.adamStep(p.params, p.grads, p.state[0], p.state[1], p.n, h.betas[0], h.betas[1], 1 - h.betas[0], 1 - h.betas[1], h.eps,
    decoupled ? 0 : h.weightDecay, decoupled ? 1 - h.lr * h.weightDecay : 1, stepSize, bias2Sqrt);
};

export const OPTIMIZERS: Record<OptimizerName, Optimizer> = {
  sgd: {
    description: "SGD with momentum (the notebook's)",
    torch: "torch.optim.SGD(lr, momentum, weight_decay)",
    state: ["momentum_buffer"],
    defaults: { lr: 0.01, momentum: 0.9, weightDecay: 0 },
    step: SGD_STEP(0),
    update: (state, _g, _p, h, _t, i) => h.lr * state[0][i],
  },
  nesterov: {
    description: "SGD with Nesterov momentum",
    torch: "torch.optim.SGD(lr, momentum, weight_decay, nesterov=True)",
    state: ["momentum_buffer"],
    defaults: { lr: 0.01, momentum: 0.9, weightDecay: 0 },
    step: SGD_STEP(1),
    update: (state, g, p, h, _t, i) => h.lr * (g[i] + h.weightDecay * p[i] + h.momentum * state[0][i]),
  },
  adam: {
    description: "Adam, weight decay as L2 added to the gradient",
    torch: "torch.optim.Adam(lr, betas, eps, weight_decay)",
    state: ["exp_avg", "exp_avg_sq"],
    defaults: { lr: 0.001, weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8 },
    step: ADAM_STEP(false),
    update: (state, _g, _p, h, t, i) => adamUpdate(state, h, t, i),
  },
  adamw: {
    description: "AdamW: Adam with decoupled weight decay",
    torch: "torch.optim.AdamW(lr, betas, eps, weight_decay)",
    state: ["exp_avg", "exp_avg_sq"],
    defaults: { lr: 0.001, weightDecay: 0.01, betas: [0.9, 0.999], eps: 1e-8 },
    step: ADAM_STEP(true),
    update: (state, _g, p, h, t, i) => adamUpdate(state, h, t, i) + h.lr * h.weightDecay * p[i],
  },
  rmsprop: {
    description: "RMSprop (alpha 0.99, not centred)",
    torch: "torch.optim.RMSprop(lr, alpha=0.99, eps, weight_decay, momentum)",
    // momentum_buffer is kept even at momentum 0, where it holds the last step's g/(√s + eps):
    // one kernel path, and a state size that does not depend on a knob.
    state: ["square_avg", "momentum_buffer"],
    defaults: { lr: 0.01, momentum: 0, weightDecay: 0, eps: 1e-8 },
    fixed: { alpha: RMSPROP_ALPHA },
    step: (k, p, h) => k.rmspropStep(p.params, p.grads, p.state[0], p.state[1], p.n, h.lr, RMSPROP_ALPHA, 1 - RMSPROP_ALPHA, h.eps, h.weightDecay, h.momentum),
    update: (state, _g, _p, h, _t, i) => h.lr * state[1][i],
  },
};

/** Knob values no optimiser of the table sets a default for (Adam's, so a config.json always records every knob). */
const FALLBACK: OptimizerHyper = { lr: 0.01, momentum: 0, weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8 };

export function isOptimizerName(name: string): name is OptimizerName {
  return (OPTIMIZER_NAMES as readonly string[]).includes(name);
}

/** Floats of optimiser state per parameter: what the engine allocates beside the parameters. */
export function optimizerStateFloats(name: OptimizerName, parameterCount: number): number {
  return OPTIMIZERS[name].state.length * parameterCount;
}

/** The knobs an optimiser takes. */
export function knobsOf(name: OptimizerName): Knob[] {
  return Object.keys(OPTIMIZERS[name].defaults) as Knob[];
}

/** Every knob's value for `name`: what was given, else the optimiser's default, else the fallback. */
export function resolveHyper(name: OptimizerName, given: Partial<OptimizerHyper> = {}): OptimizerHyper {
  // Only the knobs, and only those given: a fixture's {lr, momentum, nesterov, ...} passes as it is.
  const defined = Object.fromEntries(Object.entries(given).filter(([key, v]) => key in KNOBS && v !== undefined));
  return { ...FALLBACK, ...OPTIMIZERS[name].defaults, ...defined };
}

/**
 * What is wrong with these knobs for this optimiser, one line each (empty: nothing). `typed` names the
 * knobs the user gave: a knob the optimiser does not take would be silently ignored, so it is refused.
 * Ranges follow PyTorch's own checks (torch/optim/*.py __init__), plus eps > 0: with eps = 0 a zero
 * gradient divides 0 by 0.
 */
export function hyperProblems(name: OptimizerName, h: OptimizerHyper, typed: Knob[] = []): string[] {
  const problems: string[] = [];
  const takes = knobsOf(name);
  for (const knob of typed.filter((k) => !takes.includes(k))) {
    problems.push(`${KNOBS[knob].flag} has no meaning for --optimizer ${name} (it takes ${takes.map((k) => KNOBS[k].flag).join(", ")})`);
  }
  if (!(h.lr > 0 && Number.isFinite(h.lr))) problems.push(`--lr must be a positive finite number; got ${h.lr}`);
  if (!(h.momentum >= 0 && Number.isFinite(h.momentum))) problems.push(`--momentum must be a finite number ≥ 0; got ${h.momentum}`);
  if (!(h.weightDecay >= 0 && Number.isFinite(h.weightDecay))) problems.push(`--weight-decay must be a finite number ≥ 0; got ${h.weightDecay}`);
  if (!(h.eps > 0 && Number.isFinite(h.eps))) problems.push(`--eps must be a positive finite number; got ${h.eps}`);
  if (!(h.betas.length === 2 && h.betas.every((b) => b >= 0 && b < 1))) problems.push(`--betas must be two numbers in [0, 1); got ${h.betas.join(",")}`);
  if (name === "nesterov" && h.momentum === 0) problems.push("--optimizer nesterov needs --momentum > 0 (PyTorch refuses Nesterov without momentum)");
  return problems;
}

/** The optimiser's state as the resumable state keeps it: its buffers (copies) and the step count. */
export interface OptimizerState {
  name: OptimizerName;
  /** Steps taken so far (Adam's t); 0 before the first. */
  step: number;
  /** One block per entry of OPTIMIZERS[name].state, in the parameter layout's order. */
  buffers: Float32Array[];
}
