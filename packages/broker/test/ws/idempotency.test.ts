// Send idempotency over the socket (SPEC §3): a retried send id is acked with the stored messageId, never stored twice.
import { describe, expect, it } from "vitest";
import type { Ack, Push } from "@claudemesh/protocol";
import { type TestPeer } from "../helpers/ws-client.js";
import { STORE_KINDS } from "../helpers/stores.js";
import { wsSuite } from "./suite.js";
import { directSend, fanoutSend, isPush, metric, sleep } from "./support.js";

describe.each(STORE_KINDS)("ws send idempotency (%s)", (kind) => {
  const suite = wsSuite(kind);
  const { connect, mesh } = suite;
  const acks = (peer: TestPeer, id: string) =>
    peer.frames.filter((f): f is Ack => f.type === "ack" && f.id === id);

  it("a retry after a reconnect is acked with the same messageId and delivered once", async () => {
    const [alice, bob] = await mesh("alice", "bob");
    const frame = directSend(alice!, bob!, "exactly once", "now", "send-1");
    const a = await connect(alice!);
    a.send(frame);
    const first = await a.next<Ack>("ack");
    await a.close();
    const again = await connect(alice!);
    const deduplicated = metric(suite.broker, "sends_deduplicated_total");
    again.send(frame);
    const second = await again.next<Ack>("ack");
    expect(second).toMatchObject({ id: "send-1", messageId: first.messageId });
    expect(metric(suite.broker, "sends_deduplicated_total")).toBe(deduplicated + 1);
    expect(await suite.broker.ctx.store.countPending(bob!.memberId)).toBe(1);
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
    expect(await suite.broker.ctx.store.countPending(bob!.memberId)).toBe(3);
  });
});
