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

let seen = 0;
for (;;) {
  const job = waitForChange(words, JOB, seen, HELPER_SPIN_MS);
  if (job === CLOSE) break;
  seen = job;
  try {
    const count = Atomics.load(words, CALL_COUNT);
    for (let c = 0; c < count; c++) {
      const fn = functions[words[FUNCTION + c]];
      const a = args.subarray(c * MAX_ARGS, (c + 1) * MAX_ARGS);
      fn(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15]);
    }
  } catch (error) {
    errors.postMessage((error as Error).stack ?? String(error));
    Atomics.store(words, FAILED, 1);
  }
  Atomics.store(words, DONE, job);
  Atomics.notify(words, DONE);
}
