// The queue's address parsing, job ids and the bytes that carry epochs and final weights through
// Redis: what a worker encodes, the coordinator decodes to the very event the trainer emitted.
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadMnist } from "../src/data/mnist.js";
import { mlpConfig } from "../src/model.js";
import { parseQueueUrl } from "../src/sweep/queueConnection.js";
import { decodeEnd, decodeEpoch, encodeEnd, encodeEpoch, parseQueuedJob, queueJobId } from "../src/sweep/queueProtocol.js";
import { DEFAULT_SETTINGS, type TrainJob } from "../src/train/settings.js";
import { trainJob, type TrainEvent } from "../src/train/trainer.js";

test("--queue: user, password (URL-decoded), port and db from redis://; TLS from rediss://; the password never shown", () => {
  const plain = parseQueueUrl("redis://127.0.0.1:6390/3");
  assert.deepEqual([plain.options.host, plain.options.port, plain.options.db, plain.options.tls], ["127.0.0.1", 6390, 3, undefined]);
  const secure = parseQueueUrl("rediss://actlab:p%40ss@redis.example:6380");
  assert.deepEqual([secure.options.username, secure.options.password, secure.options.port, secure.options.db], ["actlab", "p@ss", 6380, 0]);
  assert.deepEqual(secure.options.tls, { servername: "redis.example" });
  assert.equal(secure.display, "rediss://redis.example:6380/0");
  assert.equal(parseQueueUrl("redis://[::1]").options.host, "::1");
  for (const bad of ["http://x:1", "redis://x:1/16", "redis://x:1/a", "redis://x:1/0?tls=1", "redis:///0", "x"]) {
    assert.throws(() => parseQueueUrl(bad), { name: "InputError" }, bad);
  }
});

const job: TrainJob = {
  model: "relu", seed: 7, trainLimit: 128, settings: { ...DEFAULT_SETTINGS, epochs: 2 },
  config: mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 16, numHiddenLayers: 3, activation: "relu" }),
};

test("job ids: the same job, the same id (a re-add is a no-op); any change that alters the weights, another; never a ':'", () => {
  assert.equal(queueJobId("s:1", job), queueJobId("s:1", { ...job, settings: { ...job.settings } }));
  assert.notEqual(queueJobId("s", job), queueJobId("s", { ...job, seed: 8 }));
  assert.notEqual(queueJobId("s", job), queueJobId("s", { ...job, settings: { ...job.settings, lr: 0.1 } }));
  assert.notEqual(queueJobId("s", job), queueJobId("t", job));
  assert.ok(!queueJobId("s:1", { ...job, model: "a:b" }).includes(":"));
});

test("a queued job's payload is checked before it is trained", () => {
  const payload = { sweep: "s", data: "a".repeat(64), job };
  assert.deepEqual(parseQueuedJob(JSON.parse(JSON.stringify(payload)), "1"), JSON.parse(JSON.stringify(payload)));
  assert.throws(() => parseQueuedJob({ ...payload, data: "short" }, "1"), /queue job 1 is not an actlab trial: data/);
  assert.throws(() => parseQueuedJob({ ...payload, job: { ...job, config: { ...job.config, activation: "nope" } } }, "1"), /unknown activation "nope"/);
});

test("epoch and end events survive encoding to Redis bytes exactly (records, diagnostics, layer tensors, resume state, weights)", () => {
  const events: TrainEvent[] = [];
  trainJob(job, loadMnist(), (event) => events.push(event));
  const epochs = events.filter((e) => e.type === "epoch");
  assert.equal(epochs.length, 2);
  assert.ok(epochs[0].resume, "the first epoch carries a resumable state");
  for (const event of epochs) {
    const copy = decodeEpoch(encodeEpoch(event, job.config), "test");
    // The last epoch's `resume: undefined` is left out, as JSON would.
    assert.deepEqual(copy, event.resume ? event : (({ resume: _, ...rest }) => rest)(event));
  }
  const end = events.find((e) => e.type === "end")!;
  assert.equal(end.type === "end" && end.status, "finished");
  assert.deepEqual(decodeEnd(encodeEnd(end), "test"), (({ resume: _, ...rest }) => rest)(end as Extract<TrainEvent, { type: "end" }>));
});
