// Load check: N peers in a ring, each sends M messages to the next; verifies 100% delivery, no duplicate, per-sender order.
// With `wsUrls` peer i connects to wsUrls[i % n] (brokers on one store: every ring hop crosses brokers when n > 1).
import { decryptDirect, encryptDirect } from "@claudemesh/crypto";
import { awaitCommand, report } from "../lib/child.js";
import type { BenchIdentity } from "../lib/mesh.js";
import { connectPeer, type Mode, type WirePeer } from "../lib/peer.js";

interface Setup {
  type: "setup";
  /** Default "broker"; "relay" runs the same ring through the raw-ws relay baseline. */
  mode?: Mode;
  wsUrl: string;
  /** When given, peers are spread over these servers round-robin instead of all on `wsUrl`. */
  wsUrls?: string[];
  identities: BenchIdentity[];
  perPeer: number;
  window: number;
}

const setup = await awaitCommand<Setup>("setup");
const ids = setup.identities;
const peers: WirePeer[] = [];
const urls = setup.wsUrls && setup.wsUrls.length > 0 ? setup.wsUrls : [setup.wsUrl];
for (const [i, identity] of ids.entries())
  peers.push(await connectPeer(setup.mode ?? "broker", urls[i % urls.length] as string, identity));

const total = ids.length * setup.perPeer;
let received = 0;
let duplicates = 0;
let outOfOrder = 0;
let undecryptable = 0;
const seen = new Set<string>();
const start = performance.now();

const allReceived = new Promise<void>((resolve) => {
  peers.forEach((peer, index) => {
    const me = ids[index] as BenchIdentity;
    const from = ids[(index - 1 + ids.length) % ids.length] as BenchIdentity;
    let expectedSeq = 0;
    peer.onPush((push) => {
      if (seen.has(`${index}:${push.messageId}`)) {
        duplicates++;
        return;
      }
      seen.add(`${index}:${push.messageId}`);
      const text = decryptDirect(push, from.pubkey, me.secretKey);
      if (text === null) {
        undecryptable++;
      } else {
        const seq = Number(text.split(":")[1]);
        if (seq !== expectedSeq) outOfOrder++;
        expectedSeq = seq + 1;
      }
      received++;
      if (received === total) resolve();
    });
  });
});

let acked = 0;
peers.forEach((peer, index) => {
  const me = ids[index] as BenchIdentity;
  const to = ids[(index + 1) % ids.length] as BenchIdentity;
  let next = 0;
  const sendOne = (): void => {
    if (next >= setup.perPeer) return;
    const seq = next++;
    const envelope = encryptDirect(`${index}:${seq}:${"x".repeat(64)}`, to.pubkey, me.secretKey);
    peer.sendDirect(String(seq), to.pubkey, envelope.nonce, envelope.ciphertext);
  };
  peer.onAck(() => {
    acked++;
    sendOne();
  });
  for (let i = 0; i < setup.window; i++) sendOne();
});

const timeout = setTimeout(() => {
  report({
    type: "done",
    total,
    received,
    acked,
    duplicates,
    outOfOrder,
    undecryptable,
    elapsedMs: performance.now() - start,
    timedOut: true,
  });
  process.exit(1);
}, 300_000);
await allReceived;
clearTimeout(timeout);
await new Promise((resolve) => setTimeout(resolve, 100));
await report({
  type: "done",
  total,
  received,
  acked,
  duplicates,
  outOfOrder,
  undecryptable,
  elapsedMs: performance.now() - start,
  timedOut: false,
});
for (const peer of peers) peer.close();
setTimeout(() => process.exit(0), 100);
