// Leases die with their holder (SPEC §3): which brokers' leases the heartbeat releases, and when — a fake clock over two stores on one target.
import { afterEach, describe, expect, it } from "vitest";
import { openStore, type DeliveryRow, type Store } from "../../src/store/index.js";
import { BrokerHeartbeat, brokerEndpoint, connectionOwnerId } from "../../src/ws/broker-heartbeat.js";
import { createMetrics } from "../../src/metrics.js";
import { STORE_KINDS, storeTarget, type StoreTarget } from "../helpers/stores.js";
import { addMember, makeMesh, message, presence, T0 } from "../store/fixtures.js";

const BEAT = 5_000;
const GONE = 15_000;
const LEASE = 30_000;
const quiet = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

describe.each(STORE_KINDS)("broker liveness and leases (%s)", (kind) => {
  let stores: Store[] = [];
  let target: StoreTarget | undefined;
  afterEach(async () => {
    await Promise.all(stores.map((s) => s.close()));
    stores = [];
    await target?.cleanup();
    target = undefined;
  });

  /** Two brokers' store handles on one fresh target, alice and bob, and `count` messages alice → bob. */
  async function setup(count: number) {
    target = await storeTarget(kind);
    const handles: Store[] = [];
    for (let i = 0; i < 2; i++) {
      const store = openStore(target.target);
      stores.push(store);
      await store.migrate();
      handles.push(store);
    }
    const [one, two] = handles as [Store, Store];
    const f = await makeMesh(one);
    const bob = await addMember(one, f.mesh.id, "bob");
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const m = message(f.mesh.id, f.owner.id, [bob.id], { createdAt: T0 + i });
      await one.enqueueMessages([m]);
      ids.push(m.messageId);
    }
    return { one, two, f, bob: bob.id, ids };
  }

  /** A broker's heartbeat on `store` with a clock the test moves. */
  function broker(store: Store, brokerId: string, clock: { t: number }) {
    return new BrokerHeartbeat({
      store,
      brokerId,
      clock: { now: () => clock.t },
      log: quiet,
      metrics: createMetrics(),
      options: { brokerHeartbeatMs: BEAT, brokerGoneAfterMs: GONE },
    });
  }

  function claim(store: Store, recipient: string, owner: string, now: number, limit = 100) {
    return store.claimDeliveries({
      recipientMemberId: recipient,
      priorities: ["now", "next", "low"],
      leaseOwner: owner,
      now,
      leaseMs: LEASE,
      limit,
      behindForeignLeases: true,
    });
  }
  const idsOf = (rows: DeliveryRow[]) => rows.map((r) => r.messageId);

  it("a broker whose beat goes stale loses its leases at the first beat past brokerGoneAfterMs, not before", async () => {
    const { one, two, bob, ids } = await setup(3);
    const clock = { t: T0 };
    await broker(one, "aaaa01", clock).start(); // beats once at T0, then never again (crashed)
    expect(idsOf(await claim(one, bob, connectionOwnerId("aaaa01", "c1"), T0))).toEqual(ids);
    const survivor = broker(two, "bbbb02", clock);
    clock.t = T0 + 1_000;
    await survivor.start();
    const mine = connectionOwnerId("bbbb02", "c2");
    expect(await claim(two, bob, mine, clock.t)).toEqual([]); // the dead broker is not detectably gone yet
    clock.t = T0 + GONE; // exactly the window: not stale yet
    await survivor.tick();
    expect(await claim(two, bob, mine, clock.t)).toEqual([]);
    clock.t = T0 + GONE + BEAT; // the next beat after the window: released, long before the 30 s lease
    await survivor.tick();
    expect(idsOf(await claim(two, bob, mine, clock.t))).toEqual(ids);
    await survivor.stop();
  });

  it("a live broker keeps its leases when another broker starts on the same store", async () => {
    const { one, two, bob, ids } = await setup(2);
    const clock = { t: T0 };
    const live = broker(one, "aaaa01", clock);
    await live.start();
    await live.claimEndpoint(brokerEndpoint("host", "127.0.0.1", 4001));
    expect(idsOf(await claim(one, bob, connectionOwnerId("aaaa01", "c1"), T0))).toEqual(ids);
    clock.t = T0 + BEAT;
    await live.tick();
    const second = broker(two, "bbbb02", clock);
    await second.start();
    await second.claimEndpoint(brokerEndpoint("host", "127.0.0.1", 4002)); // another port: another live broker
    clock.t = T0 + 2 * BEAT;
    await second.tick();
    expect(await claim(two, bob, connectionOwnerId("bbbb02", "c2"), clock.t)).toEqual([]);
    await live.stop();
    await second.stop();
  });

  it("a broker restarting on its predecessor's endpoint releases the predecessor's leases at once", async () => {
    const { one, two, bob, ids } = await setup(3);
    const clock = { t: T0 };
    const endpoint = brokerEndpoint("host", "127.0.0.1", 4001);
    const crashed = broker(one, "aaaa01", clock);
    await crashed.start();
    await crashed.claimEndpoint(endpoint);
    expect(idsOf(await claim(one, bob, connectionOwnerId("aaaa01", "c1"), T0))).toEqual(ids);
    clock.t = T0 + 100; // its beat is fresh: only the endpoint says it is gone
    const restarted = broker(two, "bbbb02", clock);
    await restarted.start();
    const mine = connectionOwnerId("bbbb02", "c2");
    expect(await claim(two, bob, mine, clock.t)).toEqual([]);
    await restarted.claimEndpoint(endpoint);
    expect(idsOf(await claim(two, bob, mine, clock.t))).toEqual(ids);
    await restarted.stop();
  });

  it("a retiring broker releases every lease of its connections and marks its rows offline in one call; others keep theirs", async () => {
    const { one, two, f, bob, ids } = await setup(2);
    const carol = await addMember(one, f.mesh.id, "carol");
    const toCarol = message(f.mesh.id, f.owner.id, [carol.id], { createdAt: T0 });
    await one.enqueueMessages([toCarol]);
    const clock = { t: T0 };
    const stopping = broker(one, "aaaa01", clock);
    const staying = broker(two, "bbbb02", clock);
    await stopping.start();
    await staying.start();
    // A connection of the stopping broker holds bob's first message; one of the other broker carol's.
    expect(idsOf(await claim(one, bob, connectionOwnerId("aaaa01", "c1"), T0, 1))).toEqual([ids[0]]);
    expect(idsOf(await claim(two, carol.id, connectionOwnerId("bbbb02", "c3"), T0))).toEqual([
      toCarol.messageId,
    ]);
    await one.upsertPresence(presence(bob, { brokerId: "aaaa01", online: true }));
    const released = await one.retireBroker("aaaa01", T0 + 10);
    expect(released).toEqual({ brokers: ["aaaa01"], recipients: [bob] });
    expect(await two.getPresence(bob)).toMatchObject({ online: false, disconnectedAt: T0 + 10 });
    // Claimable again at once, before any lease ran out; the other broker's lease is untouched.
    expect(idsOf(await claim(two, bob, connectionOwnerId("bbbb02", "c4"), T0 + 10))).toEqual(ids);
    expect(await claim(two, carol.id, connectionOwnerId("bbbb02", "c5"), T0 + 10)).toEqual([]);
    await stopping.stop();
    await staying.stop();
  });

  it("at start-up, leases whose owner has no broker row are released (owners from before heartbeats)", async () => {
    const { one, two, bob, ids } = await setup(2);
    expect(idsOf(await claim(one, bob, "legacyowner", T0))).toEqual(ids);
    const clock = { t: T0 + 1 };
    const fresh = broker(two, "bbbb02", clock);
    await fresh.start();
    expect(idsOf(await claim(two, bob, connectionOwnerId("bbbb02", "c2"), clock.t))).toEqual(ids);
    await fresh.stop();
  });

  it("a sender's later messages wait behind its messages leased to a gone broker, then come back in order", async () => {
    const { one, two, bob, ids } = await setup(5);
    const clock = { t: T0 };
    const endpoint = brokerEndpoint("host", "127.0.0.1", 4001);
    const crashed = broker(one, "aaaa01", clock);
    await crashed.start();
    await crashed.claimEndpoint(endpoint);
    // The dead broker had pushed the first two; three more were still queued.
    expect(idsOf(await claim(one, bob, connectionOwnerId("aaaa01", "c1"), T0, 2))).toEqual(ids.slice(0, 2));
    const restarted = broker(two, "bbbb02", clock);
    await restarted.start();
    const mine = connectionOwnerId("bbbb02", "c2");
    // Not handed out ahead of the two still leased to the dead broker.
    expect(await claim(two, bob, mine, clock.t)).toEqual([]);
    await restarted.claimEndpoint(endpoint);
    expect(idsOf(await claim(two, bob, mine, clock.t))).toEqual(ids);
    await restarted.stop();
  });
});
