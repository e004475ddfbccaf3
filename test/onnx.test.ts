// ONNX export: a trained checkpoint, run by onnxruntime on the 10,000 MNIST test images, gives
// actlab's own predictions and logits; the graph is standard opset 17; `actlab export` writes it
// and refuses bad input with exit 2.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import * as ort from "onnxruntime-node";
import { ACTIVATION_NAMES } from "../src/activations.js";
import { loadModelCheckpoint, saveModelCheckpoint } from "../src/checkpoint/modelCheckpoint.js";
import { loadMnist, type MnistSplit } from "../src/data/mnist.js";
import { Mlp } from "../src/engine/mlp.js";
import { ONNX_ACTIVATIONS, onnxActivation } from "../src/export/onnxActivations.js";
import { checkpointToOnnx, encodeModel, INPUT_NAME, ONNX_OPSET, OUTPUT_NAME } from "../src/export/onnx.js";
import { GraphBuilder, onnx, type ValueInfoProto } from "../src/export/onnxGraph.js";
import { mlpConfig, type MlpConfig } from "../src/model.js";
import { evaluate } from "../src/train/evaluate.js";
import { DEFAULT_SETTINGS } from "../src/train/settings.js";
import { resolveHyper } from "../src/optim.js";
import { trainJob, type TrainEvent } from "../src/train/trainer.js";
import { temporaryDir } from "./support/scratch.js";
import { actlab } from "./support/cliProcess.js";

const data = loadMnist();
const scratch = temporaryDir("onnx");
after(() => scratch.remove());

/**
 * Logits agree to this absolute tolerance: both sides are float32 with different summation orders
 * (actlab's SIMD kernels, onnxruntime's MLAS Gemm) over 784-long dot products of logits of size ~10,
 * so they differ by some ulps: at most 6e-6 measured over the twelve activations. 1e-4 leaves room
 * for other CPUs' kernels without hiding a wrong operator or constant.
 */
const LOGIT_ATOL = 1e-4;
/** Predictions may differ only where actlab's top two logits are closer than the two sides can disagree. */
const ARGMAX_TIE = 2 * LOGIT_ATOL;

/** Every standard ai.onnx operator this exporter may emit; none newer than opset 17. */
const STANDARD_OPS = new Set([
  "Gemm", "Sigmoid", "Tanh", "Relu", "LeakyRelu", "Elu", "Selu", "Celu", "Mul", "Add", "Sub", "Neg", "Erf", "Exp", "Sin",
  "Softplus", "Softsign", "Where", "Greater", "Clip", "HardSigmoid", "HardSwish", "Shrink", "PRelu", "Identity",
  "BatchNormalization", "LayerNormalization",
]);

function trainSmall(activation: string): { config: MlpConfig; params: Float32Array } {
  const config = mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 16, numHiddenLayers: 3, activation });
  let params: Float32Array | undefined;
  // Adam and Xavier-normal, so that every activation learns something in one short epoch (with SGD
  // and nn.Linear's init, the shrinks and hardsigmoid still answer one class): the predictions
  // compared below are then not one constant class.
  const settings = { ...DEFAULT_SETTINGS, optimizer: "adam" as const, ...resolveHyper("adam"), lr: 0.01, init: "xavier-normal" as const, epochs: 1 };
  trainJob({ model: activation, seed: 0, trainLimit: 2000, config, settings }, data, (e: TrainEvent) => {
    if (e.type === "end") params = e.params;
  });
  assert.ok(params, `${activation}: training ended with parameters`);
  return { config, params };
}

/** actlab's own evaluation (what `actlab eval` runs), keeping every image's logits. */
function actlabLogits(config: MlpConfig, params: Float32Array, split: MnistSplit): { logits: Float32Array; correct: number } {
  const batch = DEFAULT_SETTINGS.testBatchSize;
  const model = new Mlp(config, batch);
  model.writeParameters(params);
  const logits = new Float32Array(split.count * config.outSize);
  let offset = 0;
  const result = evaluate(model, split, batch, DEFAULT_SETTINGS, (m, count) => {
    const last = m.layers[m.layers.length - 1];
    logits.set(m.kernels.floats(last.Z, count * config.outSize), offset);
    offset += count * config.outSize;
  });
  return { logits, correct: result.correct };
}

