// Group benchmark (SPEC §4 revision 2): one broadcast to 10 / 100 / 1,000 recipients against the raw-ws relay baseline
// of the same run — sender sealing time, frame size and its growth per recipient, server CPU per delivery, and time
// from send to the last recipient's push. `--quick` runs fewer broadcasts.
import { sealGroup } from "@claudemesh/crypto";
import { cpuMicros, startRole } from "./lib/child.js";
import type { BenchIdentity } from "./lib/mesh.js";
import { connectPeer, type Mode } from "./lib/peer.js";
import { identities, startServer, type Target } from "./lib/server.js";
import { ms, ratio, summarize } from "./lib/stats.js";

const quick = process.argv.includes("--quick");
/** `--sizes=1000` and `--stores=sqlite` narrow a run (e.g. for profiling with BENCH_PROFILE_DIR). */
const flag = (name: string): string[] | undefined =>
  process.argv
    .find((a) => a.startsWith(`--${name}=`))
    ?.slice(name.length + 3)
    .split(",");
const BROADCASTS = Number(flag("broadcasts")?.[0] ?? (quick ? 5 : 20));
const SIZES = (flag("sizes") ?? ["10", "100", "1000"]).map(Number);
const MESSAGE_BYTES = 1_024;

interface GroupResult {
  recipients: number;
  /** sealGroup time per broadcast (ms, median). */
  sealMs: number;
  frameBytes: number;
  /** Server CPU (user + system) per delivered push, µs. */
  cpuPerDelivery: number;
  /** Send → last recipient holds it (ms, median / max). */
  lastDeliveryP50: number;
  lastDeliveryMax: number;
  duplicates: number;
}

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

async function runGroup(target: Target, recipients: number): Promise<GroupResult> {
  const mode: Mode = target === "relay" ? "relay" : "broker";
  const server = await startServer(target);
  const receivers = startRole("group-receivers");
  try {
    const [sender, ...others] = (await identities(mode, server, recipients + 1)) as [
      BenchIdentity,
      ...BenchIdentity[],
    ];
    receivers.send({ type: "setup", mode, wsUrl: server.wsUrl, identities: others });
    await receivers.next("connected", 300_000);
    const peer = await connectPeer(mode, server.wsUrl, sender);
    const to = others.map((o) => o.pubkey);
    const text = "x".repeat(MESSAGE_BYTES);
    const sealTimes: number[] = [];
    const lastDelivery: number[] = [];
    let frameBytes = 0;
    let duplicates = 0;
    const cpuBefore = await cpuMicros(server.role);
    for (let k = 0; k < BROADCASTS; k++) {
      const sealStart = now();
      const sealed = sealGroup(text, to, sender.secretKey, sender.meshId, "*");
      sealTimes.push(now() - sealStart);
      const frame = JSON.stringify({
        type: "send",
        id: `g${k}`,
        targetSpec: "*",
        priority: "now",
        ...sealed,
      });
      frameBytes = Buffer.byteLength(frame);
      const sentAt = now();
      peer.sendRaw(frame);
      const done = await receivers.next<{ type: "delivered"; seq: number; at: number; duplicates: number }>(
        "delivered",
        120_000,
      );
      if (done.seq !== k) throw new Error(`broadcast ${k}: receivers reported ${done.seq}`);
      lastDelivery.push(done.at - sentAt);
      duplicates = done.duplicates;
    }
    const cpuAfter = await cpuMicros(server.role);
    peer.close();
    const seal = summarize(sealTimes);
    const last = summarize(lastDelivery);
    return {
      recipients,
      sealMs: seal.p50,
      frameBytes,
      cpuPerDelivery: (cpuAfter - cpuBefore) / (BROADCASTS * recipients),
      lastDeliveryP50: last.p50,
      lastDeliveryMax: last.max,
      duplicates,
    };
  } finally {
    await Promise.all([receivers.stop(), server.role.stop()]);
    await server.cleanup();
  }
}

const stores = (flag("stores") ?? ["sqlite", "postgres"]) as Target[];
const targets: Target[] = ["relay", ...stores.filter((s) => s !== "postgres")];
if (!stores.includes("postgres")) {
  // not asked for
} else if (process.env.DATABASE_URL) targets.push("postgres");
else console.error("bench:group: DATABASE_URL not set — PostgreSQL runs skipped");

const results = new Map<Target, GroupResult[]>();
for (const target of targets) {
  const rows: GroupResult[] = [];
  for (const size of SIZES) {
    console.error(
      `bench:group: ${target}, ${size} recipients × ${BROADCASTS} broadcasts of ${MESSAGE_BYTES} B`,
    );
    rows.push(await runGroup(target, size));
  }
  results.set(target, rows);
}

const base = results.get("relay") ?? [];
console.log(`### Group broadcast (\`*\`, ${MESSAGE_BYTES} B message, ${BROADCASTS} broadcasts per row)`);
console.log("");
console.log(
  "| server | recipients | seal (sender) | frame | frame growth per recipient | server CPU per delivery | vs relay CPU | send → last delivery p50 / max | vs relay p50 | duplicates |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|");
for (const [target, rows] of results) {
  rows.forEach((r, i) => {
    const b = base[i]!;
    const first = rows[0]!;
    const growth =
      i === 0
        ? "—"
        : `${((r.frameBytes - first.frameBytes) / (r.recipients - first.recipients)).toFixed(0)} B`;
    const name = target === "relay" ? "raw ws relay (baseline)" : `broker (${target})`;
    console.log(
      `| ${name} | ${r.recipients} | ${ms(r.sealMs)} | ${(r.frameBytes / 1024).toFixed(1)} KiB | ${growth} | ${r.cpuPerDelivery.toFixed(1)} µs | ${ratio(r.cpuPerDelivery, b.cpuPerDelivery)} | ${ms(r.lastDeliveryP50)} / ${ms(r.lastDeliveryMax)} | ${ratio(r.lastDeliveryP50, b.lastDeliveryP50)} | ${r.duplicates} |`,
    );
  });
}
const failed = [...results.values()].flat().some((r) => r.duplicates > 0);
process.exit(failed ? 1 : 0);
