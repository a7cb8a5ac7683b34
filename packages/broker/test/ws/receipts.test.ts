// Delivery receipts over the socket (SPEC §3): pushed to the sender, kept while it is away, message_status answers.
import { afterEach, describe, expect, it } from "vitest";
import {
  MessageStatusReplySchema,
  ReceiptPushSchema,
  type Ack,
  type ErrorFrame,
  type MessageStatusReply,
  type Push,
  type ReceiptPush,
  type ServerFrame,
} from "@claudemesh/protocol";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { trackResources } from "../helpers/resources.js";
import { createMeshWithMembers, type Member } from "../helpers/identity.js";
import { connectPeer, type TestPeer } from "../helpers/ws-client.js";
import { PG_URL, STORE_KINDS, storeTarget } from "../helpers/stores.js";
import { wsSuite } from "./suite.js";
import { directSend, fanoutSend, metric, sleep, until } from "./support.js";

let seq = 0;
const isReceipt = (f: ServerFrame): f is ReceiptPush => f.type === "receipt";

/** message_status round trip; the reply is checked against the protocol schema. */
async function messageStatus(peer: TestPeer, messageIds: string[]): Promise<MessageStatusReply> {
  const id = `ms${++seq}`;
  const from = peer.frames.length;
  peer.send({ type: "message_status", id, messageIds });
  const reply = await peer.next((f) => (f.type === "message_status" || f.type === "error") && f.id === id, {
    from,
  });
  if (reply.type !== "message_status") throw new Error(`message_status failed: ${JSON.stringify(reply)}`);
  expect(MessageStatusReplySchema.safeParse(reply).success).toBe(true);
  return reply;
}

/** The single recipient state of one message, as message_status reports it. */
async function stateOf(peer: TestPeer, messageId: string): Promise<string[]> {
  const reply = await messageStatus(peer, [messageId]);
  return (reply.statuses[0]?.recipients ?? []).map((r) => r.state);
}

async function sendAndAck(peer: TestPeer, frame: { id: string }): Promise<Ack> {
  const from = peer.frames.length;
  peer.send(frame);
  return peer.next<Ack>((f) => f.type === "ack" && f.id === frame.id, { from });
}