/** The test images normalised in float32 exactly as the engine's pixel table does: (u/255 − mean)/std. */
function normalisedImages(split: MnistSplit, mean: number, std: number): Float32Array {
  const f = Math.fround;
  const table = Float32Array.from({ length: 256 }, (_, u) => f(f(f(u) / 255 - f(mean)) / f(std)));
  return Float32Array.from(split.images, (u) => table[u]);
}

async function runOnnx(bytes: Uint8Array, input: Float32Array, width: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ [INPUT_NAME]: new ort.Tensor("float32", input, [input.length / width, width]) });
    return out[OUTPUT_NAME].data as Float32Array;
  } finally {
    await session.release();
  }
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
  return best;
}

/** The gap between the largest and second-largest value of a row. */
function topTwoGap(row: Float32Array): number {
  const sorted = Array.from(row).sort((a, b) => b - a);
  return sorted[0] - sorted[1];
}

describe("ONNX export", () => {
  const mean = DEFAULT_SETTINGS.mean;
  const std = DEFAULT_SETTINGS.std;
  const images = normalisedImages(data.test, mean, std);

  for (const activation of ACTIVATION_NAMES) {
    it(`${activation}: onnxruntime gives actlab's predictions and logits on the 10,000 test images`, async (t) => {
      const { config, params } = trainSmall(activation);
      const bytes = checkpointToOnnx({ config, params, metadata: { activation, leaky_slope: String(config.leakySlope) } });
      const ours = actlabLogits(config, params, data.test);
      const theirs = await runOnnx(bytes, images, config.inSize);
      assert.equal(theirs.length, ours.logits.length);
      let worst = 0;
      let disagreements = 0;
      let correct = 0;
      for (let i = 0; i < data.test.count; i++) {
        const a = ours.logits.subarray(10 * i, 10 * i + 10);
        const b = theirs.subarray(10 * i, 10 * i + 10);
        for (let j = 0; j < 10; j++) worst = Math.max(worst, Math.abs(a[j] - b[j]));
        if (argmax(b) === data.test.labels[i]) correct++;
        if (argmax(a) !== argmax(b)) {
          disagreements++;
          assert.ok(topTwoGap(a) < ARGMAX_TIE, `${activation}: image ${i} predicted ${argmax(a)} by actlab, ${argmax(b)} by onnxruntime, top-2 gap ${topTwoGap(a)}`);
        }
      }
      assert.ok(worst <= LOGIT_ATOL, `${activation}: largest logit difference ${worst}`);
      // A net that learnt something, so the predictions compared are not one constant class.
      assert.ok(ours.correct > 1135, `${activation}: actlab's accuracy ${ours.correct}/10000 beats always answering "1"`);
      t.diagnostic(`${activation}: actlab ${ours.correct}/10000, onnxruntime ${correct}/10000, ${disagreements} argmax disagreements, largest logit difference ${worst.toExponential(2)}`);
      assert.ok(Math.abs(correct - ours.correct) <= disagreements, `${activation}: ${correct} vs ${ours.correct} correct`);
    });
  }

  it("is a standard opset-17 graph: Gemm(transB) per Linear with [out, in] weights, named I/O, dynamic batch, metadata", () => {
    const { config, params } = trainSmall("gelu");
    const metadata = { activation: "gelu", seed: "0", test_acc: "0.5" };
    const model = onnx.ModelProto.decode(checkpointToOnnx({ config, params, metadata }));
    assert.equal(model.producerName, "actlab");
    assert.deepEqual(model.opsetImport.map((o) => [o.domain ?? "", Number(o.version)]), [["", ONNX_OPSET]]);
    assert.ok(ONNX_OPSET >= 17);
    const graph = model.graph!;
    const nodes = graph.node!;
    const initializers = graph.initializer!;
    for (const node of nodes) {
      assert.ok(!node.domain, `${node.opType} is in the default ai.onnx domain`);
      assert.ok(STANDARD_OPS.has(node.opType!), `${node.opType} is a standard operator`);
    }
    const gemms = nodes.filter((n) => n.opType === "Gemm");
    assert.equal(gemms.length, 3);
    for (const gemm of gemms) assert.deepEqual(gemm.attribute!.map((a) => [a.name, Number(a.i)]), [["transB", 1]]);
    const weights = initializers.filter((t) => t.name!.endsWith(".weight")).map((t) => [t.name, t.dims!.map(Number)]);
    assert.deepEqual(weights, [["layers.0.weight", [16, 784]], ["layers.2.weight", [16, 16]], ["layers.4.weight", [10, 16]]]);
    assert.deepEqual(Array.from(initializers[0].rawData!.subarray(0, 4)), Array.from(new Uint8Array(params.buffer, params.byteOffset, 4)));
    const dims = (v: ValueInfoProto) => v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
    assert.deepEqual(graph.input!.map((v) => [v.name, dims(v)]), [["input", ["N", 784]]]);
    assert.deepEqual(graph.output!.map((v) => [v.name, dims(v)]), [["logits", ["N", 10]]]);
    const props = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
    assert.equal(props.activation, "gelu");
    assert.equal(props.seed, "0");
    assert.equal(Number(props.input_mean), DEFAULT_SETTINGS.mean);
    assert.equal(Number(props.input_std), DEFAULT_SETTINGS.std);
    // Exact GELU from Erf: opset 17 has no Gelu operator.
    assert.ok(nodes.some((n) => n.opType === "Erf"));
  });
});

