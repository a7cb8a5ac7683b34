// Two brokers on one store act as one for connections (SPEC §3): newest wins across them (close 4001)
// and the mesh connection cap counts every live broker's connections.
import { describe, expect, it } from "vitest";
import { CLOSE_CODES, type Push } from "@claudemesh/protocol";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { trackResources } from "../helpers/resources.js";
import { createMeshWithMembers, type Member } from "../helpers/identity.js";
import { connectPeer, helloFrame, openSocket, type CloseInfo, type TestPeer } from "../helpers/ws-client.js";
import pg from "pg";
import { openStore } from "../../src/store/index.js";
import { brokerChannel } from "../../src/store/postgres/holder-wakeups.js";
import { encodeWakeups } from "../../src/store/postgres/wakeup-payload.js";
import { message, presence } from "../store/fixtures.js";
import { STORE_KINDS, storeTarget, type StoreKind } from "../helpers/stores.js";
import { directSend, listPeers, metric, open } from "./support.js";

/** Resolves with the close, or rejects when it has not happened within `ms`. */
function closedWithin(peer: TestPeer, ms: number): Promise<CloseInfo> {
  return Promise.race([
    peer.closed,
    new Promise<CloseInfo>((_, reject) =>
      setTimeout(() => reject(new Error(`socket not closed within ${ms} ms`)), ms).unref(),
    ),
  ]);
}

