// A helper thread of a model's team (threadTeamNode.ts): an instance of the shared-memory kernels
// over the model's memory, with packing areas of its own, running the calls it is handed until told
// to stop. It never allocates and never touches the model's memory but through those calls.
import { workerData } from "node:worker_threads";
import { kernelImports } from "./kernels.js";
import {
  CALL_COUNT, CLOSE, controlViews, DONE, FAILED, FUNCTION, functionNames, HELPER_SPIN_MS, JOB, MAX_ARGS, waitForChange, type HelperData,
} from "./threadTeamProtocol.js";

const { module, memory, scratch, control, errors } = workerData as HelperData;
const instance = new WebAssembly.Instance(module, kernelImports(memory));
const exported = instance.exports as Record<string, (...args: number[]) => unknown>;
const functions = functionNames(module).map((name) => exported[name]);
exported.useThreadScratch(scratch);
const { words, args } = controlViews(control);
// Ready: DONE moves from -2 (starting) to 0 (no job yet).
Atomics.store(words, DONE, 0);
Atomics.notify(words, DONE);

/** Runs one job's calls; a function of its own, so that V8 optimises it after a few calls (a loop at a module's top level waits for on-stack replacement). */
function runJob(job: number): void {
  try {
    const count = Atomics.load(words, CALL_COUNT);
    for (let c = 0; c < count; c++) {
      const fn = functions[words[FUNCTION + c]];
      const at = c * MAX_ARGS;
      fn(args[at], args[at + 1], args[at + 2], args[at + 3], args[at + 4], args[at + 5], args[at + 6], args[at + 7],
        args[at + 8], args[at + 9], args[at + 10], args[at + 11], args[at + 12], args[at + 13], args[at + 14], args[at + 15]);
    }
  } catch (error) {
    errors.postMessage((error as Error).stack ?? String(error));
    Atomics.store(words, FAILED, 1);
  }
  Atomics.store(words, DONE, job);
  Atomics.notify(words, DONE);
}

let seen = 0;
for (;;) {
  const job = waitForChange(words, JOB, seen, HELPER_SPIN_MS);
  if (job === CLOSE) break;
  seen = job;
  runJob(job);
}
