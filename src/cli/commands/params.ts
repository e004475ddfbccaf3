// `actlab params`: the parameter count of a net, layer by layer, as the notebook's count_parameters.
import type { Command } from "commander";
import { z } from "zod";
import { parameterLayout } from "../../layout.js";
import { mlpConfig } from "../../model.js";
import { parseOptions, positiveInteger, widthList } from "../options.js";
import { addNetShapeFlags } from "./trainingFlags.js";

export function registerParams(program: Command): void {
  addNetShapeFlags(program
    .command("params")
    .description("count the trainable parameters of an MLP (the notebook's count_parameters)"))
    .option("--json", "print JSON")
    .action((raw: Record<string, unknown>) => {
      const flags = parseOptions(z.object({
        layers: positiveInteger("--layers", 1000), in: positiveInteger("--in"), out: positiveInteger("--out"),
        hidden: widthList("--hidden"),
      }).passthrough(), raw);
      const config = mlpConfig({
        inSize: flags.in, outSize: flags.out, numHiddenLayers: flags.layers,
        hiddenSize: flags.hidden.list ? flags.hidden.widths : flags.hidden.widths[0], activation: "relu",
      });
      const layout = parameterLayout(config);
      const layers = layout.linears.map((l) => ({
        name: `layers.${l.module}`, in: l.inSize, out: l.outSize, parameters: l.weight.size + l.bias.size,
      }));
      const total = layout.size;
      if (raw.json) {
        process.stdout.write(JSON.stringify({ total, layers }, null, 2) + "\n");
        return;
      }
      for (const l of layers) process.stdout.write(`${l.name.padEnd(10)} Linear(${l.in}, ${l.out})`.padEnd(34) + `${l.parameters.toLocaleString("en-US").padStart(10)}\n`);
      process.stdout.write(`${"total".padEnd(34)}${total.toLocaleString("en-US").padStart(10)}\n`);
    });
}
