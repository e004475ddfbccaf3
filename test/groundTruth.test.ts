// The repository stands alone: the PyTorch ground truth lives in test/fixtures, the script that
// makes it reproduces it, and no compiled file reaches outside the repository for anything.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, it } from "node:test";
import { FIXTURES_DIR, PYTHON, REPO_ROOT, torchUnavailable } from "./support/fixtures.js";

const DIST = join(REPO_ROOT, "dist");

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel));
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? jsFiles(join(dir, e.name)) : e.name.endsWith(".js") ? [join(dir, e.name)] : []);
}

describe("the repository stands alone", () => {
  it("keeps its fixtures inside the repository", () => {
    assert.ok(inside(REPO_ROOT, FIXTURES_DIR), `${FIXTURES_DIR} is outside ${REPO_ROOT}`);
    const names = readdirSync(FIXTURES_DIR).filter((n) => n.endsWith(".json"));
    assert.ok(names.includes("activation_curves.json") && names.includes("param_counts.json"));
    assert.ok(names.filter((n) => n.startsWith("mlp_step_")).length >= 12);
  });

  it("resolves every file URL of src, test and bench inside the repository", () => {
    // new URL("<relative>", import.meta.url) is how the code finds files (kernels, page, fixtures).
    const pattern = /new URL\(\s*["'`]([^"'`$]+)["'`]\s*,\s*import\.meta\.url\s*\)/g;
    const outside: string[] = [];
    let seen = 0;
    for (const file of ["src", "test", "bench"].flatMap((d) => jsFiles(join(DIST, d)))) {
      for (const [, target] of readFileSync(file, "utf8").matchAll(pattern)) {
        seen++;
        const path = fileURLToPath(new URL(target, pathToFileURL(file)));
        if (!inside(resolve(REPO_ROOT), path)) outside.push(`${relative(REPO_ROOT, file)}: ${target} -> ${path}`);
      }
    }
    assert.ok(seen > 3, `only ${seen} file URLs found: the pattern no longer matches the code`);
    assert.deepEqual(outside, []);
  });

  it("scripts/make_fixtures.py --check reproduces every fixture", (t) => {
    const missing = torchUnavailable();
    if (missing) {
      return t.skip(missing);
    }
    const check = spawnSync(PYTHON, [join(REPO_ROOT, "scripts", "make_fixtures.py"), "--check"], { encoding: "utf8", timeout: 120_000 });
    assert.equal(check.status, 0, `make_fixtures.py --check:\n${check.stdout}\n${check.stderr}`);
    const okLines = check.stdout.split("\n").filter((l) => l.startsWith("ok "));
    const stored = readdirSync(FIXTURES_DIR).filter((n) => n.endsWith(".json"));
    assert.equal(okLines.length, stored.length, check.stdout);
  });
});
