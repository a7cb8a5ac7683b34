// Group benchmark receivers: N connections in one process; reports when every recipient holds broadcast k (and when),
// and counts duplicates. Pushes are acked by the wire peer as the real client does; decryption is tested elsewhere.
import { awaitCommand, report } from "../lib/child.js";
import type { BenchIdentity } from "../lib/mesh.js";
import { connectPeer, type Mode, type WirePeer } from "../lib/peer.js";

interface Setup {
  type: "setup";
  mode: Mode;
  wsUrl: string;
  identities: BenchIdentity[];
}

const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const setup = await awaitCommand<Setup>("setup");
const peers: WirePeer[] = [];
for (let i = 0; i < setup.identities.length; i += 50) {
  const batch = setup.identities.slice(i, i + 50);
  peers.push(...(await Promise.all(batch.map((identity) => connectPeer(setup.mode, setup.wsUrl, identity)))));
}

/** holders[k] = recipients that have received k + 1 distinct broadcasts. */
const holders: number[] = [];
let duplicates = 0;
peers.forEach((peer) => {
  const seen = new Set<string>();
  peer.onPush((push) => {
    if (seen.has(push.messageId)) {
      duplicates++;
      return;
    }
    seen.add(push.messageId);
    const k = seen.size - 1;
    holders[k] = (holders[k] ?? 0) + 1;
    if (holders[k] === peers.length) report({ type: "delivered", seq: k, at: now(), duplicates });
  });
});
report({ type: "connected" });
// Runs until the orchestrator stops it (SIGTERM).
