// Runs the real broker in its own process for the benchmarks (rate limits raised so they do not cap the run).
import { startBroker } from "@claudemesh/broker";
import { report, serveCpuUsage } from "../lib/child.js";

serveCpuUsage();

const db = process.argv[2];
if (!db) throw new Error("usage: broker.js <sqlite-path|postgres-url> [options-json]");
const extra = JSON.parse(process.argv[3] ?? "{}") as Record<string, unknown>;

const broker = await startBroker({
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
