// Node's thread team: worker threads that each make an instance of the shared-memory kernels over
// a model's memory (threadTeamHelper.ts) and run the bands of rows they are handed. The model's
// thread hands out calls through a control block per helper and waits on Atomics, never on its
// event loop, so a training step stays one synchronous run of calls, as on one thread.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import type { Kernels } from "./kernels.js";
import type { KernelCall, ThreadTeam, ThreadTeamFactory } from "./threadTeam.js";
import {
  CALL_COUNT, CLOSE, CONTROL_BYTES, controlViews, DONE, FAILED, FUNCTION, functionNames, JOB, MAX_ARGS, MAX_CALLS, RESULT_SPIN_MS, waitForChange,
  type HelperData,
} from "./threadTeamProtocol.js";

/** How long a helper may take to start before the model gives up on it (a loaded machine: seconds). */
const START_TIMEOUT_MS = 60_000;

interface Helper {
  worker: Worker;
  words: Int32Array;
  args: Float64Array;
  errors: MessagePort;
}

class NodeThreadTeam implements ThreadTeam {
  readonly size: number;
  private readonly helpers: Helper[];
  private readonly index: Map<string, number>;
  private job = 0;
  private closed = false;

  constructor(private readonly kernels: Kernels, scratch: number[]) {
    if (!kernels.shared) throw new Error("a thread team needs kernels over a shared memory (new Kernels({ shared: true }))");
    const { module, memory } = kernels.shared;
    this.index = new Map(functionNames(module).map((name, i) => [name, i]));
    this.size = scratch.length + 1;
    this.helpers = scratch.map((base) => {
      const control = new SharedArrayBuffer(CONTROL_BYTES);
      const { words, args } = controlViews(control);
      Atomics.store(words, DONE, -2);
      const { port1, port2 } = new MessageChannel();
      const data: HelperData = { module, memory, scratch: base, control, errors: port2 };
      const worker = new Worker(new URL("./threadTeamHelper.js", import.meta.url), { workerData: data, transferList: [port2] });
      // The helpers must never keep a process alive: a model's thread ends them in close().
      worker.unref();
      return { worker, words, args, errors: port1 };
    });
    for (const helper of this.helpers) {
      if (Atomics.wait(helper.words, DONE, -2, START_TIMEOUT_MS) === "timed-out" && Atomics.load(helper.words, DONE) === -2) {
        this.close();
        throw new Error(`a helper thread of the model did not start within ${START_TIMEOUT_MS / 1000} s`);
      }
    }
  }

  run(calls: ReadonlyArray<readonly KernelCall[]>): void {
    if (this.closed) throw new Error("the model's thread team is closed");
    if (calls.length > this.size) throw new Error(`${calls.length} threads' calls for a team of ${this.size}`);
    const job = ++this.job;
    // What each helper last finished: a helper given nothing for a while is behind the job count.
    const before = this.helpers.map((helper) => Atomics.load(helper.words, DONE));
    for (let t = 1; t < calls.length; t++) {
      const { words, args } = this.helpers[t - 1];
      const list = calls[t];
      if (list.length > MAX_CALLS) throw new Error(`${list.length} calls for one thread (at most ${MAX_CALLS})`);
      list.forEach((call, c) => {
        const fn = this.index.get(call.fn);
        if (fn === undefined) throw new Error(`no kernel named ${call.fn} in kernels-threads.wasm`);
        if (call.args.length > MAX_ARGS) throw new Error(`${call.fn} given ${call.args.length} arguments (at most ${MAX_ARGS})`);
        words[FUNCTION + c] = fn;
        args.set(call.args, c * MAX_ARGS);
      });
      Atomics.store(words, CALL_COUNT, list.length);
      Atomics.store(words, JOB, job);
      Atomics.notify(words, JOB);
    }
    let failure: unknown;
    try {
      for (const call of calls[0] ?? []) (this.kernels.kernel(call.fn) as (...a: number[]) => unknown)(...call.args);
    } catch (error) {
      failure = error;
    }
    // Every helper is waited for even after a failure here: none may still write when this returns.
    for (let t = 1; t < calls.length; t++) {
      const helper = this.helpers[t - 1];
      waitForChange(helper.words, DONE, before[t - 1], RESULT_SPIN_MS);
      if (Atomics.load(helper.words, FAILED) !== 0) {
        const message = receiveMessageOnPort(helper.errors)?.message ?? "no message";
        failure ??= new Error(`a kernel failed on helper thread ${t} of the model: ${String(message)}`);
        Atomics.store(helper.words, FAILED, 0);
      }
    }
    if (failure) throw failure;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const helper of this.helpers) {
      Atomics.store(helper.words, JOB, CLOSE);
      Atomics.notify(helper.words, JOB);
      helper.errors.close();
      void helper.worker.terminate();
    }
  }
}

/** Teams of `threads` threads in all (the model's own included), as worker threads of this process. */
export function nodeThreadTeams(threads: number): ThreadTeamFactory {
  return { threads, start: (kernels, scratch) => new NodeThreadTeam(kernels, scratch) };
}