describe("the activation → ONNX table", () => {
  it("has an entry for every activation in the catalogue, and none for names that are not activations", () => {
    for (const name of ACTIVATION_NAMES) assert.ok(Object.hasOwn(ONNX_ACTIVATIONS, name), `${name} has an ONNX form`);
    assert.throws(() => onnxActivation("toString"), /no ONNX form/);
  });

  // PyTorch's definitions (torch.nn.functional), for the entries checked one by one below.
  const reference: Record<string, (x: number) => number> = {
    softplus: (x) => (x > 20 ? x : Math.log1p(Math.exp(x))),
    celu: (x) => Math.max(0, x) + Math.min(0, Math.expm1(x)),
    relu6: (x) => Math.min(Math.max(0, x), 6),
    hardsigmoid: (x) => (x <= -3 ? 0 : x >= 3 ? 1 : x / 6 + 0.5),
    hardswish: (x) => (x <= -3 ? 0 : x >= 3 ? x : (x * (x + 3)) / 6),
    logsigmoid: (x) => (x < 0 ? x - Math.log1p(Math.exp(x)) : -Math.log1p(Math.exp(-x))),
    tanhshrink: (x) => x - Math.tanh(x),
    softshrink: (x) => (x > 0.5 ? x - 0.5 : x < -0.5 ? x + 0.5 : 0),
    hardshrink: (x) => (x > 0.5 || x < -0.5 ? x : 0),
    prelu: (x) => (x >= 0 ? x : 0.25 * x),
    rrelu: (x) => (x >= 0 ? x : ((1 / 8 + 1 / 3) / 2) * x),
    sin: (x) => Math.sin(x),
    gaussian: (x) => Math.exp(-x * x),
  };
  // Kinks and thresholds exactly, then a fine grid, then softplus's threshold region.
  const xs = Float32Array.from([
    0, 0.5, -0.5, 3, -3, 6, -6, 20, ...Array.from({ length: 1025 }, (_, i) => -8 + i / 64), 19.5, 20.5, 25, 30, 40, -30,
  ]);

  for (const [name, f] of Object.entries(reference)) {
    it(`${name} in onnxruntime matches PyTorch's definition, kinks included`, async () => {
      const g = new GraphBuilder();
      const input = g.reserve(INPUT_NAME);
      const output = g.reserve(OUTPUT_NAME);
      const y = onnxActivation(name)(g, input, { leakySlope: 0.01, parameter: (suffix) => g.initializer(`slope.${suffix}`, [1], [0.25]) });
      g.op("Identity", [y], {}, output);
      const bytes = encodeModel(g, { inSize: 1, outSize: 1, metadata: {} });
      const got = await runOnnx(bytes, xs, 1);
      xs.forEach((x, i) => {
        const want = f(x);
        assert.ok(Math.abs(got[i] - want) <= 1e-6 + 1e-6 * Math.abs(want), `${name}(${x}) = ${got[i]}, PyTorch ${want}`);
      });
      for (const node of g.nodes) assert.ok(STANDARD_OPS.has(node.opType!), `${name}: ${node.opType} is a standard operator`);
    });
  }
});

