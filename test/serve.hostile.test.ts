// The dashboard against a hostile web page or client (issue 9 §2): Host headers a DNS-rebinding page
// could send, requests that would make it do unbounded work, and names that would reach
// Object.prototype. Plus the PNG renderer's size caps (issue 9 §3), which keep `plot --width` and
// `report --png-width` from taking gigabytes.
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { deflateSync } from "node:zlib";
import { loadMnist } from "../src/data/mnist.js";
import { SummaryWriter } from "../src/log/events.js";
import { InputError } from "../src/errors.js";
import { readPng } from "../src/plot/png.js";
import { checkPngWidth, MAX_PNG_PIXELS, MAX_PNG_WIDTH, renderPng } from "../src/plot/render.js";
import type { HistogramsResponse } from "../src/serve/apiTypes.js";
import { isLoopbackName, loopbackHostHeader, parseHostHeader } from "../src/serve/hostHeader.js";
import { HistogramStore } from "../src/serve/histogramStore.js";
import { HeavyGate, LIMITS } from "../src/serve/requestLimits.js";
import { DEFAULT_SETTINGS } from "../src/train/settings.js";
import { startServer, type DashboardServer } from "../src/serve/server.js";
import { runExperiments } from "../src/train/experiment.js";
import { smallRunSpec } from "./support/smallRun.js";

let work: string;
let logdir: string;
let server: DashboardServer;

function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: server.port, path, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => { body += chunk; });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** A request written byte for byte (Node's client would refuse or merge some of these headers); the status line's code. */
function rawStatus(head: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, "127.0.0.1", () => socket.write(head));
    let text = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk) => {
      text += chunk;
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m) {
        socket.destroy();
        resolve(Number(m[1]));
      }
    });
    socket.on("error", reject);
    socket.on("end", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
  });
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), "actlab-serve-hostile-"));
  logdir = join(work, "runs");
  mkdirSync(logdir);
  await runExperiments([smallRunSpec(logdir, "alpha", [0, 1], ["tanh", "relu"])], { data: loadMnist(), workers: 0 });
  for (let i = 0; i < LIMITS.runs + 1; i++) cpSync(join(logdir, "alpha"), join(logdir, `copy${i}`), { recursive: true });
  // A run with more epochs than one answer may hold.
  const long = join(logdir, "long");
  mkdirSync(long);
  // Valid config and metrics (the run-format schemas skip anything else), with one epoch past the cap.
  writeFileSync(join(long, "config.json"), JSON.stringify({
    name: "long", seeds: [0], settings: DEFAULT_SETTINGS,
    models: [{ model: "m", config: { inSize: 4, outSize: 2, hiddenSizes: [3], activation: "relu", leakySlope: 0.01 } }],
  }));
  writeFileSync(join(long, "metrics.jsonl"), `${JSON.stringify({
    model: "m", seed: 0, epoch: LIMITS.epochs + 1, train_loss: 1, test_acc: 0.5, test_loss: 1, seconds: 1, samples_per_s: 1,
  })}\n`);
  const writer = new SummaryWriter(long, { flushSecs: 1e9 });
  for (let step = 0; step <= LIMITS.epochs; step++) writer.addHistogram("weight/m/1", [step, -step, 1], step);
  writer.close();
  for (let i = 1; i < LIMITS.runs; i++) cpSync(long, join(logdir, `long${i}`), { recursive: true });
  server = await startServer({ logdir, port: 0 });
});

