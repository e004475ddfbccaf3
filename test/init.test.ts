// --init: every scheme against torch.nn.init's own numbers (init_gains.json), its draws against the
// distribution it claims (moments and a Kolmogorov–Smirnov test at a fixed seed), orthogonal_'s
// properties, the default's draws unchanged from before --init, and the flag through the real CLI.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { isActivationName } from "../src/activations.js";
import { readSafetensors } from "../src/checkpoint/safetensors.js";
import { Mlp } from "../src/engine/mlp.js";
import { InputError } from "../src/errors.js";
import { activationGain, drawTensor, INIT_NAMES, INIT_SCHEMES, initialParameters, type Distribution, type InitName } from "../src/init.js";
import { parameterLayout } from "../src/layout.js";
import { mlpConfig } from "../src/model.js";
import { Random } from "../src/random.js";
import { loadSavedRun } from "../src/train/runConfig.js";
import { REPO_ROOT } from "./support/fixtures.js";
import { actlab } from "./support/cliProcess.js";

interface InitFixture {
  gains: Array<{ name: string; param: number | null; gain?: number; raises?: { exception_type: string; message: string }; actlab_gain?: number }>;
  fans: Array<{ in: number; out: number; fan_in: number; fan_out: number }>;
  schemes: Array<{ scheme: string; in: number; out: number; activation: string; slope: number | null; gain: number; weight: Distribution; bias: Distribution }>;
  orthogonal: Array<{ in: number; out: number; gain: number; gram: string; max_gram_error_below: number; r_diagonal_positive: boolean; r_below_diagonal_max_below: number }>;
}
const FIXTURE = JSON.parse(readFileSync(join(REPO_ROOT, "test/fixtures/init_gains.json"), "utf8")) as InitFixture;

/** Relative agreement of two float64 numbers computed by different code: a few ulps. */
function assertClose(actual: number, expected: number, what: string, relative = 1e-15): void {
  assert.ok(Math.abs(actual - expected) <= relative * Math.abs(expected), `${what}: ${actual} vs PyTorch's ${expected}`);
}

// ------------------------------------------------------------------------------------------------
// Statistics

/** erf to 1.2e-7 absolute (Numerical Recipes' erfc, Chebyshev fit): far below the KS critical values here. */
function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - erfc : erfc - 1;
}

function cdfOf(distribution: Distribution): (x: number) => number {
  if (distribution.kind === "uniform") return (x) => Math.min(1, Math.max(0, (x + distribution.bound) / (2 * distribution.bound)));
  if (distribution.kind === "normal") return (x) => 0.5 * (1 + erf(x / (distribution.std * Math.SQRT2)));
  throw new Error(`no CDF for ${distribution.kind}`);
}

/** The Kolmogorov–Smirnov statistic D = sup |F_n(x) − F(x)|. */
function ksStatistic(values: ArrayLike<number>, cdf: (x: number) => number): number {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(sorted[i]);
    d = Math.max(d, f - i / n, (i + 1) / n - f);
  }
  return d;
}

/** The KS test's critical value at α = 0.001 for large n: 1.9495/√n (Smirnov's limit distribution). */
const ksCritical = (n: number) => 1.9495 / Math.sqrt(n);

function moments(values: ArrayLike<number>): { mean: number; variance: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i] - mean) ** 2;
  return { mean, variance: squares / values.length };
}

/** Variance σ² and fourth central moment μ₄ of a distribution: the sample mean's and variance's standard errors. */
function theory(distribution: Distribution): { variance: number; fourth: number } {
  if (distribution.kind === "uniform") return { variance: distribution.bound ** 2 / 3, fourth: distribution.bound ** 4 / 5 };
  if (distribution.kind === "normal") return { variance: distribution.std ** 2, fourth: 3 * distribution.std ** 4 };
  throw new Error(`no moments for ${distribution.kind}`);
}

/**
 * Moments within 5 standard errors (mean: σ/√n; variance: √((μ₄ − σ⁴)/n)) and D below the α = 0.001
 * critical value. The seed is fixed, so these pass or fail the same way every run; the margins say a
 * right sampler passes them with room, a wrong bound or std (even by a few percent at n = 200,704) does not.
 */
