// Three-broker benchmark: three broker processes (each its own port on 127.0.0.1) on one PostgreSQL database,
// against the raw-ws relay baseline of the same run. Direct-message one-way latency, paced, with sender and
// recipient on one broker vs on two brokers (the cross-broker path is the store's LISTEN/NOTIFY wake-up), and
// throughput of a ring of peers all on one broker vs spread over the three (every hop then crosses brokers).
// Needs DATABASE_URL: brokers sharing a SQLite file do not wake each other (no cross-process notices), so a
// SQLite variant would measure polling-free silence, not routing. `--quick` runs fewer messages.
import { cpuMicros, startRole } from "./lib/child.js";
import type { BenchIdentity } from "./lib/mesh.js";
import { measurePair, type PairResult } from "./lib/pair.js";
import { createStoreTarget, identities, startBrokerOn, startServer, type Server } from "./lib/server.js";
import { ms, rate, ratio } from "./lib/stats.js";

const quick = process.argv.includes("--quick");
const BROKERS = 3;
const LATENCY_COUNT = quick ? 500 : 3_000;
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
  count: LATENCY_COUNT,
  intervalMs: LATENCY_INTERVAL_MS,
  window: 1,
  payloadBytes: PAYLOAD_BYTES,
};

async function relayLatency(): Promise<PairResult> {
  const relay = await startServer("relay");
  try {
    const pair = (await identities("relay", relay, 2)) as [BenchIdentity, BenchIdentity];
    return await measurePair(relay, "relay", pair, PAIR_RUN);
  } finally {
    await relay.role.stop();
  }
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
  `bench:brokers: ${BROKERS} brokers on one PostgreSQL database; latency ${LATENCY_COUNT} msgs (1 every ${LATENCY_INTERVAL_MS} ms, ${PAYLOAD_BYTES} B), ring ${RING_PEERS} peers × ${RING_PER_PEER} msgs`,
);
const baseLatency = await relayLatency();
const baseRing = await relayRing();

const store = await createStoreTarget("postgres");
const brokers: Array<Omit<Server, "cleanup">> = [];
let same: PairResult;
let cross: PairResult;
let oneBroker: RingResult;
let spread: RingResult;
try {
  // Sequentially: the first applies the migrations; the others find them applied.
  for (let i = 0; i < BROKERS; i++) brokers.push(await startBrokerOn(store.db));
  const servers = brokers.map((b) => ({ ...b, cleanup: async () => {} }));
  const [b1, b2] = servers as [Server, Server, Server];
  // Identities are made through broker 1's HTTP API; every broker reads them from the shared store.
  const samePair = (await identities("broker", b1, 2)) as [BenchIdentity, BenchIdentity];
  const crossPair = (await identities("broker", b1, 2)) as [BenchIdentity, BenchIdentity];
  same = await measurePair(b1, "broker", samePair, PAIR_RUN);
  cross = await measurePair(b1, "broker", crossPair, { ...PAIR_RUN, receiverWsUrl: b2.wsUrl });
  oneBroker = await ring("broker", [b1], await identities("broker", b1, RING_PEERS));
  // CPU of all three brokers is counted: the spread ring loads each of them.
  spread = await ring("broker", servers, await identities("broker", b1, RING_PEERS));
} finally {
  await Promise.all(brokers.map((b) => b.role.stop()));
  await store.cleanup();
}

const lat = (name: string, r: PairResult, vsSame: string): string =>
  `| ${name} | ${ms(r.oneWay.p50)} | ${ms(r.oneWay.p90)} | ${ms(r.oneWay.p99)} | ${ms(r.oneWay.max)} | ${ratio(r.oneWay.p50, baseLatency.oneWay.p50)} | ${vsSame} | ${ms(r.ack.p50)} | ${r.delivered}/${LATENCY_COUNT} |`;
console.log(
  `### ${BROKERS} brokers on one PostgreSQL: direct-message latency (${LATENCY_COUNT} msgs, 1 every ${LATENCY_INTERVAL_MS} ms, ${PAYLOAD_BYTES} B)`,
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
  same.delivered !== LATENCY_COUNT ||
  cross.delivered !== LATENCY_COUNT;
process.exit(failed ? 1 : 0);