describe.each(STORE_KINDS)("ws receipts (%s)", (kind) => {
  const suite = wsSuite(kind);
  const { connect, mesh } = suite;

  it("the sender sees queued, then delivered and shown pushed as they happen, and message_status agrees", async () => {
    const [alice, bob] = await mesh("alice", "bob");
    const a = await connect(alice!);
    const ack = await sendAndAck(a, directSend(alice!, bob!, "hello bob", "now", "r1"));
    expect(ack.queued).toBe(true);
    const queued = await messageStatus(a, [ack.messageId]);
    expect(queued.statuses).toEqual([
      {
        messageId: ack.messageId,
        recipients: [{ pubkey: bob!.pubkey, state: "queued", at: expect.any(String) }],
      },
    ]);
    const delivered0 = metric(suite.broker, "receipts_total", { state: "delivered" });

    const b = await connect(bob!);
    const push = await b.next<Push>("push");
    expect(push.messageId).toBe(ack.messageId);
    b.send({ type: "client_ack", messageIds: [push.messageId] });
    const delivered = await a.next<ReceiptPush>(isReceipt);
    expect(ReceiptPushSchema.safeParse(delivered).success).toBe(true);
    expect(delivered).toEqual({
      type: "receipt",
      messageId: ack.messageId,
      recipientPubkey: bob!.pubkey,
      state: "delivered",
      at: expect.any(String),
    });
    expect(new Date(delivered.at).toISOString()).toBe(delivered.at);
    expect(await stateOf(a, ack.messageId)).toEqual(["delivered"]);
    expect(metric(suite.broker, "receipts_total", { state: "delivered" })).toBe(delivered0 + 1);

    const from = a.frames.length;
    b.send({ type: "receipt", messageIds: [push.messageId], state: "shown" });
    const shown = await a.next<ReceiptPush>(isReceipt, { from });
    expect(shown).toMatchObject({ messageId: ack.messageId, recipientPubkey: bob!.pubkey, state: "shown" });
    expect(await stateOf(a, ack.messageId)).toEqual(["shown"]);

    // Repeats move nothing and push nothing more.
    b.send({ type: "client_ack", messageIds: [push.messageId] });
    b.send({ type: "receipt", messageIds: [push.messageId], state: "shown" });
    await sleep(200);
    expect(a.frames.filter(isReceipt)).toHaveLength(2);
  });

  it("a shown receipt without a client_ack also delivers: no redelivery, the sender sees shown", async () => {
    const [alice, bob] = await mesh("alice", "bob");
    const a = await connect(alice!);
    const b = await connect(bob!);
    const ack = await sendAndAck(a, directSend(alice!, bob!, "shown at once"));
    await b.next<Push>("push");
    b.send({ type: "receipt", messageIds: [ack.messageId], state: "shown" });
    const receipt = await a.next<ReceiptPush>(isReceipt);
    expect(receipt.state).toBe("shown");
    expect(await suite.broker.ctx.store.countPending(bob!.memberId)).toBe(0);
  });

  it("receipts that changed while the sender was away are pushed after its next hello, once", async () => {
    const [alice, bob] = await mesh("alice", "bob");
    const a = await connect(alice!);
    const first = await sendAndAck(a, directSend(alice!, bob!, "one"));
    const second = await sendAndAck(a, directSend(alice!, bob!, "two"));
    await a.close();
    const b = await connect(bob!);
    await b.collect((f) => f.type === "push", 2);
    b.send({ type: "client_ack", messageIds: [first.messageId, second.messageId] });
    b.send({ type: "receipt", messageIds: [second.messageId], state: "shown" });
    await until(
      async () => {
        const { statuses } = await suite.broker.ctx.store.messageStatus(
          alice!.memberId,
          [second.messageId],
          10,
        );
        return statuses.get(second.messageId)?.[0]?.state === "shown";
      },
      5_000,
      "bob's receipts stored",
    );

    const back = await connect(alice!);
    const got = (await back.collect(isReceipt, 2)) as ReceiptPush[];
    // The latest state of each (message, recipient), not every step it took while alice was away.
    expect(got.map((r) => [r.messageId, r.state]).sort()).toEqual(
      [
        [first.messageId, "delivered"],
        [second.messageId, "shown"],
      ].sort(),
    );
    await back.close();
    const again = await connect(alice!);
    await sleep(300);
    expect(again.frames.filter(isReceipt)).toEqual([]);
  });

  it("only the recipient of a copy can mark it: anyone else's receipt changes nothing and gets no answer", async () => {
    const [alice, bob, carol] = await mesh("alice", "bob", "carol");
    const a = await connect(alice!);
    const c = await connect(carol!);
    const ack = await sendAndAck(a, directSend(alice!, bob!, "for bob only"));
    c.send({ type: "receipt", messageIds: [ack.messageId], state: "shown" });
    c.send({ type: "client_ack", messageIds: [ack.messageId] });
    a.send({ type: "receipt", messageIds: [ack.messageId], state: "shown" });
    await sleep(300);
    expect(await stateOf(a, ack.messageId)).toEqual(["queued"]);
    expect(a.frames.filter(isReceipt)).toEqual([]);
    expect(c.frames.filter((f) => f.type === "error")).toEqual([]);
    expect(await suite.broker.ctx.store.countPending(bob!.memberId)).toBe(1);
  });

  it("message_status reports only the asker's own messages; others' ids get no recipients", async () => {
    const [alice, bob, carol] = await mesh("alice", "bob", "carol");
    const a = await connect(alice!);
    const b = await connect(bob!);
    const c = await connect(carol!);
    const ack = await sendAndAck(a, directSend(alice!, bob!, "private"));
    await b.next<Push>("push");
    const asked = [ack.messageId, "msg_unknown", ack.messageId];
    for (const viewer of [b, c]) {
      const reply = await messageStatus(viewer, asked);
      expect(reply.statuses).toEqual([
        { messageId: ack.messageId, recipients: [] },
        { messageId: "msg_unknown", recipients: [] },
      ]);
    }
    const mine = await messageStatus(a, asked);
    expect(mine.statuses.map((s) => [s.messageId, s.recipients.length])).toEqual([
      [ack.messageId, 1],
      ["msg_unknown", 0],
    ]);
  });

  it("message_status asks about at most 1,000 ids (malformed, echoing the request id)", async () => {
    const [alice] = await mesh("alice");
    const a = await connect(alice!);
    const messageIds = Array.from({ length: 1_001 }, (_, i) => `msg_${i}`);
    a.send({ type: "message_status", id: "too-many", messageIds });
    const error = await a.next<ErrorFrame>("error");
    expect(error).toMatchObject({ code: "malformed", id: "too-many" });
    expect(error.message).toContain("messageIds");
  });

  it("a broadcast reports each recipient on its own", async () => {
    const [alice, bob, carol] = await mesh("alice", "bob", "carol");
    const a = await connect(alice!);
    const b = await connect(bob!);
    const ack = await sendAndAck(a, fanoutSend(alice!, "*", [bob!, carol!], "to all"));
    const push = await b.next<Push>("push");
    b.send({ type: "client_ack", messageIds: [push.messageId] });
    const receipt = await a.next<ReceiptPush>(isReceipt);
    expect(receipt).toMatchObject({
      messageId: ack.messageId,
      recipientPubkey: bob!.pubkey,
      state: "delivered",
    });
    const reply = await messageStatus(a, [ack.messageId]);
    const byPubkey = Object.fromEntries(
      (reply.statuses[0]?.recipients ?? []).map((r) => [r.pubkey, r.state]),
    );
    expect(byPubkey).toEqual({ [bob!.pubkey]: "delivered", [carol!.pubkey]: "queued" });
  });
});

