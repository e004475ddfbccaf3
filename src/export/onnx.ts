// ONNX export of a checkpoint: the same nn.Sequential the checkpoint's state_dict describes, as a
// standard opset-17 graph that any ONNX runtime runs. Input `input` float32 [N, in_size], already
// normalised as actlab does, (pixel/255 − mean)/std; output `logits` float32 [N, out_size].
//
// The graph is built module by module in nn.Sequential's order (Linear, activation, ..., Linear):
// each module kind emits its own nodes, so a norm layer (BatchNormalization in eval mode,
// LayerNormalization) is one more kind and one more case in `sequentialModules`.
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { loadModelCheckpoint, type LoadedCheckpoint } from "../checkpoint/modelCheckpoint.js";
import { writeFileAtomicSync } from "../checkpoint/atomicFile.js";
import { parameterLayout, stateDictOf, type NamedTensor } from "../layout.js";
import type { MlpConfig } from "../model.js";
import { NORM_EPS, type NormName } from "../norms.js";
import { DEFAULT_SETTINGS } from "../train/settings.js";
import { onnxActivation, type ActivationContext } from "./onnxActivations.js";
import { float, GraphBuilder, int, onnx } from "./onnxGraph.js";

/** Opset 17: the oldest with LayerNormalization, and what onnxruntime 1.12 and later run. */
export const ONNX_OPSET = 17;
/** IR version 8 is the one that goes with opset 17 (ONNX 1.12). */
const IR_VERSION = 8;
export const INPUT_NAME = "input";
export const OUTPUT_NAME = "logits";
/** The batch dimension's symbolic name. */
export const BATCH_DIM = "N";

const { version } = createRequire(import.meta.url)("../../../package.json") as { version: string };

/** One module of the nn.Sequential, at its index there (its state_dict prefix is `layers.<index>.`). */
export type SequentialModule =
  | { kind: "linear"; index: number; inSize: number; outSize: number }
  | { kind: "norm"; index: number; norm: Exclude<NormName, "none">; width: number }
  | { kind: "activation"; index: number; name: string };

/**
 * The modules of the checkpoint's nn.Sequential, in order, as the parameter layout numbers them: a
 * Linear, its norm layer if any, and an activation per hidden block, a Linear last.
 */
export function sequentialModules(config: MlpConfig): SequentialModule[] {
  return parameterLayout(config).modules.map((m): SequentialModule => {
    switch (m.kind) {
      case "linear": return { kind: "linear", index: m.module, inSize: m.inSize, outSize: m.outSize };
      case "norm": return { kind: "norm", index: m.module, norm: m.norm, width: m.width };
      case "activation": return { kind: "activation", index: m.module, name: config.activation };
    }
  });
}

interface ModuleContext {
  config: MlpConfig;
  /** A state_dict tensor, e.g. tensor(0, "weight") for layers.0.weight. */
  tensor(index: number, suffix: string): NamedTensor;
}

function emitModule(g: GraphBuilder, module: SequentialModule, x: string, context: ModuleContext, output?: string): string {
  const initializer = (suffix: string) => {
    const t = context.tensor(module.index, suffix);
    return g.initializer(t.name, t.shape, t.data);
  };
  switch (module.kind) {
    case "linear":
      // Gemm computes x · Wᵀ + b with W in PyTorch's [out, in] layout, as nn.Linear does.
      return g.op("Gemm", [x, initializer("weight"), initializer("bias")], { transB: int(1) }, output);
    case "norm":
      // Eval mode: BatchNormalization with the running statistics (training_mode 0, the default);
      // LayerNormalization over the last axis. Both with PyTorch's eps.
      return module.norm === "batch"
        ? g.op("BatchNormalization", [x, initializer("weight"), initializer("bias"), initializer("running_mean"), initializer("running_var")], { epsilon: float(NORM_EPS) }, output)
        : g.op("LayerNormalization", [x, initializer("weight"), initializer("bias")], { axis: int(-1), epsilon: float(NORM_EPS) }, output);
    case "activation": {
      const activation: ActivationContext = { leakySlope: context.config.leakySlope, parameter: initializer };
      return onnxActivation(module.name)(g, x, activation);
    }
  }
}