// On SQLite the brokers of one process on one file tell each other in-process (store/README.md).
describe.each(STORE_KINDS)("two brokers on one store act as one for connections (%s)", (kind) => {
  const { brokers, peers, stores } = trackResources();

  async function pair(
    storeKind: StoreKind,
    options: { maxConnectionsPerMesh?: number; pingIntervalMs?: number } = {},
  ) {
    const target = await storeTarget(storeKind);
    stores.push(target);
    const one: TestBroker = await startTestBroker({ kind: storeKind, store: target, ...options });
    brokers.push(one);
    const two: TestBroker = await startTestBroker({ kind: storeKind, store: target, ...options });
    brokers.push(two);
    return { one, two };
  }

  async function connect(
    broker: TestBroker,
    member: Member,
  ): Promise<Awaited<ReturnType<typeof connectPeer>>> {
    const peer = await connectPeer(broker.wsUrl, member);
    peers.push(peer);
    return peer;
  }

  it("a newer connection on broker two closes the older on broker one with 4001; the row stays the new one's", async () => {
    const { one, two } = await pair(kind);
    const { members } = await createMeshWithMembers(one.url, ["alice", "bob"]);
    const [alice, bob] = members as [Member, Member];
    // alice sends from broker two: on SQLite a delivery wake-up does not cross brokers.
    const a = await connect(two, alice);
    const older = await connect(one, bob);
    const newer = await connect(two, bob);
    const closed = await closedWithin(older, 1_000);
    expect(closed.code).toBe(CLOSE_CODES.replaced);
    expect(metric(one, "connections_taken_over_total")).toBe(1);
    // Broker one's teardown left the row alone: it names the newer connection, online.
    const row = await one.ctx.store.getPresence(bob.memberId);
    expect(row).toMatchObject({
      online: true,
      presenceId: newer.helloAck.presenceId,
      brokerId: two.ctx.brokerId,
    });
    expect((await listPeers(a)).find((p) => p.pubkey === bob.pubkey)?.online).toBe(true);
    // The newer connection is the one that gets bob's messages.
    a.send(directSend(alice, bob, "to the newer one"));
    expect(open(await newer.next<Push>("push", { timeoutMs: 5_000 }), bob)).toBe("to the newer one");
  });

  it("the mesh connection cap counts the connections of every live broker: capacity", async () => {
    const { one, two } = await pair(kind, { maxConnectionsPerMesh: 2 });
    const { members } = await createMeshWithMembers(one.url, ["c1", "c2", "c3"]);
    const [c1, c2, c3] = members as [Member, Member, Member];
    await connect(one, c1);
    const onTwo = await connect(two, c2);
    for (const broker of [one, two]) {
      const peer = await openSocket(broker.wsUrl);
      peers.push(peer);
      peer.send(helloFrame(c3));
      expect(await peer.next("error")).toMatchObject({ code: "capacity" });
      expect((await peer.closed).code).toBe(CLOSE_CODES.policyViolation);
    }
    // A connection that replaces the identity's own, on the other broker, does not count.
    const moved = await connect(one, c2);
    expect((await closedWithin(onTwo, 1_000)).code).toBe(CLOSE_CODES.replaced);
    expect(moved.helloAck.presenceId).toBeTruthy();
  });

  it.skipIf(kind !== "postgres")(
    "a wake-up addressed to the older broker after the takeover is passed on to the newer connection's broker",
    async () => {
      const { one, two } = await pair(kind);
      const { members } = await createMeshWithMembers(one.url, ["alice", "bob"]);
      const [alice, bob] = members as [Member, Member];
      const older = await connect(one, bob);
      const newer = await connect(two, bob);
      expect((await closedWithin(older, 1_000)).code).toBe(CLOSE_CODES.replaced);
      // A send whose snapshot still saw bob on broker one: stored without waking broker two (a store
      // attached under two's id notifies no broker of that id), then addressed to broker one alone.
      const sender = openStore(one.store.target);
      sender.attachBroker(two.ctx.brokerId);
      const client = new pg.Client({ connectionString: one.store.target });
      try {
        const late = message(alice.meshId, alice.memberId, [bob.memberId], { createdAt: Date.now() });
        await sender.enqueueMessages([late]);
        await client.connect();
        const [payload] = encodeWakeups("stale-sender", [bob.memberId]);
        await client.query("SELECT pg_notify($1, $2)", [brokerChannel(one.ctx.brokerId), payload]);
        expect((await newer.next<Push>("push", { timeoutMs: 3_000 })).messageId).toBe(late.messageId);
        expect(metric(one, "wakeups_forwarded_total")).toBe(1);
      } finally {
        await client.end();
        await sender.close();
      }
    },
  );

  it("a takeover whose notice never arrived is found by the older broker's next heartbeat: 4001", async () => {
    const { one } = await pair(kind, { pingIntervalMs: 200 });
    const { members } = await createMeshWithMembers(one.url, ["alice", "bob"]);
    const bob = members[1] as Member;
    const older = await connect(one, bob);
    // A newer connection's row, written on another broker whose notice broker one missed (its LISTEN
    // was down, or it runs in another process on the same SQLite file).
    const row = presence(bob.memberId, {
      presenceId: "elsewhere-newer",
      brokerId: "elsewhere",
      connectedAt: Date.now() + 1,
    });
    // A plain row write through the shared store, as the other broker's admission would leave it.
    await one.ctx.store.upsertPresence(row);
    expect((await closedWithin(older, 3_000)).code).toBe(CLOSE_CODES.replaced);
    expect(metric(one, "connections_taken_over_total")).toBe(1);
    // The older broker's heartbeat and teardown left the newer connection's row as it was.
    expect(await one.ctx.store.getPresence(bob.memberId)).toEqual(row);
  });

  it("a late write of an older connection's row is overwritten by the newer connection's heartbeat, which stays open", async () => {
    const { one } = await pair(kind, { pingIntervalMs: 200 });
    const { members } = await createMeshWithMembers(one.url, ["alice", "bob"]);
    const bob = members[1] as Member;
    const newer = await connect(one, bob);
    // The older connection's broker, not told it was replaced yet, stores a status change.
    await one.ctx.store.upsertPresence(
      presence(bob.memberId, {
        presenceId: "elsewhere-older",
        brokerId: "elsewhere",
        connectedAt: Date.now() - 60_000,
      }),
    );
    const healed = async () => (await one.ctx.store.getPresence(bob.memberId))?.presenceId;
    for (let i = 0; i < 100 && (await healed()) !== newer.helloAck.presenceId; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await healed()).toBe(newer.helloAck.presenceId);
    expect(metric(one, "connections_taken_over_total")).toBe(0);
    // Still served: it answers a request.
    expect((await listPeers(newer)).length).toBeGreaterThan(0);
  });
});
