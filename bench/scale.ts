// Scale benchmark: N idle connections against the broker and the raw-ws relay of the same run —
// handshakes/s and server CPU per handshake while they connect, RSS per connection, and, while they are held,
// the worst direct-message latency of a paced pair and the server's worst event-loop delay (liveness ticks
// included). `--quick`: 2,000 connections held 12 s with a 5 s ping interval; `--conns=N`, `--hold=S`, `--stores=…`.
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { cpuMicros, processStats, startRole } from "./lib/child.js";
import { createBenchMesh, type BenchIdentity } from "./lib/mesh.js";
import { measurePair } from "./lib/pair.js";
import type { Mode } from "./lib/peer.js";
import { identities, startServer, type Server, type Target } from "./lib/server.js";
import { ms, ratio } from "./lib/stats.js";

const quick = process.argv.includes("--quick");
const flag = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const CONNS = Number(flag("conns") ?? (quick ? 2_000 : 10_000));
const HOLD_S = Number(flag("hold") ?? (quick ? 12 : 60));
const PING_INTERVAL_MS = quick ? 5_000 : 30_000;
const PAIR_INTERVAL_MS = 20;
const MESH_SIZE = 1_000;
const PARALLEL_HANDSHAKES = 50;

interface ScaleResult {
  handshakesPerSec: number;
  cpuPerHandshakeUs: number;
  rssPerConnKiB: number;
  latencyP99: number;
  latencyMax: number;
  loopMaxMs: number;
  delivered: number;
  expected: number;
}

/** `count` idle identities: members of meshes of MESH_SIZE (the connection cap) on the broker, bare keys for the relay. */
async function idleIdentities(mode: Mode, server: Server, count: number): Promise<BenchIdentity[]> {
  if (mode === "relay") return identities(mode, server, count);
  const sizes = Array.from({ length: Math.ceil(count / MESH_SIZE) }, (_, i) =>
    Math.min(MESH_SIZE, count - i * MESH_SIZE),
  );
  return (await Promise.all(sizes.map((size) => createBenchMesh(server.httpUrl, size)))).flat();
}

const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** With BENCH_STALL_DIR (see lib/child.ts): the hold window of each server, to pick its stalls out. */
function markHold(target: Target, pid: number | undefined, fromUs: number, toUs: number): void {
  const dir = process.env.BENCH_STALL_DIR;
  if (dir) appendFileSync(join(dir, "holds.jsonl"), `${JSON.stringify({ target, pid, fromUs, toUs })}\n`);
}

async function runScale(target: Target): Promise<ScaleResult> {
  const mode: Mode = target === "relay" ? "relay" : "broker";
  const server = await startServer(target, { pingIntervalMs: PING_INTERVAL_MS });
  const swarm = startRole("idle-swarm");
  try {
    const idle = await idleIdentities(mode, server, CONNS);
    const pair = (await identities(mode, server, 2)) as [BenchIdentity, BenchIdentity];
    const before = await processStats(server.role);
    const cpuBefore = await cpuMicros(server.role);
    swarm.send({ type: "setup", mode, wsUrl: server.wsUrl, identities: idle, parallel: PARALLEL_HANDSHAKES });
    const connected = await swarm.next<{ type: "connected"; count: number; elapsedMs: number }>(
      "connected",
      900_000,
    );
    const cpuAfter = await cpuMicros(server.role);
    const afterConnect = await processStats(server.role); // also resets the loop-delay window
    const holdFromUs = monotonicUs();
    const count = Math.floor((HOLD_S * 1000) / PAIR_INTERVAL_MS);
    const latency = await measurePair(server, mode, pair, {
      count,
      intervalMs: PAIR_INTERVAL_MS,
      window: 1,
      payloadBytes: 256,
    });
    const held = await processStats(server.role);
    markHold(target, server.role.child.pid, holdFromUs, monotonicUs());
    return {
      handshakesPerSec: (connected.count / connected.elapsedMs) * 1000,
      cpuPerHandshakeUs: (cpuAfter - cpuBefore) / connected.count,
      rssPerConnKiB: (afterConnect.rssBytes - before.rssBytes) / connected.count / 1024,
      latencyP99: latency.oneWay.p99,
      latencyMax: latency.oneWay.max,
      loopMaxMs: held.loopMaxMs,
      delivered: latency.delivered,
      expected: count,
    };
  } finally {
    await Promise.all([swarm.stop(), server.role.stop()]);
    await server.cleanup();
  }
}

// `--stores=sqlite` or `--stores=postgres` narrows a run (the relay baseline always runs first).
const stores = (flag("stores") ?? "sqlite,postgres").split(",");
const targets: Target[] = ["relay"];
if (stores.includes("sqlite")) targets.push("sqlite");
if (!stores.includes("postgres")) {
  // not asked for
} else if (process.env.DATABASE_URL) targets.push("postgres");
else console.error("bench:scale: DATABASE_URL not set — PostgreSQL runs skipped");

const results = new Map<Target, ScaleResult>();
for (const target of targets) {
  console.error(`bench:scale: ${target}, ${CONNS} idle connections held ${HOLD_S} s`);
  results.set(target, await runScale(target));
}
const base = results.get("relay")!;
console.log(
  `### ${CONNS} idle connections (${PARALLEL_HANDSHAKES} handshakes in flight), held ${HOLD_S} s with a paced pair (1 msg / ${PAIR_INTERVAL_MS} ms), ping every ${PING_INTERVAL_MS / 1000} s`,
);
console.log("");
console.log(
  "| server | handshakes/s | vs relay | server CPU per handshake | vs relay | RSS per connection | pair one-way p99 / max while held | worst event-loop delay while held | pair delivered |",
);
console.log("|---|---|---|---|---|---|---|---|---|");
for (const [target, r] of results) {
  const name = target === "relay" ? "raw ws relay (baseline)" : `broker (${target})`;
  console.log(
    `| ${name} | ${r.handshakesPerSec.toFixed(0)} | ${ratio(r.handshakesPerSec, base.handshakesPerSec)} | ${r.cpuPerHandshakeUs.toFixed(0)} µs | ${ratio(r.cpuPerHandshakeUs, base.cpuPerHandshakeUs)} | ${r.rssPerConnKiB.toFixed(1)} KiB | ${ms(r.latencyP99)} / ${ms(r.latencyMax)} | ${ms(r.loopMaxMs)} | ${r.delivered}/${r.expected} |`,
  );
}
process.exit([...results.values()].some((r) => r.delivered !== r.expected) ? 1 : 0);
