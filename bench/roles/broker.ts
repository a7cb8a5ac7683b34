// Runs the real broker in its own process for the benchmarks (rate limits raised so they do not cap the run).
import { startBroker } from "@claudemesh/broker";
import { report, serveCpuUsage } from "../lib/child.js";

serveCpuUsage();
// The bounds soak asks for the heap after a full GC (available when run with --expose-gc).
process.on("message", (raw) => {
  if ((raw as { type?: string }).type !== "memory") return;
  (globalThis as { gc?: () => void }).gc?.();
  const usage = process.memoryUsage();
  report({ type: "memory-usage", heapUsed: usage.heapUsed, rss: usage.rss, external: usage.external });
});

const db = process.argv[2];
if (!db) throw new Error("usage: broker.js <sqlite-path|postgres-url> [options-json]");
const extra = JSON.parse(process.argv[3] ?? "{}") as Record<string, unknown>;

const broker = await startBroker({
  // CLAUDEMESH_* variables apply as to the real broker (e.g. CLAUDEMESH_LOG_LEVEL); the options below win.
  env: process.env,
  db,
  host: "127.0.0.1",
  port: 0,
  memberSendsPerSec: 1_000_000,
  memberSendBurst: 1_000_000,
  connFramesPerSec: 1_000_000,
  connFrameBurst: 1_000_000,
  httpRequestsPerSec: 100_000,
  httpRequestBurst: 100_000,
  // The group benchmark connects a sender and 1,000 recipients to one mesh.
  maxConnectionsPerMesh: 2_000,
  ...extra,
});
const httpUrl = broker.url.replace(/\/$/, "");
report({ type: "ready", httpUrl, wsUrl: `${httpUrl.replace(/^http/, "ws")}/ws` });

process.on("SIGTERM", () => {
  void broker.close().then(() => process.exit(0));
});