describe.each(STORE_KINDS)("ws receipts: expiry (%s)", (kind) => {
  let broker: TestBroker | undefined;
  let peer: TestPeer | undefined;
  afterEach(async () => {
    await peer?.close();
    await broker?.stop();
  });

  it("a message dropped undelivered by retention is reported expired to its connected sender", async () => {
    broker = await startTestBroker({ kind, retentionMs: 1_000, sweepIntervalMs: 100 });
    const [alice, bob] = (await createMeshWithMembers(broker.url, ["alice", "bob"])).members as Member[];
    peer = await connectPeer(broker.wsUrl, alice!);
    const ack = await sendAndAck(peer, directSend(alice!, bob!, "nobody reads this"));
    const receipt = await peer.next<ReceiptPush>(isReceipt, { timeoutMs: 5_000 });
    expect(receipt).toMatchObject({
      messageId: ack.messageId,
      recipientPubkey: bob!.pubkey,
      state: "expired",
    });
    expect(await stateOf(peer, ack.messageId)).toEqual(["expired"]);
    expect(await broker.ctx.store.countPending(bob!.memberId)).toBe(0);
  });
});

describe.skipIf(!PG_URL)("ws receipts across two brokers on one PostgreSQL store", () => {
  const { brokers, peers, stores } = trackResources();

  it("bob's ack and shown receipt on broker two reach alice on broker one", async () => {
    const target = await storeTarget("postgres");
    stores.push(target);
    const one = await startTestBroker({ kind: "postgres", store: target });
    const two = await startTestBroker({ kind: "postgres", store: target });
    brokers.push(one, two);
    const [alice, bob] = (await createMeshWithMembers(one.url, ["alice", "bob"])).members as Member[];
    const a = await connectPeer(one.wsUrl, alice!);
    const b = await connectPeer(two.wsUrl, bob!);
    peers.push(a, b);
    const ack = await sendAndAck(a, directSend(alice!, bob!, "across"));
    const push = await b.next<Push>("push", { timeoutMs: 3_000 });
    b.send({ type: "client_ack", messageIds: [push.messageId] });
    expect(await a.next<ReceiptPush>(isReceipt, { timeoutMs: 3_000 })).toMatchObject({
      messageId: ack.messageId,
      state: "delivered",
    });
    const from = a.frames.length;
    b.send({ type: "receipt", messageIds: [push.messageId], state: "shown" });
    expect(await a.next<ReceiptPush>(isReceipt, { timeoutMs: 3_000, from })).toMatchObject({
      messageId: ack.messageId,
      state: "shown",
    });
    await sleep(200);
    expect(a.frames.filter(isReceipt)).toHaveLength(2);
  });
});
