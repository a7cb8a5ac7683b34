// Two brokers on one store (SPEC §3 Delivery guarantees, PostgreSQL mode): cross-broker routing, presence, concurrent drains.
import { describe, expect, it } from "vitest";
import { CLOSE_CODES, type Ack, type Push } from "@claudemesh/protocol";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { trackResources } from "../helpers/resources.js";
import { createMeshWithMembers, type Member } from "../helpers/identity.js";
import { connectPeer, helloFrame, openSocket } from "../helpers/ws-client.js";
import { PG_URL, STORE_KINDS, storeTarget, type StoreKind, type StoreTarget } from "../helpers/stores.js";
import { directSend, isPush, listPeers, open, sleep, until } from "./support.js";

async function pair(kind: StoreKind): Promise<{ one: TestBroker; two: TestBroker; target: StoreTarget }> {
  const target = await storeTarget(kind);
  const one = await startTestBroker({ kind, store: target });
  const two = await startTestBroker({ kind, store: target });
  return { one, two, target };
}

describe.each(STORE_KINDS)("two brokers on one store (%s)", (kind) => {
  const { brokers, peers, stores } = trackResources();

  it("an identity connecting to both brokers at once keeps one connection (the other closes 4001), which gets every queued message once acked", async () => {
    const target = await storeTarget(kind);
    stores.push(target);
    // Short leases: on SQLite no wake-up crosses brokers, so the survivor re-drains at lease expiry.
    const one = await startTestBroker({ kind, store: target, claimLeaseMs: 1_000 });
    const two = await startTestBroker({ kind, store: target, claimLeaseMs: 1_000 });
    brokers.push(one, two);
    const { members } = await createMeshWithMembers(one.url, ["alice", "bob"]);
    const [alice, bob] = members as [Member, Member];
    const a = await connectPeer(one.wsUrl, alice);
    peers.push(a);
    const N = 200;
    for (let i = 0; i < N; i++) a.send(directSend(alice, bob, `q${i}`));
    await a.collect((f) => f.type === "ack", N, 15_000);
    // Each connection signs its own hello: one signed hello is accepted once on the whole store.
    const now = Date.now();
    const [b1, b2] = await Promise.all([openSocket(one.wsUrl), openSocket(two.wsUrl)]);
    peers.push(b1, b2);
    const ended: number[] = [];
    for (const [i, b] of [b1, b2].entries()) void b.closed.then(() => ended.push(i));
    b1.send(helloFrame(bob, { now }));
    b2.send(helloFrame(bob, { now: now + 1 }));
    await until(() => ended.length > 0, 10_000, "one of the two connections replaced");
    const loser = [b1, b2][ended[0]!]!;
    const survivor = [b1, b2][1 - ended[0]!]!;
    expect((await loser.closed).code).toBe(CLOSE_CODES.replaced);
    // The survivor answers (it is open and authenticated) and receives everything, acking as it goes.
    await survivor.next("hello_ack");
    expect((await listPeers(survivor)).find((p) => p.pubkey === bob.pubkey)?.online).toBe(true);
    const received = new Set<string>();
    await until(
      () => {
        const pushes = survivor.frames.filter(isPush) as Push[];
        const fresh = pushes.map((p) => p.messageId).filter((id) => !received.has(id));
        if (fresh.length > 0) survivor.send({ type: "client_ack", messageIds: fresh });
        for (const id of fresh) received.add(id);
        return received.size >= N;
      },
      15_000,
      "every queued message on the surviving connection",
    );
    await until(
      async () => (await one.ctx.store.countPending(bob.memberId)) === 0,
      10_000,
      "every ack stored",
    );
    expect(ended).toHaveLength(1);
  });

  it("a send retried on another broker and after a restart is acked with the stored messageId, stored once", async () => {
    const started = await pair(kind);
    brokers.push(started.one, started.two);
    stores.push(started.target);
    const { members } = await createMeshWithMembers(started.one.url, ["alice", "bob"]);
    const [alice, bob] = members as [Member, Member];
    const frame = directSend(alice, bob, "exactly once", "now", "send-across");
    const ackOn = async (wsUrl: string): Promise<Ack> => {
      const peer = await connectPeer(wsUrl, alice);
      try {
        peer.send(frame);
        return await peer.next<Ack>("ack");
      } finally {
        await peer.close();
      }
    };
    const first = await ackOn(started.one.wsUrl);
    // Its ack was lost: the client retries on the other broker of the store, then on a restarted one.
    expect(await ackOn(started.two.wsUrl)).toMatchObject({ id: "send-across", messageId: first.messageId });
    await started.one.stop();
    const three = await startTestBroker({ kind, store: started.target });
    brokers.push(three);
    expect(await ackOn(three.wsUrl)).toMatchObject({ id: "send-across", messageId: first.messageId });
    expect(await three.ctx.store.countPending(bob.memberId)).toBe(1);
  });

  it("a broker starting on the store leaves a live broker's leases alone", async () => {
    const target0 = await storeTarget(kind);
    stores.push(target0);
    const one = await startTestBroker({ kind, store: target0 });
    brokers.push(one);
    const { members } = await createMeshWithMembers(one.url, ["alice", "bob"]);
    const [alice, bob] = members as [Member, Member];
    const a = await connectPeer(one.wsUrl, alice);
    const b1 = await connectPeer(one.wsUrl, bob, { sessionId: "bob-one" });
    peers.push(a, b1);
    const N = 20;
    for (let i = 0; i < N; i++) a.send(directSend(alice, bob, `q${i}`));
    await until(() => b1.frames.filter(isPush).length >= N, 10_000, "pushes on broker one");
    // bob never acks: broker one's connection holds every lease. A second broker starts (on SQLite
    // too: several brokers may share one file); a lease it wrongly released would be claimed again
    // by bob's next drain round, which the next message starts.
    const two = await startTestBroker({ kind, store: target0 });
    brokers.push(two);
    a.send(directSend(alice, bob, "after"));
    await until(() => b1.frames.filter(isPush).length > N, 10_000, "one more push");
    await sleep(300); // room for a wrongly released lease to be pushed again
    const pushed = b1.frames.filter(isPush).map((p) => (p as Push).messageId);
    expect(pushed.length).toBe(N + 1);
    expect(new Set(pushed).size).toBe(N + 1);
  });
});

