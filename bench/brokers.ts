// Three-broker benchmark: three broker processes (each its own port on 127.0.0.1) on one PostgreSQL database,
// against the raw-ws relay baseline of the same run. Direct-message one-way latency, paced, with sender and
// recipient on one broker vs on two brokers (the cross-broker path is the store's LISTEN/NOTIFY wake-up), and
// throughput of a ring of peers all on one broker vs spread over the three (every hop then crosses brokers).
// Needs DATABASE_URL: brokers sharing a SQLite file do not wake each other (no cross-process notices), so a
// SQLite variant would measure waiting for the recipient's next connect, not routing. `--quick` runs fewer messages.
import { cpuMicros, startRole } from "./lib/child.js";
import type { BenchIdentity } from "./lib/mesh.js";
import { measurePair, type PairResult } from "./lib/pair.js";
import { createStoreTarget, identities, startBrokerOn, startServer, type Server } from "./lib/server.js";
import { ms, rate, ratio, summarize, type LatencySummary } from "./lib/stats.js";

const quick = process.argv.includes("--quick");
const BROKERS = 3;
const LATENCY_COUNT = quick ? 500 : 3_000;
/** Latency runs alternate relay, same broker and cross broker this many times (samples pooled), so drift in
 * the machine's load hits all three paths alike. */
const LATENCY_ROUNDS = quick ? 2 : 4;
const LATENCY_INTERVAL_MS = 2;
const PAYLOAD_BYTES = 256;
const RING_PEERS = quick ? 30 : 99; // a multiple of BROKERS, so the spread ring is even
const RING_PER_PEER = quick ? 300 : 1_000;
const RING_WINDOW = 20;
/** Issue target: cross-broker p50 at most this multiple of same-broker p50. */
const CROSS_TARGET = 1.5;

if (!process.env.DATABASE_URL) {
  console.log(
    "bench:brokers: DATABASE_URL is not set — nothing measured. Several brokers act as one only on PostgreSQL " +
      "(they wake each other through LISTEN/NOTIFY); brokers sharing a SQLite file get no notice of each other's " +
      "sends, so there is no SQLite variant. Run e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:brokers",
  );
  process.exit(0);
}

interface RingResult {
  total: number;
  received: number;
  duplicates: number;
  outOfOrder: number;
  undecryptable: number;
  elapsedMs: number;
  timedOut: boolean;
  /** Sum over every server process of its CPU time over the run, per message (µs). */
  cpuPerMsg: number;
}

const PAIR_RUN = {
  count: Math.ceil(LATENCY_COUNT / LATENCY_ROUNDS),
  intervalMs: LATENCY_INTERVAL_MS,
  window: 1,
  payloadBytes: PAYLOAD_BYTES,
};

/** Latency of one path, pooled over the rounds. */
interface Latency {
  oneWay: LatencySummary;
  ack: LatencySummary;
  delivered: number;
  expected: number;
}

function pooled(runs: readonly PairResult[]): Latency {
  return {
    oneWay: summarize(runs.flatMap((r) => r.oneWaySamples)),
    ack: summarize(runs.flatMap((r) => r.ackSamples)),
    delivered: runs.reduce((n, r) => n + r.delivered, 0),
    expected: runs.length * PAIR_RUN.count,
  };
}

/** A ring of RING_PEERS over `servers` (peer i on servers[i % n]); CPU summed over `servers`. */
async function ring(mode: "relay" | "broker", servers: Server[], ids: BenchIdentity[]): Promise<RingResult> {
  const swarm = startRole("swarm");
  try {
    const before = await Promise.all(servers.map((s) => cpuMicros(s.role)));
    swarm.send({
      type: "setup",
      mode,
      wsUrl: servers[0]?.wsUrl,
      wsUrls: servers.map((s) => s.wsUrl),
      identities: ids,
      perPeer: RING_PER_PEER,
      window: RING_WINDOW,
    });
    const done = await swarm.next<Omit<RingResult, "cpuPerMsg"> & { type: "done" }>("done", 600_000);
    const after = await Promise.all(servers.map((s) => cpuMicros(s.role)));
    const cpu = after.reduce((sum, t, i) => sum + t - (before[i] ?? 0), 0);
    return { ...done, cpuPerMsg: cpu / done.total };
  } finally {
    await swarm.stop();
  }
}

async function relayRing(): Promise<RingResult> {
  const relay = await startServer("relay");
  try {
    return await ring("relay", [relay], await identities("relay", relay, RING_PEERS));
  } finally {
    await relay.role.stop();
  }
}

console.error(
  `bench:brokers: ${BROKERS} brokers on one PostgreSQL database; latency ${LATENCY_COUNT} msgs per path in ${LATENCY_ROUNDS} rounds (1 every ${LATENCY_INTERVAL_MS} ms, ${PAYLOAD_BYTES} B), ring ${RING_PEERS} peers × ${RING_PER_PEER} msgs`,
);
const baseRing = await relayRing();

