// /health 503 while PostgreSQL is stopped and 200 when it returns, with no acked message lost.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ErrorFrame } from "@claudemesh/protocol";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { get } from "../helpers/http.js";
import { createMeshWithMembers, type Member } from "../helpers/identity.js";
import { acksById, autoAckInbox, directSend } from "../helpers/messages.js";
import {
  createPrivateCluster,
  privatePgUnavailableReason,
  type PrivateCluster,
} from "../helpers/private-pg.js";
import { PG_URL } from "../helpers/stores.js";
import { connectPeer, type TestPeer } from "../helpers/ws-client.js";

const unavailable = !PG_URL ? "DATABASE_URL is not set" : privatePgUnavailableReason();
if (unavailable) console.warn(`[claudemesh tests] PostgreSQL outage test skipped: ${unavailable}`);

async function waitFor<T>(
  what: string,
  probe: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!ok(last)) {
    if (Date.now() > deadline)
      throw new Error(`${what}: still ${JSON.stringify(last)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
    last = await probe();
  }
  return last;
}

describe.skipIf(unavailable !== null)("PostgreSQL outage (private cluster)", () => {
  let cluster: PrivateCluster | undefined;
  let broker: TestBroker | undefined;
  let sender: TestPeer | undefined;
  let receiver: TestPeer | undefined;

  beforeAll(async () => {
    cluster = await createPrivateCluster();
    await cluster.start();
    const c = cluster;
    broker = await startTestBroker({
      store: { kind: "postgres", target: c.url, cleanup: async () => undefined },
      healthCacheMs: 100,
      logLevel: "silent",
    });
  }, 90_000);

  afterAll(async () => {
    await receiver?.close().catch(() => undefined);
    await sender?.close().catch(() => undefined);
    await broker?.stop().catch(() => undefined);
    await cluster?.destroy();
  }, 60_000);

  it("goes 503 while the database is down, refuses sends without acking them, and recovers losing nothing", async () => {
    const b = broker as TestBroker;
    const c = cluster as PrivateCluster;
    expect((await get(b.url, "/health")).json).toMatchObject({ status: "ok", db: "up" });

    const { members } = await createMeshWithMembers(b.url, ["alice", "bob"]);
    const [alice, bob] = members as [Member, Member];
    sender = await connectPeer(b.wsUrl, alice);
    for (let i = 0; i < 50; i++) sender.send(directSend(alice, bob, `before${i}`, `before ${i}`));
    await sender.collect((f) => f.type === "ack", 50, 10_000);
    expect(acksById(sender).size).toBe(50);

    await c.stop();
    const down = await waitFor(
      "health while down",
      () => get(b.url, "/health"),
      (r) => r.status === 503,
    );
    expect(down.json).toMatchObject({ status: "degraded", db: "down" });

    // Sends during the outage fail with an error and are never acked.
    const marker = sender.frames.length;
    // Only storage is down: the socket stays up and each send gets an error instead of an ack.
    expect(sender.ws.readyState).toBe(sender.ws.OPEN);
    for (let i = 0; i < 5; i++) sender.send(directSend(alice, bob, `during${i}`, `during ${i}`));
    const errors = await sender.collect(
      (f) => f.type === "error" && (f.id ?? "").startsWith("during"),
      5,
      15_000,
    );
    expect(errors.map((e) => (e as ErrorFrame).code)).toEqual(Array(5).fill("storage_unavailable"));
    expect(sender.frames.slice(marker).filter((f) => f.type === "ack")).toEqual([]);

    await c.start();
    await waitFor(
      "health after restart",
      () => get(b.url, "/health"),
      (r) => r.status === 200,
    );

    // After recovery the broker works again: new sends are acked, and bob gets everything that was acked.
    if (sender.ws.readyState !== sender.ws.OPEN) sender = await connectPeer(b.wsUrl, alice);
    const s = sender;
    await waitFor(
      "send after recovery",
      async () => {
        const id = `after${s.frames.length}`;
        s.send(directSend(alice, bob, id, `after`));
        return s
          .next((f) => (f.type === "ack" || f.type === "error") && f.id === id, { timeoutMs: 5_000 })
          .then((f) => f.type);
      },
      (t) => t === "ack",
    );
    const acked = [...acksById(s).values()];
    receiver = await connectPeer(b.wsUrl, bob);
    const reader = autoAckInbox(receiver, bob);
    await waitFor(
      "all acked delivered",
      async () => acked.filter((a) => !reader.inbox().unique.has(a.messageId)).length,
      (n) => n === 0,
    );
    expect(reader.inbox().undecryptable).toBe(0);
    for (let i = 0; i < 50; i++) expect([...reader.inbox().unique.values()]).toContain(`before ${i}`);
  }, 120_000);
});
