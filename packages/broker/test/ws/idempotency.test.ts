// Send idempotency over the socket (SPEC §3): a retried send id is acked with the stored messageId, never stored twice.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Ack, Push } from "@claudemesh/protocol";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { createMeshWithMembers, type Member } from "../helpers/identity.js";
import { connectPeer, type TestPeer } from "../helpers/ws-client.js";
import { STORE_KINDS } from "../helpers/stores.js";
import { directSend, fanoutSend, isPush, metric, sleep } from "./support.js";

describe.each(STORE_KINDS)("ws send idempotency (%s)", (kind) => {
  let broker: TestBroker;
  let peers: TestPeer[] = [];
  const connect = async (member: Member) => {
    const peer = await connectPeer(broker.wsUrl, member);
    peers.push(peer);
    return peer;
  };
  const mesh = async (...names: string[]) =>
    (await createMeshWithMembers(broker.url, names)).members as Member[];
  const acks = (peer: TestPeer, id: string) =>
    peer.frames.filter((f): f is Ack => f.type === "ack" && f.id === id);

  beforeAll(async () => {
    broker = await startTestBroker({ kind });
  });
  afterEach(async () => {
    await Promise.all(peers.map((p) => p.close()));
    peers = [];
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it("a retry after a reconnect is acked with the same messageId and delivered once", async () => {
    const [alice, bob] = await mesh("alice", "bob");
    const frame = directSend(alice!, bob!, "exactly once", "now", "send-1");
    const a = await connect(alice!);
    a.send(frame);
    const first = await a.next<Ack>("ack");
    await a.close();
    const again = await connect(alice!);
    const deduplicated = metric(broker, "sends_deduplicated_total");
    again.send(frame);
    const second = await again.next<Ack>("ack");
    expect(second).toMatchObject({ id: "send-1", messageId: first.messageId });
    expect(metric(broker, "sends_deduplicated_total")).toBe(deduplicated + 1);
    expect(await broker.ctx.store.countPending(bob!.memberId)).toBe(1);
    const b = await connect(bob!);
    await b.next<Push>("push");
    await sleep(200);
    expect(b.frames.filter(isPush).map((p) => (p as Push).messageId)).toEqual([first.messageId]);
  });

  it("a send repeated at once to a connected peer (same commit batch) is pushed once, both acks name it", async () => {
    const [alice, bob] = await mesh("alice", "bob");
    const a = await connect(alice!);
    const b = await connect(bob!);
    const frame = directSend(alice!, bob!, "twice in a row", "now", "send-2");
    a.send(frame);
    a.send(frame);
    await a.collect((f) => f.type === "ack", 2);
    const [one, two] = acks(a, "send-2");
    expect(two?.messageId).toBe(one?.messageId);
    await b.next<Push>("push");
    await sleep(200);
    expect(b.frames.filter(isPush)).toHaveLength(1);
  });

  it("send ids are per sender, and a new id is a new message", async () => {
    const [alice, bob, carol] = await mesh("alice", "bob", "carol");
    const a = await connect(alice!);
    const c = await connect(carol!);
    a.send(directSend(alice!, bob!, "from alice", "now", "shared-id"));
    c.send(directSend(carol!, bob!, "from carol", "now", "shared-id"));
    a.send(fanoutSend(alice!, "*", [bob!, carol!], "to all", "fresh-id"));
    const [fromAlice, fromCarol] = [await a.next<Ack>("ack"), await c.next<Ack>("ack")];
    await a.collect((f) => f.type === "ack", 2);
    expect(fromAlice.messageId).not.toBe(fromCarol.messageId);
    expect(acks(a, "fresh-id")[0]?.messageId).not.toBe(fromAlice.messageId);
    expect(await broker.ctx.store.countPending(bob!.memberId)).toBe(3);
  });
});
