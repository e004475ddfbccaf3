// Why a net learns or not, per epoch: gradient and update sizes per layer, and what the hidden
// units do over the test set (dead units for relu-like activations, saturated ones for
// sigmoid-like ones). Derivatives come from the activation's own backward kernel.
import { ACTIVATIONS } from "../activations.js";
import { activationCurve, grid } from "../engine/curves.js";
import type { DenseLayer, Mlp } from "../engine/mlp.js";
import { tensorView } from "../layout.js";

// The diagnostics are written into metrics.jsonl: their shape is defined with the run folder's formats.
import type { EpochDiagnostics, HiddenDiagnostics, LayerDiagnostics } from "../runFormat.js";
export type { EpochDiagnostics, HiddenDiagnostics, LayerDiagnostics };

/** A unit is saturated where f'(z) < SATURATION_LEVEL · max f'. */
export const SATURATION_LEVEL = 0.01;

const maxDerivativeCache = new Map<string, number>();

/** The largest derivative the backward kernel produces on [−10, 10]. */
export function maxDerivative(activation: keyof typeof ACTIVATIONS, leakySlope: number): number {
  const key = `${activation}:${leakySlope}`;
  let value = maxDerivativeCache.get(key);
  if (value === undefined) {
    value = Math.max(...activationCurve(activation, grid(-10, 10, 4001), leakySlope).dydx);
    maxDerivativeCache.set(key, value);
  }
  return value;
}

/** Per-unit counters over an evaluation pass, fed one batch at a time. */
export class UnitStatistics {
  private readonly everPositive: Uint8Array[];
  private readonly saturatedCounts: Uint32Array[];
  /** The activation modules of the parameter layout, each with the Linear layer whose output it reads. */
  private readonly activations: Array<{ linear: DenseLayer; width: number }>;
  private samples = 0;
  private readonly trackDead: boolean;
  private readonly trackSaturation: boolean;
  private readonly threshold: number;

  constructor(private readonly model: Mlp) {
    const info = ACTIVATIONS[model.config.activation];
    this.trackDead = info.deadUnitDiagnostic;
    this.trackSaturation = info.saturationDiagnostic;
    this.activations = model.layout.modules.flatMap((m) => (m.kind === "activation" ? [{ linear: model.layers[m.linear], width: m.width }] : []));
    this.everPositive = this.activations.map((a) => new Uint8Array(a.width));
    this.saturatedCounts = this.activations.map((a) => new Uint32Array(a.width));
    this.threshold = this.trackSaturation ? SATURATION_LEVEL * maxDerivative(model.config.activation, model.config.leakySlope) : 0;
  }

  reset(): void {
    this.samples = 0;
    this.everPositive.forEach((a) => a.fill(0));
    this.saturatedCounts.forEach((a) => a.fill(0));
  }

  /** Reads the hidden activations of the batch the model has just run forward. */
  observe(count: number): void {
    const { model } = this;
    const backward = model.kernels.activationBackward(model.config.activation);
    // The model reserved this scratch when it was built: observing allocates no wasm memory.
    const { ones, derivative, floats } = model.diagnosticScratch;
    this.samples += count;
    this.activations.forEach(({ linear, width }, h) => {
      if (this.trackDead) {
        const a = model.kernels.floats(linear.A, count * width);
        const alive = this.everPositive[h];
        for (let i = 0; i < a.length; i++) if (a[i] > 0) alive[i % width] = 1;
      }
      if (this.trackSaturation) {
        // f'(z) a piece of the batch at a time, through scratch the model reserved (256 KB, not the batch's size).
        const counts = this.saturatedCounts[h];
        const total = count * width;
        for (let start = 0; start < total; start += floats) {
          const n = Math.min(floats, total - start);
          backward(derivative, ones, linear.Z + start * 4, linear.A + start * 4, n, model.config.leakySlope);
          const d = model.kernels.floats(derivative, n);
          for (let i = 0; i < n; i++) if (Math.abs(d[i]) < this.threshold) counts[(start + i) % width]++;
        }
      }
    });
  }

  hidden(): HiddenDiagnostics[] {
    return this.everPositive.map((alive, h) => ({
      layer: this.activations[h].linear.linear + 1,
      dead_fraction: this.trackDead && this.samples > 0 ? alive.reduce((n, v) => n + (v ? 0 : 1), 0) / alive.length : null,
      saturated_fraction: this.trackSaturation && this.samples > 0
        ? this.saturatedCounts[h].reduce((n, c) => n + (c > this.samples / 2 ? 1 : 0), 0) / alive.length
        : null,
    }));
  }
}

function norm(values: Float32Array | Float64Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * values[i];
  return Math.sqrt(sum);
}

/**
 * ‖the last update‖ over floats from ... from + count − 1, summed in their order as norm() does, but
 * asked of the model in pieces: the whole update in float64 would be 33 MB for a 2048 × 2048 layer.
 * The pieces go into one buffer: a new one each (89 of 512 KB at 3 × 2048) lay outside V8's young
 * generation until a full collection, and kept 25 MB more resident from the second epoch's end on.
 */
function lastUpdateNorm(model: Mlp, from: number, count: number, piece: Float64Array): number {
  let sum = 0;
  for (let start = 0; start < count; start += piece.length) {
    const u = model.lastUpdate(from + start, Math.min(piece.length, count - start), piece);
    for (let i = 0; i < u.length; i++) sum += u[i] * u[i];
  }
  return Math.sqrt(sum);
}

function nonFinite(values: Float32Array): { nan: number; inf: number } {
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) nan++;
    else if (!Number.isFinite(v)) inf++;
  }
  return { nan, inf };
}

/**
 * `blocks`: the parameter and gradient blocks as Mlp.readBlocks lends them, where the caller reads
 * them already (the trainer makes its histograms in the same call); else read here the same way,
 * in place (copies would be two whole blocks, and each piece of the last update would turn the
 * model's layout on its own: Mlp.inPyTorchLayout).
 */
export function diagnoseEpoch(model: Mlp, units: UnitStatistics, blocks?: { params: Float32Array; grads: Float32Array }): EpochDiagnostics {
  if (!blocks) return model.readBlocks((params, grads) => diagnoseEpoch(model, units, { params, grads }));
  const { params, grads } = blocks;
  const piece = new Float64Array(65536);
  const layers = model.layout.linears.map((linear) => {
    const w = tensorView(params, linear.weight);
    const g = tensorView(grads, linear.weight);
    const updateNorm = lastUpdateNorm(model, linear.weight.offset, linear.weight.size, piece);
    const weightNorm = norm(w);
    const gradNorm = norm(g);
    const bad = [nonFinite(w), nonFinite(g)];
    return {
      layer: linear.linear + 1,
      weight_norm: weightNorm,
      grad_norm: gradNorm,
      grad_to_weight: gradNorm / weightNorm,
      update_to_weight: updateNorm / weightNorm,
      nan_count: bad[0].nan + bad[1].nan,
      inf_count: bad[0].inf + bad[1].inf,
    };
  });
  return { layers, hidden: units.hidden() };
}
