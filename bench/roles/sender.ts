// Benchmark sender: pre-encrypts its messages, then sends them paced (latency) or windowed (throughput).
import { encryptDirect } from "@claudemesh/crypto";
import { awaitCommand, report } from "../lib/child.js";
import type { BenchIdentity } from "../lib/mesh.js";
import { connectPeer, directFrame, type Mode } from "../lib/peer.js";

interface Setup {
  type: "setup";
  mode: Mode;
  wsUrl: string;
  identity: BenchIdentity;
  to: string;
  count: number;
  /** > 0: one message every intervalMs (latency); 0: keep `window` messages in flight (throughput). */
  intervalMs: number;
  window: number;
  payloadBytes: number;
}

const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const setup = await awaitCommand<Setup>("setup");
const peer = await connectPeer(setup.mode, setup.wsUrl, setup.identity);
const text = "x".repeat(setup.payloadBytes);
// Encrypted and serialised before "go": the run measures the server, not the sender's crypto or JSON.
const frames = Array.from({ length: setup.count }, (_, index) => {
  const envelope = encryptDirect(text, setup.to, setup.identity.secretKey);
  return directFrame(String(index), setup.to, envelope.nonce, envelope.ciphertext);
});
report({ type: "connected" });
await awaitCommand("go");

const sentAt = new Map<string, number>();
const ackedAt: Record<string, number> = {};
const sendTimes: Record<string, number> = {};
let next = 0;
let acked = 0;
const firstSend = now();

const sendOne = (): void => {
  const index = next++;
  const frame = frames[index];
  if (frame === undefined) return;
  sentAt.set(String(index), now());
  peer.sendRaw(frame);
};

const finished = new Promise<void>((resolve) => {
  peer.onAck((ack) => {
    const t = now();
    sendTimes[ack.messageId] = sentAt.get(ack.id) ?? Number.NaN;
    ackedAt[ack.messageId] = t;
    acked++;
    if (setup.intervalMs === 0 && next < setup.count) sendOne();
    if (acked === setup.count) resolve();
  });
});

if (setup.intervalMs > 0) {
  const timer = setInterval(() => {
    if (next >= setup.count) clearInterval(timer);
    else sendOne();
  }, setup.intervalMs);
} else {
  for (let i = 0; i < Math.min(setup.window, setup.count); i++) sendOne();
}

await finished;
const lastAck = now();
const ackLatencies = Object.keys(ackedAt).map((id) => (ackedAt[id] ?? 0) - (sendTimes[id] ?? 0));
await report({ type: "done", sendTimes, ackLatencies, firstSend, lastAck });
peer.close();
setTimeout(() => process.exit(0), 100);
