// Brokers on one store acting as one (SPEC §2 POST /hook/set-status, §3 status model): a hook received
// by one broker reaches a peer connected to another at once, through the same rules as a local hook;
// delivery wake-ups go only to the broker holding the recipient.
import { describe, expect, it } from "vitest";
import type { Push } from "@claudemesh/protocol";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { trackResources } from "../helpers/resources.js";
import { createMeshWithMembers, type Member } from "../helpers/identity.js";
import { connectPeer, type TestPeer } from "../helpers/ws-client.js";
import { PG_URL, storeTarget, type StoreKind } from "../helpers/stores.js";
import { directSend, isPush, listPeers, open, postHook, until } from "./support.js";

describe.skipIf(!PG_URL)("brokers on one PostgreSQL store: hooks and targeted wake-ups", () => {
  const { brokers, peers, stores } = trackResources();

  async function brokersOn(kind: StoreKind, n: number): Promise<TestBroker[]> {
    const target = await storeTarget(kind);
    stores.push(target);
    const started: TestBroker[] = [];
    for (let i = 0; i < n; i++) {
      const broker = await startTestBroker({ kind, store: target });
      brokers.push(broker);
      started.push(broker);
    }
    return started;
  }

  async function connect(broker: TestBroker, member: Member): Promise<TestPeer> {
    const peer = await connectPeer(broker.wsUrl, member);
    peers.push(peer);
    return peer;
  }

  async function statusOf(viewer: TestPeer, member: Member): Promise<string | undefined> {
    return (await listPeers(viewer)).find((p) => p.pubkey === member.pubkey)?.status;
  }

  it("a hook on broker one for a peer on broker two is applied there before it answers `applied`, and only once", async () => {
    const [one, two] = (await brokersOn("postgres", 2)) as [TestBroker, TestBroker];
    const { members } = await createMeshWithMembers(one.url, ["alice", "bob"]);
    const [alice, bob] = members as [Member, Member];
    const a = await connect(one, alice);
    const b = await connect(two, bob);
    expect(await postHook(one.url, bob, "working")).toBe("applied");
    // Broker two's own record of bob changed: a `next` from alice is held while `now` passes it.
    a.send(directSend(alice, bob, "held while working", "next"));
    a.send(directSend(alice, bob, "urgent", "now"));
    expect(open(await b.next<Push>("push"), bob)).toBe("urgent");
    // The stored row too (peers on every broker read it), and the stashed entry was taken.
    expect(await statusOf(a, bob)).toBe("working");
    expect(await one.ctx.store.takePendingHook(bob.meshId, bob.pubkey, 0)).toBeNull();
    expect(await postHook(one.url, bob, "idle")).toBe("applied");
    const pushes = (await b.collect(isPush, 2)) as Push[];
    expect(pushes.map((p) => open(p, bob))).toEqual(["urgent", "held while working"]);
  });

  it("a peer in dnd on broker two: a hook through broker one is `ignored` and dnd stays", async () => {
    const [one, two] = (await brokersOn("postgres", 2)) as [TestBroker, TestBroker];
    const { members } = await createMeshWithMembers(one.url, ["alice", "bob"]);
    const [alice, bob] = members as [Member, Member];
    const a = await connect(one, alice);
    const b = await connect(two, bob);
    b.send({ type: "set_status", status: "dnd" });
    await until(async () => (await statusOf(a, bob)) === "dnd", 5_000, "dnd stored");
    expect(await postHook(one.url, bob, "working")).toBe("ignored");
    expect(await statusOf(b, bob)).toBe("dnd");
    expect(await one.ctx.store.takePendingHook(bob.meshId, bob.pubkey, 0)).toBeNull();
  });

  it("a hook for a peer online nowhere is `pending` and applies when it connects to another broker", async () => {
    const [one, two] = (await brokersOn("postgres", 2)) as [TestBroker, TestBroker];
    const { members } = await createMeshWithMembers(one.url, ["alice", "bob"]);
    const [alice, bob] = members as [Member, Member];
    expect(await postHook(one.url, bob, "working")).toBe("pending");
    await connect(two, bob);
    const a = await connect(one, alice);
    expect(await statusOf(a, bob)).toBe("working");
  });

  it("a broker that does not hold the recipient gets no wake-up (nor row) for it", async () => {
    const [one, two, three] = (await brokersOn("postgres", 3)) as [TestBroker, TestBroker, TestBroker];
    const { members } = await createMeshWithMembers(one.url, ["alice", "bob", "carol"]);
    const [alice, bob, carol] = members as [Member, Member, Member];
    const wokenAt = (broker: TestBroker): string[] => {
      const ids: string[] = [];
      broker.ctx.store.onDeliveries((memberIds) => ids.push(...memberIds));
      // A direct message to an idle peer comes as its row (remote-push.ts) instead of a wake-up.
      broker.ctx.store.onLeasedDeliveries((rows) => ids.push(...rows.map((r) => r.recipientMemberId)));
      return ids;
    };
    const atTwo = wokenAt(two);
    const atThree = wokenAt(three);
    const a = await connect(one, alice);
    const b = await connect(two, bob);
    const c = await connect(three, carol);
    a.send(directSend(alice, bob, "to bob"));
    expect(open(await b.next<Push>("push"), bob)).toBe("to bob");
    // Then one to carol: wake-ups arrive in commit order, so bob's would have reached three first.
    a.send(directSend(alice, carol, "to carol"));
    expect(open(await c.next<Push>("push"), carol)).toBe("to carol");
    expect(atThree).toEqual([carol.memberId]);
    expect(atTwo).toEqual([bob.memberId]);
  });
});

describe("two brokers on one SQLite file: hooks", () => {
  const { brokers, peers, stores } = trackResources();

  it("a hook through one broker for a peer on the other is `pending` (no cross-process notices) and applies on its next connect", async () => {
    const target = await storeTarget("sqlite");
    stores.push(target);
    const one = await startTestBroker({ kind: "sqlite", store: target });
    const two = await startTestBroker({ kind: "sqlite", store: target });
    brokers.push(one, two);
    const { members } = await createMeshWithMembers(one.url, ["alice", "bob"]);
    const [alice, bob] = members as [Member, Member];
    const b = await connectPeer(two.wsUrl, bob);
    peers.push(b);
    expect(await postHook(one.url, bob, "working")).toBe("pending");
    expect(await statusOf(b, bob)).toBe("idle");
    await b.close();
    const again = await connectPeer(two.wsUrl, bob);
    const a = await connectPeer(one.wsUrl, alice);
    peers.push(again, a);
    expect(await statusOf(a, bob)).toBe("working");
  });

  async function statusOf(viewer: TestPeer, member: Member): Promise<string | undefined> {
    return (await listPeers(viewer)).find((p) => p.pubkey === member.pubkey)?.status;
  }
});
