// The direct push across brokers (ws/remote-push.ts): a direct message to a peer online and idle on
// another broker is stored leased to that connection, and its broker pushes the row it is sent — no
// claim — or gives the lease back at once when it cannot push it.
import { describe, expect, it } from "vitest";
import type { Push } from "@claudemesh/protocol";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { trackResources } from "../helpers/resources.js";
import { createMeshWithMembers, type Member } from "../helpers/identity.js";
import { connectPeer, type TestPeer } from "../helpers/ws-client.js";
import { PG_URL, storeTarget } from "../helpers/stores.js";
import { connectionOwnerId } from "../../src/ws/broker-heartbeat.js";
import { presence } from "../store/fixtures.js";
import { directSend, isPush, metric, open, until } from "./support.js";

/** Long enough that a delivery waiting for its lease to run out would fail every wait below. */
const LEASE_MS = 60_000;

describe.skipIf(!PG_URL)("brokers on one PostgreSQL store: direct push across brokers", () => {
  const { brokers, peers, stores } = trackResources();

  async function brokers3(): Promise<[TestBroker, TestBroker, TestBroker]> {
    const target = await storeTarget("postgres");
    stores.push(target);
    const started: TestBroker[] = [];
    for (let i = 0; i < 3; i++) {
      const broker = await startTestBroker({ kind: "postgres", store: target, claimLeaseMs: LEASE_MS });
      brokers.push(broker);
      started.push(broker);
    }
    return started as [TestBroker, TestBroker, TestBroker];
  }

  async function connect(broker: TestBroker, member: Member): Promise<TestPeer> {
    const peer = await connectPeer(broker.wsUrl, member);
    peers.push(peer);
    return peer;
  }

  it("messages to a peer idle on another broker are pushed from their rows, in order, without a claim", async () => {
    const [one, two] = await brokers3();
    const { members } = await createMeshWithMembers(one.url, ["alice", "bob"]);
    const [alice, bob] = members as [Member, Member];
    const a = await connect(one, alice);
    const b = await connect(two, bob);
    for (let i = 0; i < 20; i++) a.send(directSend(alice, bob, `m${i}`));
    const pushes = (await b.collect(isPush, 20)) as Push[];
    expect(pushes.map((p) => open(p, bob))).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    // Every one came as its row (some batches may have found bob's loop busy and given theirs back).
    expect(metric(two, "remote_direct_pushes_total") + metric(two, "remote_leases_returned_total")).toBe(20);
    expect(metric(two, "remote_direct_pushes_total")).toBeGreaterThan(0);
    b.send({ type: "client_ack", messageIds: pushes.map((p) => p.messageId) });
    await until(async () => (await one.ctx.store.countPending(bob.memberId)) === 0, 5_000, "acked");
  });

  it("a row leased to a connection its broker no longer has is given back at once, not after the lease", async () => {
    const [one, two, three] = await brokers3();
    const { members } = await createMeshWithMembers(one.url, ["alice", "bob"]);
    const [alice, bob] = members as [Member, Member];
    // Broker two's row still shows bob online and idle there, on a connection two does not hold.
    await two.ctx.store.upsertPresence(
      presence(bob.memberId, {
        brokerId: two.ctx.brokerId,
        presenceId: connectionOwnerId(two.ctx.brokerId, "gone"),
        connectedAt: Date.now(),
        lastSeenAt: Date.now(),
        statusAt: Date.now(),
      }),
    );
    const a = await connect(one, alice);
    a.send(directSend(alice, bob, "given back"));
    await a.next((f) => f.type === "ack");
    await until(async () => metric(two, "remote_leases_returned_total") === 1, 5_000, "given back");
    await until(
      async () => (await one.ctx.store.earliestForeignLease(bob.memberId, "nobody", Date.now())) === null,
      5_000,
      "released",
    );
    // Bob's next connection (anywhere) gets it now; kept leased it would wait LEASE_MS.
    const b = await connect(three, bob);
    expect(open(await b.next<Push>("push"), bob)).toBe("given back");
    expect(metric(two, "remote_direct_pushes_total")).toBe(0);
  });
});
