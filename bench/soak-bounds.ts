// Bounds soak: a broker child under a non-reading recipient and garbage floods; prints its RSS before, at peak and after.
//
// usage: node bench/dist/soak-bounds.js [--quick] [--seconds N] [--store sqlite|postgres] [--only floods|stall]
//        (npm run soak:bounds -- …)
// For the whole run, at once:
// - a recipient says hello and then stops reading (socket paused; a set_summary a second keeps it alive)
//   while a sender streams ~53 KB direct sends to it; each time the broker closes it (1013, outbound
//   budget) it reconnects and stalls again, so the growing backlog is pushed at it again and again;
// - every 200 ms a new socket floods 1,000 one-byte garbage frames before hello, and another floods
//   them after a hello, neither reading its replies.
// The broker's frame rate limits are raised (bench broker role), so only the error-reply and
// outbound budgets stand between the floods and the broker's memory. RSS is the broker process's
// VmRSS from /proc, sampled every 250 ms; "after" is 5 s after the load stopped.
import { readFileSync } from "node:fs";
import WebSocket from "ws";
import { encryptDirect, signHello } from "@claudemesh/crypto";
import type { BenchIdentity } from "./lib/mesh.js";
import { connectPeer, type WirePeer } from "./lib/peer.js";
import { identities, startServer, type Server, type Target } from "./lib/server.js";

/** A new pair of flooding sockets (one before hello, one after) this often, each sending this many frames. */
const FLOOD_EVERY_MS = 200;
const FLOOD_FRAMES = 1_000;

interface Args {
  seconds: number;
  store: Target;
  /** Run one load alone (to tell their memory apart); both by default. */
  only: "floods" | "stall" | null;
}

function parseArgs(argv: string[]): Args {
  let seconds = 60;
  let store: Target = "sqlite";
  let only: Args["only"] = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--quick") seconds = 10;
    else if (argv[i] === "--seconds") seconds = Number(argv[++i]);
    else if (argv[i] === "--store") store = argv[++i] as Target;
    else if (argv[i] === "--only") only = argv[++i] as Args["only"];
    else
      throw new Error(
        `unknown argument ${argv[i]}; usage: soak-bounds.js [--quick] [--seconds N] [--store sqlite|postgres] [--only floods|stall]`,
      );
  }
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error("--seconds must be a positive number");
  if (store !== "sqlite" && store !== "postgres") throw new Error("--store must be sqlite or postgres");
  if (store === "postgres" && !process.env.DATABASE_URL)
    throw new Error("--store postgres needs DATABASE_URL");
  if (only !== null && only !== "floods" && only !== "stall")
    throw new Error("--only must be floods or stall");
  return { seconds, store, only };
}

/** Resident set size of process `pid` in bytes (Linux /proc). */
function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

const mb = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One counter (summed over its label sets) from the broker's Prometheus text. */
async function metricSum(httpUrl: string, name: string, label?: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name) || (line[name.length] !== " " && line[name.length] !== "{")) continue;
    if (label && !line.includes(label)) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** The broker child's V8 heap in use right after a full GC. */
async function heapAfterGc(server: Server): Promise<number> {
  server.role.send({ type: "memory" });
  return (await server.role.next<{ type: "memory-usage"; heapUsed: number }>("memory-usage")).heapUsed;
}

function helloJson(identity: BenchIdentity): string {
  const signed = signHello(identity.meshId, identity.memberId, identity.pubkey, identity.secretKey);
  return JSON.stringify({
    type: "hello",
    meshId: identity.meshId,
    memberId: identity.memberId,
    pubkey: identity.pubkey,
    sessionId: `soak-${identity.name}`,
    pid: process.pid,
    cwd: process.cwd(),
    ...signed,
  });
}

/**
 * A socket that never reads: opens, optionally says hello as `identity` (signed now: a reused hello
 * would be refused as a replay), floods `count` garbage frames, is cut after 3 s.
 */
function garbageFlood(wsUrl: string, identity: BenchIdentity | null, count: number): void {
  const hello = identity ? helloJson(identity) : null;
  const socket = new WebSocket(wsUrl, { perMessageDeflate: false });
  socket.on("error", () => undefined);
  socket.once("open", () => {
    if (hello) socket.send(hello);
    // After a hello, give it a moment to be accepted so the flood meets the authenticated budget.
    setTimeout(
      () => {
        socket.pause();
        for (let i = 0; i < count && socket.readyState === WebSocket.OPEN; i++) socket.send("x");
      },
      hello ? 100 : 0,
    );
  });
  setTimeout(() => socket.terminate(), 3_000).unref();
}

/** The recipient that stalls: hello, pause, a summary a second; reconnects when the broker cut it. */
class StalledRecipient {
  private peer: WirePeer | null = null;
  private timer: NodeJS.Timeout | null = null;
  connections = 0;

  constructor(
    private readonly wsUrl: string,
    private readonly identity: BenchIdentity,
  ) {}