function valueInfo(name: string, width: number, doc: string) {
  return {
    name,
    docString: doc,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: BATCH_DIM }, { dimValue: width }] } } },
  };
}

/** The normalisation the input must already have: the checkpoint's, or actlab's defaults (what `actlab eval` uses). */
export function inputNormalization(metadata: Record<string, string>): { mean: number; std: number } {
  const mean = Number(metadata.mean);
  const std = Number(metadata.std);
  return {
    mean: metadata.mean !== undefined && Number.isFinite(mean) ? mean : DEFAULT_SETTINGS.mean,
    std: metadata.std !== undefined && Number.isFinite(std) && std > 0 ? std : DEFAULT_SETTINGS.std,
  };
}

/** The checkpoint as an ONNX model (ModelProto bytes). */
export function checkpointToOnnx(loaded: LoadedCheckpoint): Uint8Array {
  const { config, params, metadata } = loaded;
  // The parameter layout names and shapes the flat block.
  const stateDict = new Map(stateDictOf(parameterLayout(config), params).map((t) => [t.name, t]));
  const context: ModuleContext = {
    config,
    tensor(index, suffix) {
      const t = stateDict.get(`layers.${index}.${suffix}`);
      if (!t) throw new Error(`ONNX export: the checkpoint has no tensor layers.${index}.${suffix}`);
      return t;
    },
  };
  const g = new GraphBuilder();
  const input = g.reserve(INPUT_NAME);
  const output = g.reserve(OUTPUT_NAME);
  const modules = sequentialModules(config);
  let x = input;
  modules.forEach((module, i) => {
    x = emitModule(g, module, x, context, i === modules.length - 1 ? output : undefined);
  });
  if (x !== output) throw new Error("ONNX export: the last module must be a Linear layer");

  const { mean, std } = inputNormalization(metadata);
  return encodeModel(g, {
    inSize: config.inSize,
    outSize: config.outSize,
    inputDoc: `float32 images [N, ${config.inSize}], each pixel (u/255 - ${mean})/${std}`,
    doc: `actlab MLP, ${config.activation}${config.norm === "none" ? "" : `, ${config.norm} norm`}, widths ${[config.inSize, ...config.hiddenSizes, config.outSize].join("-")}`,
    metadata: { ...metadata, input_mean: String(mean), input_std: String(std) },
  });
}

/**
 * A finished graph from `input` [N, inSize] to `logits` [N, outSize] as ModelProto bytes, with
 * actlab as its producer and `metadata` as its metadata_props.
 */
export function encodeModel(
  g: GraphBuilder, model: { inSize: number; outSize: number; inputDoc?: string; doc?: string; metadata: Record<string, string> },
): Uint8Array {
  const proto = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: "", version: ONNX_OPSET }],
    producerName: "actlab",
    producerVersion: version,
    docString: model.doc ?? "",
    graph: {
      name: "actlab_mlp",
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo(INPUT_NAME, model.inSize, model.inputDoc ?? "float32 [N, in]")],
      output: [valueInfo(OUTPUT_NAME, model.outSize, `float32 logits [N, ${model.outSize}] (before softmax)`)],
    },
    metadataProps: Object.keys(model.metadata).sort().map((key) => ({ key, value: model.metadata[key] })),
  });
  return onnx.ModelProto.encode(proto).finish();
}

/** Reads a checkpoint and writes its ONNX model to `outPath` atomically (creating its folder); returns the byte count. */
export function exportOnnx(checkpointPath: string, outPath: string): number {
  const bytes = checkpointToOnnx(loadModelCheckpoint(checkpointPath));
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileAtomicSync(outPath, bytes);
  return bytes.length;
}
