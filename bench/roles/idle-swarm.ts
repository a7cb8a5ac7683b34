// Scale benchmark: opens N connections (the signed hello against the broker), `parallel` handshakes at a time,
// reports how long that took, then holds them idle (answering pings) until stopped.
import { awaitCommand, report } from "../lib/child.js";
import type { BenchIdentity } from "../lib/mesh.js";
import { connectPeer, type Mode, type WirePeer } from "../lib/peer.js";

interface Setup {
  type: "setup";
  mode: Mode;
  wsUrl: string;
  identities: BenchIdentity[];
  parallel: number;
}

const setup = await awaitCommand<Setup>("setup");
const peers: WirePeer[] = [];
const start = performance.now();
let next = 0;
const worker = async (): Promise<void> => {
  while (next < setup.identities.length) {
    const identity = setup.identities[next++] as BenchIdentity;
    peers.push(await connectPeer(setup.mode, setup.wsUrl, identity));
  }
};
await Promise.all(Array.from({ length: setup.parallel }, worker));
report({ type: "connected", count: peers.length, elapsedMs: performance.now() - start });
// Held open until the orchestrator stops this process (SIGTERM).
