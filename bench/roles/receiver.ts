// Benchmark receiver: records when each push arrives and counts duplicates.
import { awaitCommand, report } from "../lib/child.js";
import type { BenchIdentity } from "../lib/mesh.js";
import { connectPeer, type Mode } from "../lib/peer.js";

interface Setup {
  type: "setup";
  mode: Mode;
  wsUrl: string;
  identity: BenchIdentity;
  expect: number;
}

const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const setup = await awaitCommand<Setup>("setup");
const peer = await connectPeer(setup.mode, setup.wsUrl, setup.identity);
const recvTimes: Record<string, number> = {};
let unique = 0;
let duplicates = 0;
let firstRecv = 0;

const done = new Promise<void>((resolve) => {
  peer.onPush((push) => {
    const t = now();
    if (firstRecv === 0) firstRecv = t;
    if (push.messageId in recvTimes) {
      duplicates++;
      return;
    }
    recvTimes[push.messageId] = t;
    unique++;
    if (unique === setup.expect) resolve();
  });
});
report({ type: "connected" });
await done;
const lastRecv = now();
// Let the final client_ack batch go out before reporting.
await new Promise((resolve) => setTimeout(resolve, 50));
await report({ type: "done", recvTimes, firstRecv, lastRecv, duplicates });
peer.close();
setTimeout(() => process.exit(0), 100);
