// The Train page's file map: the browser modules' static-import closure holds the engine and the
// trainer, imports nothing from node:, and has its npm imports rewritten to the vendored copies.
import assert from "node:assert/strict";
import { test } from "node:test";
import { moduleClosure, TRAIN_ENTRY_MODULES } from "../src/serve/trainPageFiles.js";

test("the page's and workers' modules reach the engine and trainer without a node: import", () => {
  const closure = moduleClosure(TRAIN_ENTRY_MODULES);
  for (const needed of ["dist/src/engine/kernels.js", "dist/src/engine/mlp.js", "dist/src/train/trainer.js", "dist/src/checkpoint/checkpointBytes.js"]) {
    assert.ok(closure.has(needed), `${needed} is not served`);
  }
  for (const [path, text] of closure) {
    assert.doesNotMatch(text, /from\s*"node:/, `${path} imports node:`);
    assert.doesNotMatch(text, /from\s*"(pure-rand|fflate)"/, `${path} keeps a bare import`);
  }
  assert.match(closure.get("dist/src/random.js")!, /from "\.\.\/\.\.\/vendor\/pure-rand\/pure-rand\.js"/);
  // Node's kernel loader is reached only through kernels.ts's dynamic import, so it is not served.
  assert.ok(!closure.has("dist/src/engine/kernelsNode.js"));
});

test("a module that imports node: or an unvendored package is refused", () => {
  assert.throws(() => moduleClosure(["dist/src/data/mnist.js"]), /imports node:fs: a browser module may not/);
  assert.throws(() => moduleClosure(["dist/src/cli/flags.js"]), /imports the package commander/);
});