function assertDrawnFrom(values: Float32Array, distribution: Distribution, what: string): void {
  const n = values.length;
  const { variance, fourth } = theory(distribution);
  const { mean, variance: sampleVariance } = moments(values);
  assert.ok(Math.abs(mean) <= 5 * Math.sqrt(variance / n), `${what}: mean ${mean}, expected 0 ± ${5 * Math.sqrt(variance / n)}`);
  const varianceError = 5 * Math.sqrt((fourth - variance ** 2) / n);
  assert.ok(Math.abs(sampleVariance - variance) <= varianceError, `${what}: variance ${sampleVariance}, expected ${variance} ± ${varianceError}`);
  const d = ksStatistic(values, cdfOf(distribution));
  assert.ok(d < ksCritical(n), `${what}: KS D = ${d} ≥ critical value ${ksCritical(n)} (n = ${n}, α = 0.001)`);
  if (distribution.kind === "uniform") assert.ok(values.every((v) => Math.abs(v) <= distribution.bound), `${what}: a value outside ±${distribution.bound}`);
}

// ------------------------------------------------------------------------------------------------

describe("init: the schemes against torch.nn.init (init_gains.json)", () => {
  it("gains are calculate_gain's; the activations it refuses get 'linear' = 1", () => {
    let refused = 0;
    for (const entry of FIXTURE.gains) {
      if (!isActivationName(entry.name)) continue; // 'linear' is no activation of actlab's
      const { gain, torch } = activationGain(entry.name, entry.param ?? 0.01);
      if (entry.raises) {
        refused++;
        assert.equal(entry.raises.exception_type, "ValueError");
        assert.equal(gain, entry.actlab_gain, entry.name);
        assert.equal(torch, "nn.init.calculate_gain('linear')", entry.name);
      } else {
        assertClose(gain, entry.gain!, `calculate_gain('${entry.name}', ${entry.param})`);
      }
    }
    assert.ok(refused >= 1, "the fixture lists activations calculate_gain refuses");
  });

  it("a Linear(in, out) weight is [out, in] with fan_in = in, fan_out = out", () => {
    for (const { in: inSize, out, fan_in, fan_out } of FIXTURE.fans) {
      const layout = parameterLayout(mlpConfig({ inSize, outSize: out, numHiddenLayers: 2, hiddenSize: out }));
      assert.deepEqual(layout.linears[1].weight.shape, [out, out]);
      assert.deepEqual(layout.linears[0].weight.shape, [out, inSize]);
      assert.deepEqual([layout.linears[0].inSize, layout.linears[0].outSize], [fan_in, fan_out]);
    }
  });

  it("every scheme's weight and bias distributions are PyTorch's, at every shape and activation", () => {
    assert.deepEqual([...new Set(FIXTURE.schemes.map((s) => s.scheme))], INIT_NAMES, "the fixture covers exactly the table's schemes");
    for (const entry of FIXTURE.schemes) {
      const what = `${entry.scheme} Linear(${entry.in}, ${entry.out}) ${entry.activation}`;
      assert.ok(isActivationName(entry.activation));
      const scheme = INIT_SCHEMES[entry.scheme as InitName];
      const { gain } = activationGain(entry.activation, entry.slope ?? 0.01);
      assertClose(gain, entry.gain, `${what} gain`);
      for (const [role, ours, torch] of [["weight", scheme.weight(entry.in, entry.out, gain), entry.weight], ["bias", scheme.bias(entry.in), entry.bias]] as const) {
        assert.equal(ours.kind, torch.kind, `${what} ${role}`);
        if (ours.kind === "uniform" && torch.kind === "uniform") assertClose(ours.bound, torch.bound, `${what} ${role} bound`);
        if (ours.kind === "normal" && torch.kind === "normal") assertClose(ours.std, torch.std, `${what} ${role} std`);
        if (ours.kind === "orthogonal" && torch.kind === "orthogonal") assertClose(ours.gain, torch.gain, `${what} ${role} gain`);
      }
    }
  });
});