  async stall(): Promise<void> {
    this.drop();
    this.peer = await connectPeer("broker", this.wsUrl, this.identity);
    this.connections++;
    this.peer.socket.pause();
    this.timer = setInterval(() => {
      if (this.peer?.socket.readyState === WebSocket.OPEN)
        this.peer.sendRaw(JSON.stringify({ type: "set_summary", summary: "not reading" }));
    }, 1_000);
  }

  drop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.peer?.socket.terminate();
    this.peer = null;
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // Every flood socket is logged at info and warn; the broker child inherits this.
  process.env.CLAUDEMESH_LOG_LEVEL = "error";
  // So the broker child can report its heap after a full GC (a leak survives it, lazy garbage does not).
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --expose-gc`.trim();
  const server = await startServer(args.store);
  const pid = server.role.child.pid as number;
  try {
    // alice sends, bob stalls, carol floods after hello (her connections replace each other, never alice's).
    const [alice, bob, carol] = (await identities("broker", server, 3)) as [
      BenchIdentity,
      BenchIdentity,
      BenchIdentity,
    ];
    const sender = await connectPeer("broker", server.wsUrl, alice);
    await sleep(1_000);
    const heapBefore = await heapAfterGc(server);
    const before = rssBytes(pid);
    let peak = before;
    // The peak of each tenth of the run, to show whether memory levels off or keeps climbing.
    const started = Date.now();
    const tenths: number[] = [];
    const sampler = setInterval(() => {
      const rss = rssBytes(pid);
      peak = Math.max(peak, rss);
      const tenth = Math.min(9, Math.floor(((Date.now() - started) / (args.seconds * 1000)) * 10));
      tenths[tenth] = Math.max(tenths[tenth] ?? 0, rss);
    }, 250);

    const stalled = new StalledRecipient(server.wsUrl, bob);
    await stalled.stall();
    // ~40 KB of text: a ~53 KB send frame, under the 64 KiB frame cap. Encrypted once, re-sent with fresh ids.
    const { nonce, ciphertext } = encryptDirect("x".repeat(40_000), bob.pubkey, alice.secretKey);
    let sent = 0;
    let acked = 0;
    sender.onAck(() => acked++);
    const floods = setInterval(() => {
      if (args.only === "stall") return;
      garbageFlood(server.wsUrl, null, FLOOD_FRAMES);
      garbageFlood(server.wsUrl, carol, FLOOD_FRAMES);
    }, FLOOD_EVERY_MS);

    const end = Date.now() + args.seconds * 1000;
    let overflows = await metricSum(server.httpUrl, "connections_closed_total", 'reason="outbound_overflow"');
    let lastCheck = 0;
    while (Date.now() < end) {
      // At most 32 sends in flight, so the sender itself is never the one that stops reading.
      while (args.only !== "floods" && sent - acked < 32)
        sender.sendDirect(`soak-${sent++}`, bob.pubkey, nonce, ciphertext);
      await sleep(5);
      if (Date.now() - lastCheck > 500) {
        lastCheck = Date.now();
        const now = await metricSum(server.httpUrl, "connections_closed_total", 'reason="outbound_overflow"');
        if (now > overflows) await stalled.stall();
        overflows = now;
      }
    }
    clearInterval(floods);
    stalled.drop();
    sender.close();
    await sleep(5_000);
    clearInterval(sampler);
    const after = rssBytes(pid);
    const heapAfter = await heapAfterGc(server);
    const result = {
      store: args.store,
      seconds: args.seconds,
      rssBefore: before,
      rssPeak: peak,
      rssAfter: after,
      heapAfterGcBefore: heapBefore,
      heapAfterGcAfter: heapAfter,
      rssPeakPerTenthMb: tenths.map((bytes) => Math.round(bytes / (1024 * 1024))),
      sendsAcked: acked,
      stalledConnections: stalled.connections,
      closedOutboundOverflow: overflows,
      closedErrorFlood: await metricSum(server.httpUrl, "connections_closed_total", 'reason="error_flood"'),
      outboundBufferedPeakBytes: await metricSum(server.httpUrl, "outbound_buffered_peak_bytes"),
    };
    console.log(
      `broker RSS (${args.store}, ${args.seconds} s): before ${mb(before)}, peak ${mb(peak)} (+${mb(peak - before)}), ` +
        `after ${mb(after)} (heap after a full GC: ${mb(heapBefore)} before, ${mb(heapAfter)} after); ${acked} sends of ~53 KB acked, recipient cut ${overflows}× for its outbound budget ` +
        `(${stalled.connections} stalled connections), ${result.closedErrorFlood} garbage floods closed, ` +
        `largest per-socket outbound buffer ${mb(result.outboundBufferedPeakBytes)}; ` +
        `peak per tenth of the run (MB): ${result.rssPeakPerTenthMb.join(" ")}`,
    );
    console.log(JSON.stringify(result));
  } finally {
    await server.role.stop();
    await server.cleanup();
  }
}

await main();