const relay = await startServer("relay");
const store = await createStoreTarget("postgres");
const brokers: Array<Omit<Server, "cleanup">> = [];
const runs = { relay: [] as PairResult[], same: [] as PairResult[], cross: [] as PairResult[] };
let oneBroker: RingResult;
let spread: RingResult;
try {
  // Sequentially: the first applies the migrations; the others find them applied.
  for (let i = 0; i < BROKERS; i++) brokers.push(await startBrokerOn(store.db));
  const servers = brokers.map((b) => ({ ...b, cleanup: async () => {} }));
  const [b1, b2] = servers as [Server, Server, Server];
  // A fresh pair each run; broker identities are made through broker 1's HTTP API and every broker
  // reads them from the shared store.
  const pair = async (server: Server, mode: "relay" | "broker") =>
    (await identities(mode, server, 2)) as [BenchIdentity, BenchIdentity];
  for (let round = 0; round < LATENCY_ROUNDS; round++) {
    runs.relay.push(await measurePair(relay, "relay", await pair(relay, "relay"), PAIR_RUN));
    runs.same.push(await measurePair(b1, "broker", await pair(b1, "broker"), PAIR_RUN));
    const crossRun = { ...PAIR_RUN, receiverWsUrl: b2.wsUrl };
    runs.cross.push(await measurePair(b1, "broker", await pair(b1, "broker"), crossRun));
  }
  oneBroker = await ring("broker", [b1], await identities("broker", b1, RING_PEERS));
  // CPU of all three brokers is counted: the spread ring loads each of them.
  spread = await ring("broker", servers, await identities("broker", b1, RING_PEERS));
} finally {
  await Promise.all([relay.role.stop(), ...brokers.map((b) => b.role.stop())]);
  await store.cleanup();
}
const baseLatency = pooled(runs.relay);
const same = pooled(runs.same);
const cross = pooled(runs.cross);

const lat = (name: string, r: Latency, vsSame: string): string =>
  `| ${name} | ${ms(r.oneWay.p50)} | ${ms(r.oneWay.p90)} | ${ms(r.oneWay.p99)} | ${ms(r.oneWay.max)} | ${ratio(r.oneWay.p50, baseLatency.oneWay.p50)} | ${vsSame} | ${ms(r.ack.p50)} | ${r.delivered}/${r.expected} |`;
console.log(
  `### ${BROKERS} brokers on one PostgreSQL: direct-message latency (${LATENCY_ROUNDS} alternating rounds of ${PAIR_RUN.count} msgs per path, 1 every ${LATENCY_INTERVAL_MS} ms, ${PAYLOAD_BYTES} B)`,
);
console.log("");
console.log(
  "| path | p50 | p90 | p99 | max | p50 vs relay | p50 vs same broker | sender→ack p50 | delivered |",
);
console.log("|---|---|---|---|---|---|---|---|---|");
console.log(lat("raw ws relay (baseline)", baseLatency, "—"));
console.log(lat("same broker (sender and recipient on broker 1)", same, "1.00×"));
console.log(
  lat(
    "cross broker (sender on broker 1, recipient on broker 2)",
    cross,
    ratio(cross.oneWay.p50, same.oneWay.p50),
  ),
);
console.log("");
const crossRatio = cross.oneWay.p50 / same.oneWay.p50;
console.log(
  `Cross-broker p50 / same-broker p50: ${crossRatio.toFixed(2)}× (target ≤ ${CROSS_TARGET}×: ${crossRatio <= CROSS_TARGET ? "met" : "not met"}); p99: ${ratio(cross.oneWay.p99, same.oneWay.p99)}.`,
);
console.log("");
console.log(
  `### ${BROKERS} brokers on one PostgreSQL: ring of ${RING_PEERS} peers × ${RING_PER_PEER} direct msgs (${RING_WINDOW} in flight each)`,
);
console.log("");
console.log(
  "| layout | delivered | duplicates | out of order | elapsed | msgs/s | vs relay | server CPU per msg (all servers) |",
);
console.log("|---|---|---|---|---|---|---|---|");
const ringLine = (name: string, r: RingResult): string =>
  `| ${name} | ${r.received}/${r.total}${r.timedOut ? " (timed out)" : ""} | ${r.duplicates} | ${r.outOfOrder} | ${(r.elapsedMs / 1000).toFixed(1)} s | ${rate(r.received, r.elapsedMs).toFixed(0)} | ${ratio(rate(r.received, r.elapsedMs), rate(baseRing.received, baseRing.elapsedMs))} | ${r.cpuPerMsg.toFixed(1)} µs |`;
console.log(ringLine("raw ws relay (baseline)", baseRing));
console.log(ringLine("all peers on broker 1 (brokers 2, 3 idle)", oneBroker));
console.log(ringLine(`spread over ${BROKERS} brokers (every hop crosses brokers)`, spread));

const failed =
  [oneBroker, spread].some((r) => r.received !== r.total || r.duplicates > 0 || r.outOfOrder > 0) ||
  [same, cross].some((r) => r.delivered !== r.expected);
process.exit(failed ? 1 : 0);
