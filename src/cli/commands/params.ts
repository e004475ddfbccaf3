// `actlab params`: the parameter count of a net, layer by layer, as the notebook's count_parameters.
import type { Command } from "commander";
import { parameterLayout } from "../../layout.js";
import { mlpConfig } from "../../model.js";
import { addFlags, parseFlags } from "../flags.js";
import { JSON_OUTPUT, SHAPE, TRAINING } from "../flagTable.js";
import { NORMS } from "../../norms.js";
import { shapeProblems } from "./train.js";

export const PARAMS_FLAGS = { ...SHAPE, norm: TRAINING.norm, ...JSON_OUTPUT };

export interface LayerCount {
  name: string;
  in: number;
  out: number;
  parameters: number;
  /** The module as PyTorch prints it, when it is not a Linear (a norm layer). */
  module?: string;
}

/**
 * The table as printed: the layer, its module and its count, in columns as wide as their widest
 * entry (fixed widths ran together for wide layers), counts aligned on the right.
 */
export function formatParamsTable(layers: readonly LayerCount[], total: number): string {
  const rows = layers.map((l) => [l.name, l.module ?? `Linear(${l.in}, ${l.out})`, l.parameters.toLocaleString("en-US")]);
  const totalText = total.toLocaleString("en-US");
  const nameWidth = Math.max(...rows.map((r) => r[0].length));
  const moduleWidth = Math.max(...rows.map((r) => r[1].length));
  const countWidth = Math.max(totalText.length, ...rows.map((r) => r[2].length));
  const lines = rows.map(([name, module, count]) => `${name.padEnd(nameWidth)}  ${module.padEnd(moduleWidth)}  ${count.padStart(countWidth)}`);
  lines.push(`${"total".padEnd(nameWidth + 2 + moduleWidth)}  ${totalText.padStart(countWidth)}`);
  return lines.join("\n");
}

export function registerParams(program: Command): void {
  const command = addFlags(program
    .command("params")
    .description("count the trainable parameters of an MLP (the notebook's count_parameters)"), PARAMS_FLAGS);
  command.action(() => {
    const flags = parseFlags(command, PARAMS_FLAGS, shapeProblems);
    const config = mlpConfig({ inSize: flags.in, outSize: flags.out, numHiddenLayers: flags.layers, hiddenSize: flags.hidden, activation: "relu", norm: flags.norm });
    const layout = parameterLayout(config);
    // Trainable parameters only, as count_parameters counts them: a norm layer's weight and bias, not its running statistics.
    const layers: LayerCount[] = layout.modules.flatMap((m): LayerCount[] => {
      if (m.kind === "linear") return [{ name: `layers.${m.module}`, in: m.inSize, out: m.outSize, parameters: m.weight.size + m.bias.size }];
      if (m.kind === "norm") {
        const module = `${NORMS[m.norm].torch!.replace("nn.", "")}(${m.width})`;
        return [{ name: `layers.${m.module}`, in: m.width, out: m.width, parameters: m.weight.size + m.bias.size, module }];
      }
      return [];
    });
    const total = layout.trainableSize;
    if (flags.json) {
      process.stdout.write(JSON.stringify({ total, layers }, null, 2) + "\n");
      return;
    }
    process.stdout.write(formatParamsTable(layers, total) + "\n");
  });
}
