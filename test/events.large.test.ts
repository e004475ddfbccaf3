// Event files beyond 2 GiB, and things that are not files: every reader of event files refuses them
// by their true (positive) size, before reading them, and never blocks on a FIFO. The large files
// are sparse (truncate), so they take no real disk space.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { InputError } from "../src/errors.js";
import { EventFileWriter } from "../src/log/events.js";
import { MAX_EVENT_FILE_BYTES, readEventDir, readEventFile, readEventFileRange } from "../src/log/eventReader.js";
import { HistogramStore } from "../src/serve/histogramStore.js";
import { temporaryDir } from "./support/scratch.js";

const scratch = temporaryDir("events-large");
after(() => scratch.remove());

const THREE_GB = 3_000_000_000;

function sparse(path: string, size: number): string {
  fs.writeFileSync(path, "");
  fs.truncateSync(path, size);
  return path;
}

describe("event files larger than the reader's bound", () => {
  it("readEventFile refuses a 3 GB file by its size, without reading it", () => {
    const dir = scratch.fresh();
    const big = sparse(join(dir, "events.out.tfevents.1.big"), THREE_GB);
    const started = performance.now();
    assert.throws(() => readEventFile(big), (e: unknown) => e instanceof InputError
      && e.message === `event file ${big}: 3000000000 bytes to read, over the ${MAX_EVENT_FILE_BYTES}-byte limit for an event file`);
    assert.ok(performance.now() - started < 500, "refused before reading");
  });

  it("readEventDir reports the big file and still reads the good one beside it", () => {
    const dir = scratch.fresh();
    const writer = new EventFileWriter(dir, { filenameSuffix: ".good", now: () => 1000 });
    writer.addScalar("loss", 0.5, 1);
    writer.close();
    sparse(join(dir, "events.out.tfevents.2.big"), THREE_GB);
    const results = readEventDir(dir);
    assert.equal(results.length, 2);
    const bad = results.find((r) => r.path.endsWith(".big"))!;
    const good = results.find((r) => r.path.endsWith(".good"))!;
    assert.equal(bad.ok, false);
    assert.match(bad.ok ? "" : bad.error.message, /3000000000 bytes to read, over the/);
    assert.equal(good.ok && good.events.at(-1)?.scalars[0].value, 0.5);
  });

  it("the dashboard's histogram store reads a 3 GB file in slices and warns without a negative length", async () => {
    const dir = scratch.fresh();
    sparse(join(dir, "events.out.tfevents.3.big"), THREE_GB);
    const { warnings } = await new HistogramStore().read(dir, "run", ["weight/relu/0"]);
    assert.equal(warnings.length, 1);
    // The store decodes 256 KB slices, so it meets the zero bytes' bad header without reading the rest.
    assert.match(warnings[0], /run\/events\.out\.tfevents\.3\.big: record 0 at byte 0: length CRC mismatch/);
    assert.doesNotMatch(warnings[0], /(?<![\w.-])-\d/, "no negative number");
  });

  it("a range is read whole across chunks and bounded by the file's size", () => {
    const dir = scratch.fresh();
    const path = join(dir, "events.out.tfevents.4.small");
    fs.writeFileSync(path, Buffer.from("0123456789"));
    assert.equal(Buffer.from(readEventFileRange(path, 2, 6)).toString(), "2345");
    assert.equal(Buffer.from(readEventFileRange(path, 8, 1000)).toString(), "89");
    assert.equal(readEventFileRange(path, 20).length, 0);
    assert.throws(() => readEventFileRange(path, 0, undefined, 5), /10 bytes to read, over the 5-byte limit/);
  });

  it("a FIFO or a directory named like an event file is refused at once, not waited on", () => {
    const dir = scratch.fresh();
    const fifo = join(dir, "events.out.tfevents.5.fifo");
    if (spawnSync("mkfifo", [fifo]).status !== 0) return;
    fs.mkdirSync(join(dir, "events.out.tfevents.6.dir"));
    // In a child with a time limit: a reader that blocks on the FIFO would otherwise hang the suite.
    const reader = fileURLToPath(new URL("../src/log/eventReader.js", import.meta.url));
    const script = `import { readEventFile } from ${JSON.stringify(reader)};
      for (const p of process.argv.slice(1)) { try { readEventFile(p); console.log("read " + p); } catch (e) { console.log(e.name + ": " + e.message); } }`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script, fifo, join(dir, "events.out.tfevents.6.dir")], { encoding: "utf8", timeout: 15_000, killSignal: "SIGKILL" });
    assert.equal(r.status, 0, `killed after hanging? ${r.stderr}`);
    assert.match(r.stdout, /InputError: cannot read event file .*5\.fifo: not a regular file/);
    assert.match(r.stdout, /InputError: cannot read event file .*6\.dir: (not a regular file|EISDIR)/);
  });
});