describe("init: the draws", () => {
  // A first layer of 784 × 256 = 200,704 weights, relu (gain √2).
  const config = mlpConfig({ inSize: 784, outSize: 10, numHiddenLayers: 2, hiddenSize: 256, activation: "relu" });
  const layout = parameterLayout(config);
  const [first] = layout.linears;
  const { gain } = activationGain("relu", 0.01);

  for (const name of INIT_NAMES.filter((n) => n !== "orthogonal")) {
    it(`${name}: weights and biases follow the scheme's distributions (moments, KS at α = 0.001)`, () => {
      const block = initialParameters(layout, name, gain, Random.fromSeed(2026));
      const scheme = INIT_SCHEMES[name];
      const weights = block.subarray(first.weight.offset, first.weight.offset + first.weight.size);
      assertDrawnFrom(weights, scheme.weight(784, 256, gain), `${name} weight`);
      const biases = block.subarray(first.bias.offset, first.bias.offset + first.bias.size);
      const bias = scheme.bias(784);
      if (bias.kind === "zeros") assert.ok(biases.every((b) => b === 0), `${name}: biases are zero`);
      else assertDrawnFrom(biases, bias, `${name} bias`);
    });
  }

  it("the normal sampler pairs its draws: an odd length is the even one's prefix, and a seed repeats", () => {
    const odd = new Float32Array(5);
    const even = new Float32Array(6);
    Random.fromSeed(3).fillNormal(odd, 1);
    Random.fromSeed(3).fillNormal(even, 1);
    assert.deepEqual(odd, even.subarray(0, 5));
    const again = new Float32Array(6);
    Random.fromSeed(3).fillNormal(again, 1);
    assert.deepEqual(again, even);
  });

  // Square, tall (Linear(10, 48): weight [48, 10]) and wide (Linear(784, 64): weight [64, 784]).
  for (const [rows, cols] of [[64, 64], [48, 10], [64, 784]]) {
    for (const g of [1, Math.SQRT2]) {
      it(`orthogonal [${rows}, ${cols}] gain ${g.toFixed(3)}: WᵀW (or WWᵀ) = gain²·I, and R = QᵀA has orthogonal_'s signs`, () => {
        const random = Random.fromSeed(11);
        const again = Random.fromState(random.state());
        const w = new Float32Array(rows * cols);
        drawTensor(w, rows, cols, { kind: "orthogonal", gain: g }, random);
        const a = new Float32Array(rows * cols);
        again.fillNormal(a, 1); // the matrix orthogonal drew first
        const wide = rows < cols;
        const [m, n] = wide ? [cols, rows] : [rows, cols];
        const tall = (x: Float32Array, i: number, j: number) => (wide ? x[j * cols + i] : x[i * cols + j]);
        let gramError = 0;
        let belowDiagonal = 0;
        let smallestDiagonal = Infinity;
        for (let j = 0; j < n; j++) {
          for (let k = 0; k < n; k++) {
            let gram = 0;
            let r = 0;
            for (let i = 0; i < m; i++) {
              gram += tall(w, i, j) * tall(w, i, k);
              r += (tall(w, i, j) / g) * tall(a, i, k);
            }
            gramError = Math.max(gramError, Math.abs(gram - (j === k ? g * g : 0)));
            if (j > k) belowDiagonal = Math.max(belowDiagonal, Math.abs(r));
            if (j === k) smallestDiagonal = Math.min(smallestDiagonal, r);
          }
        }
        // float32 weights: each entry off by ≤ 2⁻²⁴ relative, so a Gram entry by ~ gain²·2⁻²³ (a sum of m products).
        assert.ok(gramError < 1e-5 * g * g, `max |gram − gain²I| = ${gramError}`);
        assert.ok(belowDiagonal < 1e-4, `R = QᵀA is upper triangular: largest entry below the diagonal ${belowDiagonal}`);
        assert.ok(smallestDiagonal > 0, `R's diagonal is positive (orthogonal_'s sign fix): smallest ${smallestDiagonal}`);
        const torch = FIXTURE.orthogonal.filter((o) => o.r_diagonal_positive && o.max_gram_error_below <= 1e-13);
        assert.equal(torch.length, FIXTURE.orthogonal.length, "PyTorch's orthogonal_ has the same properties");
      });
    }
  }

  it("pytorch, the default, draws exactly what actlab drew before --init (checkpoints keep their numbers)", () => {
    // SHA-256 of the parameter block's bytes, recorded from the code before --init existed.
    const before: Array<[number, number, "sigmoid" | "relu", number, string]> = [
      [5, 64, "sigmoid", 0, "8439e6eca55e8d8bfe6823db1a010bb2a699406c9ffc97d45e1293b632dd40ae"],
      [10, 48, "relu", 7, "bcb198295cccf35f9eab16fabcdb764742b0136f457686eae93258394f40ffba"],
    ];
    for (const [layers, hidden, activation, seed, hash] of before) {
      const model = new Mlp(mlpConfig({ inSize: 784, outSize: 10, numHiddenLayers: layers, hiddenSize: hidden, activation }), 1);
      model.initialize(Random.fromSeed(seed));
      const sha = (block: Float32Array) => createHash("sha256").update(Buffer.from(block.buffer, block.byteOffset, block.byteLength)).digest("hex");
      assert.equal(sha(model.parameters()), hash, `${layers}×${hidden} ${activation} seed ${seed}`);
      model.initialize(Random.fromSeed(seed), "pytorch");
      assert.equal(sha(model.parameters()), hash, "the named default is the default");
    }
  });
});

