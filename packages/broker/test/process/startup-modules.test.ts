// broker start-up — a SQLite broker never loads pg, and ws / libsodium load only after the ready line while requests still get served.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ensureBrokerBuilt, spawnBroker } from "../helpers/process.js";

// Preloaded into the broker: reports, in one ordered stream (stderr), every module the ESM loader
// resolves, every CommonJS require, and every stdout write.
const HOOK = `export async function resolve(s, c, n) { const r = await n(s, c); process._rawDebug("LOADED " + r.url); return r; }`;
const PRELOAD = [
  `import Module, { register } from "node:module";`,
  `register("data:text/javascript," + encodeURIComponent(${JSON.stringify(HOOK)}));`,
  `const load = Module._load;`,
  `Module._load = function (request, ...rest) { process._rawDebug("REQUIRED " + request); return load.call(this, request, ...rest); };`,
  `const write = process.stdout.write.bind(process.stdout);`,
  `process.stdout.write = (chunk, ...rest) => { process._rawDebug("STDOUT " + String(chunk).trim()); return write(chunk, ...rest); };`,
].join("\n");

let dir: string;
beforeAll(() => {
  ensureBrokerBuilt();
  dir = mkdtempSync(join(tmpdir(), "claudemesh-startup-modules-"));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("broker start-up loading", () => {
  it("loads no pg for SQLite, ws and libsodium after the ready line, and serves HTTP and WebSocket right after it", async () => {
    const broker = await spawnBroker(join(dir, "broker.db"), {
      env: { NODE_OPTIONS: `--import data:text/javascript,${encodeURIComponent(PRELOAD)}` },
    });
    try {
      const health = await fetch(`${broker.url}/health`);
      expect(health.status).toBe(200);
      const ws = new WebSocket(broker.wsUrl);
      await new Promise<void>((resolve, reject) => {
        ws.once("open", () => resolve());
        ws.once("error", reject);
      });
      ws.close();
    } finally {
      await broker.kill();
    }
    const lines = broker.logs;
    const ready = lines.findIndex((l) => l.startsWith("STDOUT ") && l.includes("listening on"));
    expect(ready).toBeGreaterThan(0);
    const loadedAt = (re: RegExp): number[] =>
      lines.flatMap((l, i) => (l.startsWith("LOADED ") && re.test(l) ? [i] : []));
    const ws = loadedAt(/node_modules[/]ws[/]/);
    const sodium = loadedAt(/node_modules[/]libsodium/);
    expect(ws.length).toBeGreaterThan(0);
    expect(sodium.length).toBeGreaterThan(0);
    expect(Math.min(...ws, ...sodium)).toBeGreaterThan(ready);
    // The store and zod are loaded before listening: the hook sees them, so it is watching.
    expect(loadedAt(/better-sqlite3/)[0]).toBeLessThan(ready);
    expect(lines.filter((l) => /^REQUIRED pg$|^LOADED .*node_modules[/]pg[/]/.test(l))).toEqual([]);
  }, 60_000);
});
