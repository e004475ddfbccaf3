// The queue tests' coordinator: the small sweep they train, and, run as a process
// (`node queueCoordinator.js URL SWEEP DIR EPOCHS [resume]`), a coordinator that trains it through
// the queue into DIR, so a test can kill it and start it again.
import { join } from "node:path";
import { loadMnist } from "../../src/data/mnist.js";
import { mlpConfig } from "../../src/model.js";
import { queueRunner } from "../../src/sweep/queueRunner.js";
import { runExperiments, type ExperimentSpec } from "../../src/train/experiment.js";
import { DEFAULT_SETTINGS } from "../../src/train/settings.js";

/** 3 Linear layers of width 32 on 1,000 images, one model per activation, into logdir/name. */
export function queueSpec(logdir: string, name: string, activations: string[], epochs: number): ExperimentSpec {
  return {
    name,
    dir: join(logdir, name),
    seeds: [0],
    trainLimit: 1000,
    settings: { ...DEFAULT_SETTINGS, epochs },
    models: activations.map((activation) => ({
      model: activation,
      config: mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 32, numHiddenLayers: 3, activation }),
    })),
  };
}

export const COORDINATOR_ACTIVATIONS = ["tanh", "relu"];

const [url, sweepId, logdir, epochs, resume] = process.argv.slice(2);
if (url && process.argv[1]?.endsWith("queueCoordinator.js")) {
  const data = loadMnist();
  const results = await runExperiments([queueSpec(logdir, "sweep", COORDINATOR_ACTIVATIONS, Number(epochs))], {
    data, resume: resume === "resume", runner: queueRunner(url, { sweepId, pollMs: 500 }),
    onEvent: (_spec, event) => { if (event.type === "epoch") process.stderr.write(`epoch ${event.record.model} ${event.record.epoch}\n`); },
  });
  process.stderr.write(`done ${results[0].status}\n`);
}
