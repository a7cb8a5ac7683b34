// Benchmark orchestrator: raw-ws relay baseline vs the broker (SQLite, and PostgreSQL when DATABASE_URL is set),
// every process on loopback, results printed as a Markdown table with ratios to the baseline measured in this run.
import { startRole } from "./lib/child.js";
import { measurePair, type PairResult } from "./lib/pair.js";
import type { BenchIdentity } from "./lib/mesh.js";
import type { Mode } from "./lib/peer.js";
import { identities, startServer, type Target } from "./lib/server.js";
import { ms, rate, ratio } from "./lib/stats.js";

const args = new Set(process.argv.slice(2));
const quick = args.has("--quick");
const LATENCY_COUNT = quick ? 500 : 3_000;
const LATENCY_INTERVAL_MS = 2;
const THROUGHPUT_COUNT = quick ? 10_000 : 60_000;
const THROUGHPUT_WINDOW = 2_000;
const SWARM_PEERS = quick ? 20 : 100;
const SWARM_PER_PEER = quick ? 200 : 1_000;
const PAYLOAD_BYTES = 256;

/** Three processes: server, sender, receiver. */
async function runPair(target: Target, count: number, intervalMs: number): Promise<PairResult> {
  const mode: Mode = target === "relay" ? "relay" : "broker";
  const server = await startServer(target);
  try {
    const pair = (await identities(mode, server, 2)) as [BenchIdentity, BenchIdentity];
    return await measurePair(server, mode, pair, {
      count,
      intervalMs,
      window: THROUGHPUT_WINDOW,
      payloadBytes: PAYLOAD_BYTES,
    });
  } finally {
    await server.role.stop();
    await server.cleanup();
  }
}

interface SwarmResult {
  total: number;
  received: number;
  duplicates: number;
  outOfOrder: number;
  undecryptable: number;
  elapsedMs: number;
  timedOut: boolean;
}

async function runSwarm(target: "sqlite" | "postgres"): Promise<SwarmResult> {
  const server = await startServer(target);
  const swarm = startRole("swarm");
  try {
    const ids = await identities("broker", server, SWARM_PEERS);
    swarm.send({ type: "setup", wsUrl: server.wsUrl, identities: ids, perPeer: SWARM_PER_PEER, window: 20 });
    return await swarm.next<SwarmResult & { type: "done" }>("done", 600_000);
  } finally {
    await Promise.all([swarm.stop(), server.role.stop()]);
    await server.cleanup();
  }
}

const stores: Array<"sqlite" | "postgres"> = ["sqlite"];
if (process.env.DATABASE_URL) stores.push("postgres");
else console.error("bench: DATABASE_URL not set — PostgreSQL runs skipped");

const lines: string[] = [];
const out = (line: string): void => {
  lines.push(line);
  console.log(line);
};

console.error(
  `bench: latency (${LATENCY_COUNT} msgs, 1 every ${LATENCY_INTERVAL_MS} ms, ${PAYLOAD_BYTES} B)`,
);
const baseLatency = await runPair("relay", LATENCY_COUNT, LATENCY_INTERVAL_MS);
const latency = new Map<string, PairResult>();
for (const store of stores) latency.set(store, await runPair(store, LATENCY_COUNT, LATENCY_INTERVAL_MS));

console.error(`bench: throughput (${THROUGHPUT_COUNT} msgs, window ${THROUGHPUT_WINDOW})`);
const baseThroughput = await runPair("relay", THROUGHPUT_COUNT, 0);
const throughput = new Map<string, PairResult>();
for (const store of stores) throughput.set(store, await runPair(store, THROUGHPUT_COUNT, 0));

console.error(`bench: swarm (${SWARM_PEERS} peers × ${SWARM_PER_PEER} msgs)`);
const swarm = new Map<string, SwarmResult>();
for (const store of stores) swarm.set(store, await runSwarm(store));

out(`### Direct-message latency, sender → server → recipient (3 processes, ${LATENCY_COUNT} msgs, paced)`);
out("");
out("| server | p50 | p90 | p99 | max | p50 vs relay | sender→ack p50 |");
out("|---|---|---|---|---|---|---|");
out(
  `| raw ws relay (baseline) | ${ms(baseLatency.oneWay.p50)} | ${ms(baseLatency.oneWay.p90)} | ${ms(baseLatency.oneWay.p99)} | ${ms(baseLatency.oneWay.max)} | 1.00× | ${ms(baseLatency.ack.p50)} |`,
);
for (const [store, r] of latency)
  out(
    `| broker (${store}) | ${ms(r.oneWay.p50)} | ${ms(r.oneWay.p90)} | ${ms(r.oneWay.p99)} | ${ms(r.oneWay.max)} | ${ratio(r.oneWay.p50, baseLatency.oneWay.p50)} | ${ms(r.ack.p50)} |`,
  );
out("");
out(`### Sustained throughput (${THROUGHPUT_COUNT} direct msgs, ${THROUGHPUT_WINDOW} in flight)`);
out("");
out(
  "| server | acked/s (durable for the broker) | delivered/s | vs relay delivered/s | server CPU per msg | msgs per server CPU-second | delivered | duplicates |",
);
out("|---|---|---|---|---|---|---|---|");
const cpuCols = (r: PairResult): string =>
  `${r.serverCpuPerMsg.toFixed(1)} µs | ${(1e6 / r.serverCpuPerMsg).toFixed(0)}`;
out(
  `| raw ws relay (baseline) | ${baseThroughput.ackedPerSec.toFixed(0)} | ${baseThroughput.deliveredPerSec.toFixed(0)} | 1.00× | ${cpuCols(baseThroughput)} | ${baseThroughput.delivered} | ${baseThroughput.duplicates} |`,
);
for (const [store, r] of throughput)
  out(
    `| broker (${store}) | ${r.ackedPerSec.toFixed(0)} | ${r.deliveredPerSec.toFixed(0)} | ${ratio(r.deliveredPerSec, baseThroughput.deliveredPerSec)} | ${cpuCols(r)} | ${r.delivered} | ${r.duplicates} |`,
  );
out("");
out(`### Load: ${SWARM_PEERS} peers × ${SWARM_PER_PEER} messages in a ring`);
out("");
out("| store | delivered | duplicates | out of order | undecryptable | elapsed | msgs/s |");
out("|---|---|---|---|---|---|---|");
for (const [store, r] of swarm)
  out(
    `| ${store} | ${r.received}/${r.total}${r.timedOut ? " (timed out)" : ""} | ${r.duplicates} | ${r.outOfOrder} | ${r.undecryptable} | ${(r.elapsedMs / 1000).toFixed(1)} s | ${rate(r.received, r.elapsedMs).toFixed(0)} |`,
  );

const failed = [...swarm.values()].some(
  (r) => r.received !== r.total || r.duplicates > 0 || r.outOfOrder > 0,
);
process.exit(failed ? 1 : 0);