describe("actlab export", () => {

  it("writes the model from a checkpoint (exit 0); the file runs and equals the library's bytes", async () => {
    const dir = scratch.fresh();
    const { config, params } = trainSmall("tanh");
    const checkpoint = join(dir, "tanh.safetensors");
    saveModelCheckpoint(checkpoint, config, params, { model: "tanh", seed: "0" });
    const out = join(dir, "sub", "model.onnx");
    const result = await actlab("export", checkpoint, "--onnx", out);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /model\.onnx/);
    const help = await actlab("export", "--help");
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: actlab export .*<checkpoint>/);
    const bytes = readFileSync(out);
    assert.ok(bytes.equals(Buffer.from(checkpointToOnnx(loadModelCheckpoint(checkpoint)))), "the CLI writes the library's bytes");
    const logits = await runOnnx(bytes, normalisedImages({ ...data.test, count: 1, images: data.test.images.subarray(0, 784) }, DEFAULT_SETTINGS.mean, DEFAULT_SETTINGS.std), 784);
    assert.equal(logits.length, 10);
  });

  it("refuses bad input with exit 2, naming it, and writes nothing", async () => {
    const dir = scratch.fresh();
    const { config, params } = trainSmall("relu");
    const checkpoint = join(dir, "relu.safetensors");
    saveModelCheckpoint(checkpoint, config, params);
    const before = readFileSync(checkpoint);
    const out = join(dir, "out.onnx");

    const missing = await actlab("export", join(dir, "no-such.safetensors"), "--onnx", out);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no-such\.safetensors/);

    const garbage = join(dir, "garbage.safetensors");
    writeFileSync(garbage, "not a checkpoint");
    const bad = await actlab("export", garbage, "--onnx", out);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /garbage\.safetensors/);

    // An existing model is replaced only by a whole new one: a failed export leaves it as it was.
    const existing = join(dir, "existing.onnx");
    writeFileSync(existing, "old model");
    assert.equal((await actlab("export", garbage, "--onnx", existing)).code, 2);
    assert.equal(readFileSync(existing, "utf8"), "old model");

    const underFile = await actlab("export", checkpoint, "--onnx", join(checkpoint, "model.onnx"));
    assert.equal(underFile.code, 2);
    assert.match(underFile.stderr, /--onnx .* cannot be written: .* is a file, not a folder/);

    mkdirSync(join(dir, "folder"));
    const intoFolder = await actlab("export", checkpoint, "--onnx", join(dir, "folder"));
    assert.equal(intoFolder.code, 2);
    assert.match(intoFolder.stderr, /--onnx .*folder is a folder/);

    const overCheckpoint = await actlab("export", checkpoint, "--onnx", checkpoint);
    assert.equal(overCheckpoint.code, 2);
    assert.match(overCheckpoint.stderr, /is the checkpoint itself/);

    const noFlag = await actlab("export", checkpoint);
    assert.equal(noFlag.code, 2);
    assert.match(noFlag.stderr, /--onnx/);

    assert.ok(!existsSync(out), "no output was written");
    assert.deepEqual(readFileSync(checkpoint), before, "the checkpoint is untouched");
    assert.ok(statSync(join(dir, "folder")).isDirectory());
  });
});
