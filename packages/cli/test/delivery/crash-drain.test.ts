// Broker SIGKILL in the middle of draining a backlog to an agent (SPEC §3): restart on the same store and port, the real BrokerClient feeding the agent's durable delivery ledger — nothing lost, nothing shown twice, per-sender order, redelivery at once.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBrokerBuilt, spawnBroker, type BrokerProcess } from "../../../broker/test/helpers/process.js";
import { STORE_KINDS, storeTarget } from "../../../broker/test/helpers/stores.js";
import { connectPeer, type TestPeer } from "../../../broker/test/helpers/ws-client.js";
import type { Member } from "../../../broker/test/helpers/identity.js";
import { directSend } from "../../../broker/test/helpers/messages.js";
import { FAST, clientFor, meshWith, waitFor, type LiveMember } from "../../../client/test/helpers/live.js";
import { DeliveryCoordinator } from "../../src/delivery/coordinator.js";
import { DeliveryLedger } from "../../src/delivery/ledger.js";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

beforeAll(() => {
  ensureBrokerBuilt();
}, 180_000);

/** Backlog of the drain crash test: short in `npm test`; `npm run soak:crash` sets 30,000. */
const BACKLOG = Number(process.env.CLAUDEMESH_CRASH_BACKLOG ?? 3_000);
/** Senders sharing the backlog (per-sender order is checked for each). */
const SENDERS = ["alice", "carol"] as const;

/** Sends `count` messages `from` → `to` over a raw socket, `window` unacked at a time; resolves when all are acked. */
async function fillBacklog(peer: TestPeer, from: Member, to: Member, count: number): Promise<void> {
  let acked = 0;
  let scanned = 0;
  const countAcks = (): number => {
    for (; scanned < peer.frames.length; scanned++) if (peer.frames[scanned]?.type === "ack") acked++;
    return acked;
  };
  const window = 200;
  for (let i = 0; i < count; i++) {
    peer.send(directSend(from, to, `${from.name}-${i}`, `${from.name} ${i}`));
    if (i - countAcks() >= window) await waitFor(() => i - countAcks() < window / 2, 30_000, "acks");
  }
  await waitFor(() => countAcks() >= count, 60_000, `all ${count} acks from ${from.name}`);
}

describe.each(STORE_KINDS)("broker SIGKILL mid-drain with the %s store", (kind) => {
  it(`a ${BACKLOG}-message backlog: nothing acked lost, no duplicate to the agent, per-sender order, redelivered at once`, async () => {
    const store = await storeTarget(kind);
    cleanups.push(() => store.cleanup());
    // The default 30 s lease: the dead broker's leases must come back through its successor's
    // start-up, not by running out (the test's deadline is shorter than the lease).
    const env = {
      CLAUDEMESH_LOG_LEVEL: "info",
      CLAUDEMESH_MEMBER_SENDS_PER_SEC: "1000000",
      CLAUDEMESH_MEMBER_SEND_BURST: "1000000",
      CLAUDEMESH_CONN_FRAMES_PER_SEC: "1000000",
      CLAUDEMESH_CONN_FRAME_BURST: "1000000",
    };
    let proc: BrokerProcess = await spawnBroker(store.target, { env });
    cleanups.push(() => proc.kill());
    const members = await meshWith(proc.url, ["bob", ...SENDERS]);
    const [bob, ...senders] = members as [LiveMember, ...LiveMember[]];
    const perSender = Math.ceil(BACKLOG / senders.length);
    // The backlog is queued while bob is offline (every send acked: it must all arrive).
    await Promise.all(
      senders.map(async (s) => {
        const peer = await connectPeer(proc.wsUrl, s);
        try {
          await fillBacklog(peer, s, bob, perSender);
        } finally {
          await peer.close();
        }
      }),
    );
    const total = perSender * senders.length;

    // The agent: its durable ledger (tmpfs when there is one: one fdatasync per message) behind
    // the client's inbound sink, as the MCP server wires it; atB is what reached its context.
    const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "cm-crash-drain-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const ledger = new DeliveryLedger(join(dir, "bob.jsonl"));
    const coordinator = new DeliveryCoordinator({ pushRoutes: [] });
    cleanups.push(() => {
      coordinator.close();
      ledger.close();
    });
    coordinator.addMailbox({ key: bob.meshSlug, ledger, sendShown: () => undefined });
    const atB: Array<{ messageId: string; fromPubkey: string; text: string }> = [];
    let killing: Promise<unknown> | null = null;
    const killAt = Math.floor(total / 3);
    const b = clientFor(proc.url, bob, {
      ...FAST,
      inboundSink: (m) => {
        coordinator.receive(bob.meshSlug, m);
        // A copy: the ledger blanks the text of finished entries when it compacts.
        for (const { entry: e } of coordinator.take("check_messages"))
          atB.push({ messageId: e.messageId, fromPubkey: e.fromPubkey, text: e.text });
        if (killing === null && atB.length >= killAt) killing = proc.kill("SIGKILL");
      },
    });
    cleanups.push(() => b.close());
    await b.connect({ timeoutMs: 10_000 });
    await waitFor(() => killing !== null, 120_000, "a third of the backlog drained");
    await killing;
    const beforeRestart = atB.length;
    expect(beforeRestart).toBeLessThan(total); // the kill landed mid-drain

    proc = await spawnBroker(store.target, { env, port: proc.port });
    // Everything arrives well before a 30 s lease of the dead broker could run out.
    const missing = (): number => total - new Set(atB.map((m) => m.messageId)).size;
    await waitFor(() => missing() === 0, 25_000, "the rest of the backlog after the restart").catch(() => {
      throw new Error(`${missing()} of ${total} never reached the agent after the restart`);
    });
    await new Promise((r) => setTimeout(r, 300)); // room for a wrong redelivery to show up
    console.info(`[crash drain ${kind}] ${total} queued, ${beforeRestart} handed on before SIGKILL`);

    expect(atB).toHaveLength(total); // zero duplicates handed on
    expect(new Set(atB.map((m) => m.text)).size).toBe(total);
    for (const s of senders) {
      const order = atB.filter((m) => m.fromPubkey === s.pubkey).map((m) => Number(m.text.split(" ")[1]));
      expect(order).toEqual(Array.from({ length: perSender }, (_, i) => i));
    }
    // The successor released the dead broker's leases as its predecessor on the same port.
    expect(proc.logs.some((l) => l.includes('"broker.gone_released"') && l.includes('"predecessor"'))).toBe(
      true,
    );
  }, 600_000);
});