describe.skipIf(!PG_URL)("two brokers on one PostgreSQL store", () => {
  if (!PG_URL)
    console.warn("[claudemesh tests] DATABASE_URL is not set: cross-broker wake-up tests are skipped");
  const { brokers, peers, stores } = trackResources();

  it("routes A on broker 1 to B on broker 2 through store wake-ups, and both list each other online", async () => {
    const started = await pair("postgres");
    brokers.push(started.one, started.two);
    stores.push(started.target);
    const { members } = await createMeshWithMembers(started.one.url, ["alice", "bob"]);
    const [alice, bob] = members as [Member, Member];
    const a = await connectPeer(started.one.wsUrl, alice);
    const b = await connectPeer(started.two.wsUrl, bob);
    peers.push(a, b);
    a.send(directSend(alice, bob, "across brokers"));
    await a.next("ack");
    const push = await b.next<Push>("push", { timeoutMs: 3_000 });
    expect(open(push, bob)).toBe("across brokers");
    b.send(directSend(bob, alice, "and back"));
    expect(open(await a.next<Push>("push", { timeoutMs: 3_000 }), alice)).toBe("and back");
    for (const viewer of [a, b]) {
      const list = await listPeers(viewer);
      expect(
        list
          .filter((p) => p.online)
          .map((p) => p.displayName)
          .sort(),
      ).toEqual(["alice", "bob"]);
    }
    b.send({ type: "set_summary", summary: "on broker two" });
    await until(
      async () => (await listPeers(a)).find((p) => p.pubkey === bob.pubkey)?.summary === "on broker two",
      3_000,
      "summary visible across brokers",
    );
  });
});