// ------------------------------------------------------------------------------------------------


/** A checkpoint's metadata and its first Linear's weight and bias. */
function firstLinear(path: string): { metadata: Record<string, string>; weight: Float32Array; bias: Float32Array } {
  const { tensors, metadata } = readSafetensors(path);
  return { metadata, weight: tensors.get("layers.0.weight")!.data as Float32Array, bias: tensors.get("layers.0.bias")!.data as Float32Array };
}

describe("init: --init through the CLI", () => {
  it("train --init xavier-normal trains with it, and config.json, the checkpoint and --resume keep it", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "actlab-init-")), "run");
    // lr 1e-30: every update is far below a float32 ulp of the weights, so the checkpoint holds the initial parameters.
    const args = ["--activations", "tanh", "--layers", "2", "--hidden", "200", "--epochs", "1", "--train-limit", "128", "--lr", "1e-30", "--workers", "1"];
    const trained = await actlab("train", "--init", "xavier-normal", ...args, "--logdir", dir);
    assert.equal(trained.code, 0, trained.stderr);
    assert.equal(JSON.parse(readFileSync(join(dir, "config.json"), "utf8")).settings.init, "xavier-normal");
    const checkpoint = join(dir, "tanh.safetensors");
    const first = firstLinear(checkpoint);
    assert.equal(first.metadata.init, "xavier-normal");
    // Zero plus an update of ~1e-30 is no longer 0, but far from pytorch's ±1/√784 ≈ 0.036.
    assert.ok(first.bias.every((b) => Math.abs(b) < 1e-20), "xavier-normal's biases are zero");
    // tanh's gain 5/3; 784 × 200 = 156,800 weights.
    assertDrawnFrom(first.weight, INIT_SCHEMES["xavier-normal"].weight(784, 200, 5 / 3), "trained xavier-normal weight");

    // --resume takes every setting from config.json: --init with it is refused, and a job run again
    // (its checkpoint and status gone) is initialised as config.json says.
    const refused = await actlab("train", "--resume", dir, "--init", "pytorch");
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--init/);
    rmSync(checkpoint);
    rmSync(join(dir, "jobs.json"));
    const resumed = await actlab("train", "--resume", dir, "--workers", "1");
    assert.equal(resumed.code, 0, resumed.stderr);
    const again = firstLinear(checkpoint);
    assert.equal(again.metadata.init, "xavier-normal");
    assert.deepEqual(again.weight, first.weight, "the same seed and scheme draw the same weights");
    assert.deepEqual(again.bias, first.bias);
  });

  it("--init bogus exits 2 naming the flag, the closest scheme and every scheme", async () => {
    const result = await actlab("train", "--init", "xavier_normal", "--epochs", "1");
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--init: unknown initialisation "xavier_normal" \(did you mean "xavier-normal"\?\)/);
    for (const name of INIT_NAMES) assert.ok(result.stderr.includes(name), name);
    assert.equal((await actlab("train", "--init", "bogus")).code, 2);
  });

  it("train --help lists every scheme", async () => {
    const help = await actlab("train", "--help");
    const flat = help.stdout.replace(/\s+/g, " ");
    assert.match(flat, /--init <scheme>/);
    for (const name of INIT_NAMES) assert.ok(flat.includes(`${name} (`), name);
    assert.match(flat, /default: "pytorch"/);
  });

  it("a config.json from before --init reads as pytorch; an unknown scheme there is refused", () => {
    const dir = mkdtempSync(join(tmpdir(), "actlab-init-config-"));
    const config = {
      name: "train", seeds: [0],
      models: [{ model: "relu", config: { inSize: 784, outSize: 10, hiddenSizes: [8], activation: "relu", leakySlope: 0.01 } }],
      settings: { lr: 0.01, momentum: 0.9, batchSize: 64, testBatchSize: 256, epochs: 1, mean: 0.1307, std: 0.3081 },
    };
    writeFileSync(join(dir, "config.json"), JSON.stringify(config));
    assert.equal(loadSavedRun(dir).settings.init, "pytorch");
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ...config, settings: { ...config.settings, init: "xavier" } }));
    assert.throws(() => loadSavedRun(dir), (e: unknown) => e instanceof InputError && /settings\.init/.test(e.message));
  });
});
