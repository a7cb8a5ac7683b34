// One sender → one recipient over a running server (two role processes): one-way latency, ack latency, throughput,
// and the server's CPU per message — shared by the main benchmark and the scale benchmark.
import { cpuMicros, startRole } from "./child.js";
import type { BenchIdentity } from "./mesh.js";
import type { Mode } from "./peer.js";
import type { Server } from "./server.js";
import { rate, summarize, type LatencySummary } from "./stats.js";

export interface PairResult {
  oneWay: LatencySummary;
  ack: LatencySummary;
  /** The raw samples behind `oneWay` and `ack` (ms), for pooling several runs. */
  oneWaySamples: number[];
  ackSamples: number[];
  ackedPerSec: number;
  deliveredPerSec: number;
  duplicates: number;
  delivered: number;
  /** Server CPU time (user + system) per message over the run, µs. */
  serverCpuPerMsg: number;
}

export interface PairRun {
  count: number;
  /** > 0: one message every intervalMs (latency); 0: `window` in flight (throughput). */
  intervalMs: number;
  window: number;
  payloadBytes: number;
  /** Where the recipient connects (another broker on the same store); default the server's own URL. */
  receiverWsUrl?: string;
}

/**
 * Sends `run.count` direct messages from `a` (connected to `server`) to `b` (connected to `server`, or to
 * `run.receiverWsUrl`); both role processes are stopped after. The CPU column is `server`'s.
 */
export async function measurePair(
  server: Server,
  mode: Mode,
  [a, b]: readonly [BenchIdentity, BenchIdentity],
  run: PairRun,
): Promise<PairResult> {
  const { count } = run;
  const sender = startRole("sender");
  const receiver = startRole("receiver");
  try {
    receiver.send({
      type: "setup",
      mode,
      wsUrl: run.receiverWsUrl ?? server.wsUrl,
      identity: b,
      expect: count,
    });
    sender.send({
      type: "setup",
      mode,
      wsUrl: server.wsUrl,
      identity: a,
      to: b.pubkey,
      count,
      intervalMs: run.intervalMs,
      window: run.window,
      payloadBytes: run.payloadBytes,
    });
    await Promise.all([receiver.next("connected"), sender.next("connected")]);
    const cpuBefore = await cpuMicros(server.role);
    sender.send({ type: "go" });
    const sent = await sender.next<{
      type: "done";
      sendTimes: Record<string, number>;
      ackLatencies: number[];
      firstSend: number;
      lastAck: number;
    }>("done", 600_000);
    const got = await receiver.next<{
      type: "done";
      recvTimes: Record<string, number>;
      firstRecv: number;
      lastRecv: number;
      duplicates: number;
    }>("done", 600_000);
    const cpuAfter = await cpuMicros(server.role);
    const oneWay = Object.entries(got.recvTimes)
      .map(([id, t]) => t - (sent.sendTimes[id] ?? Number.NaN))
      .filter((v) => Number.isFinite(v));
    return {
      oneWay: summarize(oneWay),
      ack: summarize(sent.ackLatencies),
      oneWaySamples: oneWay,
      ackSamples: sent.ackLatencies,
      ackedPerSec: rate(count, sent.lastAck - sent.firstSend),
      deliveredPerSec: rate(count, got.lastRecv - sent.firstSend),
      duplicates: got.duplicates,
      delivered: Object.keys(got.recvTimes).length,
      serverCpuPerMsg: (cpuAfter - cpuBefore) / count,
    };
  } finally {
    await Promise.all([sender.stop(), receiver.stop()]);
  }
}
