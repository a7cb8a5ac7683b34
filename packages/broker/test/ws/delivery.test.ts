// Routing and delivery (SPEC §3–§4): durable acks, opaque storage, offline queue, fan-out checks, FIFO, redelivery.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CLOSE_CODES, type Ack, type ErrorFrame, type Push } from "@claudemesh/protocol";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import {
  createMeshWithMembers,
  joinMesh,
  makeIdentity,
  makeInvite,
  type Member,
} from "../helpers/identity.js";
import { connectPeer, helloFrame, openSocket, type TestPeer } from "../helpers/ws-client.js";
import { STORE_KINDS } from "../helpers/stores.js";
import { directSend, dumpStore, fanoutSend, isPush, listPeers, metric, open, until } from "./support.js";

/** Waits until `viewer`'s list_peers shows `member` with `status` (the broker has applied it). */
async function untilStatus(viewer: TestPeer, member: Member, status: string): Promise<void> {
  await until(
    async () => (await listPeers(viewer)).find((p) => p.pubkey === member.pubkey)?.status === status,
    5_000,
    `${member.name} ${status}`,
  );
}

/** Waits until `viewer`'s list_peers shows every one of `members` with channels passing `check`. */
async function untilChannels(
  viewer: TestPeer,
  members: Member[],
  check: (channels: string[]) => boolean,
): Promise<void> {
  await until(
    async () => {
      const peers = await listPeers(viewer);
      return members.every((m) => check(peers.find((p) => p.pubkey === m.pubkey)?.channels ?? []));
    },
    5_000,
    "channel membership",
  );
}