after(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

// Browsers send IP hosts canonicalised (WHATWG URL), so only canonical loopback spellings are needed;
// every other spelling is refused rather than interpreted.
const REFUSED_HOSTS = [
  "", " ", "127.attacker.example", "127.0.0.1.evil.com", "127.0.0.1.", "127.evil", "127.0.0.1x", "localhost.evil", "localhost.",
  "evil.localhost", "localhost.evil:6006", "attacker.example", "attacker.example:6006", "user@127.0.0.1", "127.0.0.1@evil.com",
  "user:pw@localhost:6006", "0x7f.1", "0x7f000001", "2130706433", "127.1", "127.0.1", "0177.0.0.1", "127.000.000.001",
  "127.0.0.256", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:123456", "127.0.0.1:80:80", "127.0.0.1:-1", "127.0.0.1:0x50",
  "[::1].evil", "[::1].evil:6006", "[::1]evil", "[::1", "::1]", "[::2]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]",
  "[0:0:0:0:0:ffff:7f00:1]", "::ffff:127.0.0.1", "[::1%25lo]", "[::1%lo]", "[fe80::1]", "[::]", "0.0.0.0", "10.0.0.1",
  "128.0.0.1", "127.0.0.1/evil", "127.0.0.1\\evil", "127.0.0.1%2eevil", "127.0.0.1#evil", "127.0.0.1?x", "xn--localhost",
  "1.127.0.0.1", "[127.0.0.1]", "a".repeat(300),
];
const ACCEPTED_HOSTS = [
  "127.0.0.1", "127.0.0.1:6006", "127.0.0.1:80", "localhost", "localhost:6006", "LOCALHOST:6006", "[::1]", "[::1]:6006",
  "::1", "127.1.2.3", "127.255.255.255:1", "[0:0:0:0:0:0:0:1]:6006",
];

describe("DNS-rebinding guard: the Host header is parsed, and only loopback passes", () => {
  test("the parser: name, port, IPv6 in brackets, no userinfo", () => {
    assert.deepEqual(parseHostHeader("127.0.0.1:6006"), { name: "127.0.0.1", ipv6: false, port: 6006 });
    assert.deepEqual(parseHostHeader("[::1]:8080"), { name: "::1", ipv6: true, port: 8080 });
    assert.deepEqual(parseHostHeader("LocalHost"), { name: "localhost", ipv6: false, port: null });
    for (const host of ["user@127.0.0.1", "127.0.0.1:", "[::1", "a b", "127.0.0.1:99999"]) assert.equal(parseHostHeader(host), null, host);
    for (const host of REFUSED_HOSTS) assert.equal(loopbackHostHeader(["Host", host]), false, host);
    for (const host of ACCEPTED_HOSTS) assert.equal(loopbackHostHeader(["Host", host]), true, host);
    assert.equal(loopbackHostHeader([]), false, "no Host header");
    assert.equal(loopbackHostHeader(["Host", "127.0.0.1", "host", "127.0.0.1"]), false, "two Host headers");
    for (const name of ["127.0.0.1", "localhost", "::1", "127.3.2.1"]) assert.ok(isLoopbackName(name), name);
    for (const name of ["0.0.0.0", "::", "192.168.1.1", "127.attacker.example", "::ffff:127.0.0.1"]) assert.ok(!isLoopbackName(name), name);
  });

  test("over the wire: refused forms get 403, loopback forms 200", async () => {
    for (const host of REFUSED_HOSTS) {
      const status = await rawStatus(`GET /api/runs HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      // Node itself answers 400 to a few malformed header values; neither is an answer from the dashboard.
      assert.ok(status === 403 || status === 400, `Host ${JSON.stringify(host)} answered ${status}`);
    }
    for (const host of ACCEPTED_HOSTS) {
      assert.equal(await rawStatus(`GET /api/runs HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`), 200, host);
    }
    const twice = await rawStatus("GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n");
    assert.ok(twice === 403 || twice === 400, `two Host headers answered ${twice}`);
    assert.equal(await rawStatus("GET /api/runs HTTP/1.1\r\nHost: attacker.example\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n") === 200, false);
    assert.equal(await rawStatus("GET /api/runs HTTP/1.0\r\n\r\n"), 403, "HTTP/1.0 without a Host header");
    assert.equal(await rawStatus("GET http://127.0.0.1/api/runs HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"), 403);
    assert.equal((await get("/", { host: "127.attacker.example:6006" })).status, 403);
  });

  test("bound to a loopback name (localhost), the guard stays on", async () => {
    const onLocalhost = await startServer({ logdir, port: 0, host: "localhost" });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        request({ host: "localhost", port: onLocalhost.port, path: "/api/runs", headers: { host: "127.attacker.example" } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on("error", reject).end();
      });
      assert.equal(status, 403);
    } finally {
      await onLocalhost.close();
    }
  });
});

describe("bounded work: repeated and oversized parameters", () => {
  test("run= repeated 900 times is one run, answered small and fast", async () => {
    const one = await get("/api/histograms?run=alpha&layer=1");
    const many = await get(`/api/histograms?${"run=alpha&".repeat(900)}layer=1&${"model=relu&".repeat(100)}`);
    assert.equal(many.status, 200, many.body);
    const answer = JSON.parse(many.body) as HistogramsResponse;
    assert.deepEqual(answer.series.map((s) => s.tag), ["grad_weight/relu_seed0/1"]);
    assert.ok(many.body.length <= one.body.length, `${many.body.length} bytes for one run named 900 times`);
  });

  test("beyond each cap: 400 with a JSON error naming the parameter and the cap", async () => {
    const runs = Array.from({ length: LIMITS.runs + 1 }, (_, i) => `run=copy${i}`).join("&");
    const models = Array.from({ length: LIMITS.models + 1 }, (_, i) => `model=m${i}`).join("&");
    const names = Array.from({ length: LIMITS.names + 1 }, (_, i) => `name=n${i}`).join("&");
    const cases: [string, string, number][] = [
      [`/api/histograms?${runs}`, "run", LIMITS.runs],
      [`/api/histograms?run=alpha&${models}`, "model", LIMITS.models],
      [`/api/histograms?run=alpha&bins=${LIMITS.bins + 1}`, "bins", LIMITS.bins],
      ["/api/histograms?run=alpha&bins=1000000000", "bins", LIMITS.bins],
      [`/api/histograms?run=alpha&layer=${LIMITS.layer + 1}`, "layer", LIMITS.layer],
      ["/api/histograms?run=alpha&layer=99999999999", "layer", LIMITS.layer],
      [`/api/histograms?run=alpha&epochs=${LIMITS.epochs + 1}`, "epochs", LIMITS.epochs],
      [`/api/activations/curves?${names}`, "name", LIMITS.names],
    ];
    for (const [path, parameter, cap] of cases) {
      const res = await get(path);
      assert.equal(res.status, 400, `${path.slice(0, 80)}: ${res.body}`);
      const error = JSON.parse(res.body) as { error: string; parameter: string; cap: number };
      assert.equal(error.parameter, parameter);
      assert.equal(error.cap, cap);
      assert.match(error.error, new RegExp(`"${parameter}".*${cap}`));
    }
    // Exactly at the caps is answered.
    const atCap = Array.from({ length: LIMITS.runs }, (_, i) => `run=copy${i}`).join("&");
    assert.equal((await get(`/api/histograms?${atCap}&bins=${LIMITS.bins}&scale=log`)).status, 200);
    const latest = JSON.parse((await get("/api/histograms?run=alpha&model=relu&epochs=1")).body) as HistogramsResponse;
    assert.deepEqual(latest.series[0].steps.map((s) => s.step), [1]);
    // A run with more epochs than the cap: refused whole, answered for the latest N when asked.
    const long = await get("/api/histograms?run=long&kind=weight");
    assert.equal(long.status, 400, long.body);
    assert.deepEqual(JSON.parse(long.body).parameter, "epochs");
    assert.match(JSON.parse(long.body).error, /long weight\/m\/1 has 2001 epochs; pass epochs=N/);
    // The numbers in one answer are capped too: as many copies of the long run as it takes to pass the cap.
    const oneRes = await get("/api/histograms?run=long&kind=weight&epochs=200");
    assert.equal(oneRes.status, 200, oneRes.body.slice(0, 300));
    const one = JSON.parse(oneRes.body) as HistogramsResponse;
    const cells = one.series[0].steps.reduce((n, st) => n + 3 + st.bucket!.length + st.bucketLimit!.length, 0);
    const copies = Math.floor(LIMITS.histogramCells / cells) + 1;
    assert.ok(copies <= LIMITS.runs, `${cells} numbers per copy`);
    const longRuns = ["long", ...Array.from({ length: copies - 1 }, (_, i) => `long${i + 1}`)].map((r) => `run=${r}`).join("&");
    const tooMany = await get(`/api/histograms?${longRuns}&kind=weight&epochs=200`);
    assert.equal(tooMany.status, 400, tooMany.body.slice(0, 200));
    assert.equal(JSON.parse(tooMany.body).cap, LIMITS.histogramCells);
    const fewer = await get(`/api/histograms?${longRuns.split("&").slice(0, copies - 1).join("&")}&kind=weight&epochs=200`);
    assert.equal(fewer.status, 200);
    const last5 = JSON.parse((await get("/api/histograms?run=long&kind=weight&epochs=5&bins=4")).body) as HistogramsResponse;
    assert.deepEqual(last5.series[0].steps.map((s) => s.step), [1996, 1997, 1998, 1999, 2000]);
  });
});

describe("heavy work is sliced and gated", () => {
  test("an event file is decoded in slices with a pause between them, once for concurrent readers", async () => {
    let pauses = 0;
    const store = new HistogramStore(async () => { pauses++; await new Promise((resolve) => setImmediate(resolve)); });
    const tags = ["weight/relu_seed0/1", "grad_weight/tanh_seed1/4"];
    const [a, b] = await Promise.all([store.read(join(logdir, "alpha"), "alpha", tags), store.read(join(logdir, "alpha"), "alpha", tags)]);
    assert.ok(pauses >= 2, `${pauses} pauses while decoding a 0.5 MB event file`);
    const decodedOnce = pauses;
    for (const tag of tags) {
      assert.deepEqual([...a.byTag.get(tag)!.keys()].sort(), [0, 1]);
      assert.equal(a.byTag.get(tag)!.get(1), b.byTag.get(tag)!.get(1), "both readers share one decoding");
    }
    await store.read(join(logdir, "alpha"), "alpha", tags);
    assert.equal(pauses, decodedOnce, "an unchanged file is not decoded again");
  });

  test("the gate runs at most `concurrent` at once, queues a few, and refuses the rest with 503", async () => {
    const gate = new HeavyGate(2, 1);
    let running = 0;
    let peak = 0;
    const releases: (() => void)[] = [];
    const job = () => gate.run(async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => releases.push(resolve));
      running--;
    });
    const jobs = [job(), job(), job()];
    await assert.rejects(job(), (error: { status?: number }) => error.status === 503);
    while (releases.length > 0 || running > 0) {
      releases.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(jobs);
    assert.equal(peak, 2);
  });
});

describe("names that would reach Object.prototype are plain misses", () => {
  const PROTO_NAMES = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf", "__defineGetter__", "isPrototypeOf"];
  test("on every route that looks a name up: 400 or 404, never 500", async () => {
    for (const name of PROTO_NAMES) {
      const paths = [
        `/vendor/${name}`, `/app/${name}`, `/app/${name}.js`, `/api/${name}`, `/files/${name}`, `/files/alpha/${name}`,
        `/api/metrics?run=${name}`, `/api/config?run=${name}`, `/api/summary?run=${name}`, `/api/histograms?run=${name}`,
        `/api/histograms?run=alpha&model=${name}`, `/api/histograms?run=alpha&kind=${name}`, `/api/histograms?run=alpha&scale=${name}`,
        `/api/activations/curves?name=${name}`, `/${name}`,
      ];
      for (const path of paths) {
        const res = await get(path);
        assert.ok([400, 403, 404].includes(res.status) || (res.status === 200 && path.includes("model=")), `${path} answered ${res.status}: ${res.body}`);
        assert.doesNotMatch(res.body, /internal error/);
      }
    }
  });
});

describe("PNG size caps: a clear InputError before any pixel is allocated", () => {
  const svg = (w: number, h: number) => `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="${w}" height="${h}" fill="red"/></svg>`;
  test("width past MAX_PNG_WIDTH, and a huge SVG at the default zoom, are refused", () => {
    assert.equal(MAX_PNG_WIDTH, 8192);
    for (const width of [16384, MAX_PNG_WIDTH + 1, 1e9]) {
      const started = process.hrtime.bigint();
      assert.throws(() => renderPng(svg(400, 300), width), (error: unknown) =>
        error instanceof InputError && /PNG width .* over the limit of 8192 px \(--width, --png-width\)/.test(error.message));
      assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 1000);
    }
    assert.throws(() => checkPngWidth(0), InputError);
    assert.throws(() => checkPngWidth(1.5), InputError);
    // At the default zoom (twice the SVG) the SVG's own size counts: wide, or tall enough to pass the pixel cap.
    assert.throws(() => renderPng(svg(5000, 100)), (error: unknown) => error instanceof InputError && /over the limit/.test(error.message));
    assert.throws(() => renderPng(svg(100, 40000), 2000), (error: unknown) => error instanceof InputError && new RegExp(`${MAX_PNG_PIXELS} pixels`).test(error.message));
    assert.equal(readPng(renderPng(svg(40, 30), 80)).width, 80);
  });

  test("readPng refuses a header claiming a huge image, and never inflates past the header's rows", () => {
    const png = (width: number, height: number, data: Uint8Array) => {
      const chunk = (type: string, body: Uint8Array) => {
        const out = Buffer.alloc(12 + body.length);
        out.writeUInt32BE(body.length, 0);
        out.write(type, 4, "latin1");
        out.set(body, 8);
        return out; // CRC left zero: readPng does not check it
      };
      const ihdr = Buffer.alloc(13);
      ihdr.writeUInt32BE(width, 0);
      ihdr.writeUInt32BE(height, 4);
      ihdr[8] = 8;
      ihdr[9] = 6;
      return new Uint8Array(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", data), chunk("IEND", new Uint8Array(0))]));
    };
    assert.throws(() => readPng(png(100000, 100000, deflateSync(Buffer.alloc(10)))), /over the limit/);
    // 1 × 1 RGBA is 5 bytes of scanline; a zlib bomb of 64 MB of zeros must stop at the limit.
    assert.throws(() => readPng(png(1, 1, deflateSync(Buffer.alloc(64 << 20)))), /does not inflate to 1 rows/);
    assert.equal(readPng(png(1, 1, deflateSync(Buffer.alloc(5)))).width, 1);
  });
});