describe.each(STORE_KINDS)("ws delivery (%s)", (kind) => {
  let broker: TestBroker;
  let peers: TestPeer[] = [];
  const connect = async (member: Member) => {
    const peer = await connectPeer(broker.wsUrl, member);
    peers.push(peer);
    return peer;
  };
  const mesh = async (...names: string[]) =>
    (await createMeshWithMembers(broker.url, names)).members as Member[];

  beforeAll(async () => {
    broker = await startTestBroker({ kind, drainBatch: 50 });
  });
  afterEach(async () => {
    await Promise.all(peers.map((p) => p.close()));
    peers = [];
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it("delivers A→B end to end: acked after storage, opaque at rest, decrypted by B, marked delivered on client_ack", async () => {
    const [alice, bob] = await mesh("alice", "bob");
    const a = await connect(alice!);
    const b = await connect(bob!);
    const secret = "the launch code is hunter2-unique-plaintext";
    a.send(directSend(alice!, bob!, secret, "now", "m1"));
    const ack = await a.next<Ack>("ack");
    expect(ack).toMatchObject({ id: "m1", queued: false });
    const push = await b.next<Push>("push");
    expect(push).toMatchObject({
      messageId: ack.messageId,
      meshId: alice!.meshId,
      senderPubkey: alice!.pubkey,
      senderName: "alice",
      targetSpec: bob!.pubkey,
      priority: "now",
    });
    expect(new Date(push.createdAt).toISOString()).toBe(push.createdAt);
    expect(open(push, bob!)).toBe(secret);
    const dump = await dumpStore(broker.store);
    expect(dump).toContain(push.ciphertext);
    expect(dump).not.toContain("hunter2");
    expect(await broker.ctx.store.countPending(bob!.memberId)).toBe(1);
    b.send({ type: "client_ack", messageIds: [push.messageId] });
    await until(async () => (await broker.ctx.store.countPending(bob!.memberId)) === 0, 5_000, "delivered");
    // Acked: it never comes back. A reconnect drains the queue, and a later message from the same
    // sender arrives alone (per-sender FIFO would have put the acked one first).
    await b.close();
    const again = await connect(bob!);
    a.send(directSend(alice!, bob!, "marker", "now", "m2"));
    const marker = await again.next<Push>("push");
    expect(open(marker, bob!)).toBe("marker");
    expect(again.frames.filter(isPush)).toHaveLength(1);
  });

  it("pushes to a connected idle peer at once and keeps it pending until client_ack; a working peer gets `next` only when idle again", async () => {
    const [alice, bob] = await mesh("alice", "bob");
    const a = await connect(alice!);
    const b = await connect(bob!);
    a.send(directSend(alice!, bob!, "fast", "next", "d1"));
    expect(await a.next<Ack>("ack")).toMatchObject({ id: "d1", queued: false });
    const push = await b.next<Push>("push");
    expect(open(push, bob!)).toBe("fast");
    // Pushed, not delivered: it stays pending until bob's client_ack.
    expect(await broker.ctx.store.countPending(bob!.memberId)).toBe(1);
    b.send({ type: "client_ack", messageIds: [push.messageId] });
    await until(async () => (await broker.ctx.store.countPending(bob!.memberId)) === 0, 5_000, "delivered");
    // A working peer gets `now` only: `next` waits in the queue until it is idle again.
    b.send({ type: "set_status", status: "working" });
    await untilStatus(a, bob!, "working");
    a.send(directSend(alice!, bob!, "later", "next", "d2"));
    expect(await a.next<Ack>((f) => f.type === "ack" && f.id === "d2")).toMatchObject({ queued: true });
    a.send(directSend(alice!, bob!, "urgent", "now", "d3"));
    expect(await a.next<Ack>((f) => f.type === "ack" && f.id === "d3")).toMatchObject({ queued: false });
    const urgent = await b.next<Push>((f) => f.type === "push" && f.messageId !== push.messageId);
    expect(open(urgent, bob!)).toBe("urgent");
    // Sent after "later" by the same sender and already here: "later" was held, not lost in flight.
    expect(b.frames.filter(isPush)).toHaveLength(2);
    b.send({ type: "set_status", status: "idle" });
    const later = await b.next<Push>(
      (f) => f.type === "push" && f.messageId !== push.messageId && f.messageId !== urgent.messageId,
    );
    expect(open(later, bob!)).toBe("later");
  });

  it("queues for an offline peer and drains on its next hello", async () => {
    const [alice, bob] = await mesh("alice", "bob");
    const a = await connect(alice!);
    a.send(directSend(alice!, bob!, "while you were out"));
    expect(await a.next<Ack>("ack")).toMatchObject({ queued: true });
    const b = await connect(bob!);
    const push = await b.next<Push>("push");
    expect(open(push, bob!)).toBe("while you were out");
    // hello_ack comes first, then the queue.
    expect(b.frames[0]!.type).toBe("hello_ack");
  });

  it("redelivers a message leased to a connection of a dead broker when that lease runs out", async () => {
    const [alice, bob] = await mesh("alice", "bob");
    const a = await connect(alice!);
    a.send(directSend(alice!, bob!, "leased to a ghost"));
    await a.next<Ack>("ack");
    // A broker killed with -9 leaves its claim behind; nobody releases it, so only its expiry can.
    const ghost = await broker.ctx.store.claimDeliveries({
      recipientMemberId: bob!.memberId,
      priorities: ["now", "next", "low"],
      leaseOwner: "presence-of-a-dead-broker",
      now: Date.now(),
      leaseMs: 1_500,
      limit: 10,
    });
    expect(ghost).toHaveLength(1);
    const b = await connect(bob!);
    const push = await b.next<Push>("push", { timeoutMs: 5_000 });
    expect(open(push, bob!)).toBe("leased to a ghost");
  });

  it("refuses a direct send to a non-member or to oneself with unknown_target and stores nothing", async () => {
    const [alice] = await mesh("alice");
    const [outsider] = await mesh("outsider");
    const a = await connect(alice!);
    a.send(
      directSend(
        alice!,
        { ...makeIdentity("nobody"), meshId: alice!.meshId, memberId: "x" },
        "hi",
        "now",
        "u1",
      ),
    );
    expect(await a.next("error")).toMatchObject({ code: "unknown_target", id: "u1" });
    a.send(directSend(alice!, outsider!, "hi", "now", "u2"));
    expect(await a.next((f) => f.type === "error" && f.id === "u2")).toMatchObject({
      code: "unknown_target",
    });
    a.send(directSend(alice!, alice!, "hi", "now", "u3"));
    expect(await a.next((f) => f.type === "error" && f.id === "u3")).toMatchObject({
      code: "unknown_target",
    });
    expect(a.frames.some((f) => f.type === "ack")).toBe(false);
  });

  it("fans out * and #channel only when the envelopes match the current recipients exactly", async () => {
    const [alice, bob, carol] = await mesh("alice", "bob", "carol");
    const a = await connect(alice!);
    const b = await connect(bob!);
    const c = await connect(carol!);
    a.send(fanoutSend(alice!, "*", [bob!], "partial", "b1"));
    const mismatch = await a.next<ErrorFrame>("error");
    expect(mismatch).toMatchObject({ code: "recipients_mismatch", id: "b1" });
    expect(mismatch.expected).toEqual([bob!.pubkey, carol!.pubkey].sort());
    a.send(fanoutSend(alice!, "*", [bob!, carol!], "to all", "b2"));
    await a.next((f) => f.type === "ack" && f.id === "b2");
    expect(open(await b.next<Push>("push"), bob!)).toBe("to all");
    expect(open(await c.next<Push>("push"), carol!)).toBe("to all");

    b.send({ type: "join_channel", name: "ops" });
    a.send({ type: "join_channel", name: "ops" });
    await untilChannels(a, [alice!, bob!], (channels) => channels.includes("ops"));
    a.send(fanoutSend(alice!, "#ops", [bob!, carol!], "ops only", "c1"));
    expect(await a.next((f) => f.type === "error" && f.id === "c1")).toMatchObject({
      code: "recipients_mismatch",
      expected: [bob!.pubkey],
    });
    a.send(fanoutSend(alice!, "#ops", [bob!], "ops only", "c2"));
    await a.next((f) => f.type === "ack" && f.id === "c2");
    const pushes = await b.collect(isPush, 2);
    expect(pushes[1]).toMatchObject({ targetSpec: "#ops" });
    b.send({ type: "leave_channel", name: "ops" });
    await untilChannels(a, [bob!], (channels) => !channels.includes("ops"));
    a.send(fanoutSend(alice!, "#ops", [bob!], "gone", "c3"));
    expect(await a.next((f) => f.type === "error" && f.id === "c3")).toMatchObject({ expected: [] });
    expect(c.frames.filter(isPush)).toHaveLength(1);
  });

  it("sees a member who joined after the membership was cached", async () => {
    const { mesh: m, members } = await createMeshWithMembers(broker.url, ["alice", "bob"]);
    const [alice, bob] = members as [Member, Member];
    const a = await connect(alice);
    a.send(directSend(alice, bob, "warms the cache", "now", "w0"));
    await a.next((f) => f.type === "ack" && f.id === "w0");
    const dave = await joinMesh(broker.url, makeInvite(m, alice), makeIdentity("dave"));
    a.send(directSend(alice, dave, "welcome", "now", "w1"));
    expect(await a.next((f) => "id" in f && f.id === "w1")).toMatchObject({ type: "ack" });
    a.send(fanoutSend(alice, "*", [bob, dave], "all three", "w2"));
    expect(await a.next((f) => "id" in f && f.id === "w2")).toMatchObject({ type: "ack" });
  });

  it("keeps per-sender order for 1,000 messages and never pushes one twice", async () => {
    const [alice, bob, carol] = await mesh("alice", "bob", "carol");
    const a = await connect(alice!);
    const c = await connect(carol!);
    const b = await connect(bob!);
    const N = 1_000;
    for (let i = 0; i < N; i++) {
      a.send(directSend(alice!, bob!, `a-${i}`, "now"));
      if (i % 2 === 0) c.send(directSend(carol!, bob!, `c-${i}`, "now"));
    }
    const pushes = (await b.collect(isPush, N + N / 2, 20_000)) as Push[];
    expect(pushes).toHaveLength(N + N / 2);
    expect(new Set(pushes.map((p) => p.messageId)).size).toBe(pushes.length);
    const fromA = pushes.filter((p) => p.senderPubkey === alice!.pubkey).map((p) => open(p, bob!));
    expect(fromA).toEqual(Array.from({ length: N }, (_, i) => `a-${i}`));
    const fromC = pushes.filter((p) => p.senderPubkey === carol!.pubkey).map((p) => open(p, bob!));
    expect(fromC).toEqual(Array.from({ length: N / 2 }, (_, i) => `c-${i * 2}`));
    for (let i = 0; i < pushes.length; i += 500)
      b.send({ type: "client_ack", messageIds: pushes.slice(i, i + 500).map((p) => p.messageId) });
    await until(
      async () => (await broker.ctx.store.countPending(bob!.memberId)) === 0,
      10_000,
      "all delivered",
    );
    // Group commit: far fewer store transactions than messages.
    expect(metric(broker, "commit_batches_total")).toBeLessThan(metric(broker, "commit_messages_total") / 2);
  });

  it("redelivers a pushed but unacked message after the connection drops", async () => {
    const [alice, bob] = await mesh("alice", "bob");
    const a = await connect(alice!);
    const b1 = await connect(bob!);
    a.send(directSend(alice!, bob!, "again"));
    const first = await b1.next<Push>("push");
    const before = metric(broker, "redeliveries_total");
    await b1.close();
    const b2 = await connect(bob!);
    const second = await b2.next<Push>("push");
    expect(second.messageId).toBe(first.messageId);
    expect(metric(broker, "redeliveries_total")).toBe(before + 1);
  });

  it("redelivers on the same connection when the lease expires without client_ack", async () => {
    const short = await startTestBroker({ kind, claimLeaseMs: 300 });
    try {
      const { members } = await createMeshWithMembers(short.url, ["alice", "bob"]);
      const [alice, bob] = members as [Member, Member];
      const a = await connectPeer(short.wsUrl, alice);
      const b = await connectPeer(short.wsUrl, bob);
      peers.push(a, b);
      a.send(directSend(alice, bob, "lease"));
      const [first, second] = (await b.collect(isPush, 2, 3_000)) as Push[];
      expect(second?.messageId).toBe(first!.messageId);
      expect(metric(short, "redeliveries_total")).toBeGreaterThanOrEqual(1);
      b.send({ type: "client_ack", messageIds: [first!.messageId] });
      await until(async () => (await short.ctx.store.countPending(bob.memberId)) === 0, 3_000, "delivered");
      const count = b.frames.filter((f) => isPush(f) && f.messageId === first!.messageId).length;
      // A later unacked message is redelivered after its own lease; by then the acked one would
      // have come back too if the ack had not stopped it.
      a.send(directSend(alice, bob, "marker"));
      const markers = (await b.collect(
        (f) => isPush(f) && f.messageId !== first!.messageId,
        2,
        3_000,
      )) as Push[];
      expect(markers).toHaveLength(2);
      expect(markers[1]!.messageId).toBe(markers[0]!.messageId);
      expect(b.frames.filter((f) => isPush(f) && f.messageId === first!.messageId)).toHaveLength(count);
    } finally {
      await Promise.all(peers.map((p) => p.close()));
      await short.stop();
    }
  });

  it("lets the newest connection of an identity win and hands it the in-flight messages", async () => {
    const [alice, bob] = await mesh("alice", "bob");
    const a = await connect(alice!);
    const b1 = await connect(bob!);
    a.send(directSend(alice!, bob!, "in flight"));
    const first = await b1.next<Push>("push");
    const b2 = await connect(bob!);
    const closed = await b1.closed;
    expect(closed.code).toBe(CLOSE_CODES.replaced);
    expect(closed.reason).toMatch(/replaced/);
    // Released at once, not after the lease.
    const again = await b2.next<Push>("push", { timeoutMs: 300 });
    expect(again.messageId).toBe(first.messageId);
    expect(broker.hub.connectionCount()).toBeGreaterThanOrEqual(2);
  });

  it("pushes each message once per connection while connections of one identity replace each other", async () => {
    const [alice, bob] = await mesh("alice", "bob");
    const a = await connect(alice!);
    for (let i = 0; i < 200; i++) a.send(directSend(alice!, bob!, `r-${i}`));
    await a.collect((f) => f.type === "ack", 200);
    // Three connections of bob in quick succession: each drains while the next replaces it.
    const conns = await Promise.all([0, 1, 2].map(() => openSocket(broker.wsUrl)));
    peers.push(...conns);
    for (const conn of conns) conn.send(helloFrame(bob!, { now: Date.now() + conns.indexOf(conn) }));
    await until(
      () => conns.some((c) => c.frames.filter(isPush).length >= 200),
      10_000,
      "all pushed to a survivor",
    );
    for (const conn of conns) {
      const ids = conn.frames.filter(isPush).map((p) => p.messageId);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });
});
