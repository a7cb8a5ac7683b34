// PostgreSQL: an admission that takes over another broker's connection tells that broker, with the
// NOTIFY riding in the admission's own statement; two admissions of one identity at once on two
// brokers tell the loser.
import { afterEach, describe, expect, it } from "vitest";
import {
  openStore,
  type AdmitHelloInput,
  type MemberRow,
  type PostgresStore,
  type Store,
  type Takeover,
} from "../../src/store/index.js";
import { addMember, id, makeMesh, presence, T0 } from "./fixtures.js";
import { DATABASE_URL, openIsolated, waitFor } from "./pg-harness.js";

const NOW = T0 + 1_000_000;

function hello(member: MemberRow, brokerId: string, presenceId: string): AdmitHelloInput {
  return {
    meshId: member.meshId,
    memberId: member.id,
    pubkey: member.pubkey,
    replayKey: id("key"),
    replayExpiresAt: NOW + 60_000,
    now: NOW,
    pendingHookSince: NOW - 10_000,
    presence: presence(member.id, { brokerId, presenceId, connectedAt: NOW, lastSeenAt: NOW }),
    restore: { onlineSince: NOW - 70_000, heldSince: NOW - 30_000 },
    capacity: { limit: 100, localOthers: 0, brokersSince: NOW - 30_000 },
  };
}

describe.skipIf(!DATABASE_URL)("postgres takeover notices", () => {
  const url = DATABASE_URL ?? "";
  let cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups = [];
  });

  async function twoBrokers(): Promise<{ one: Store; two: Store }> {
    const h = await openIsolated(url);
    cleanups.push(h.dispose);
    const two = openStore(url, { schema: h.schema, poolSize: 8 });
    cleanups.push(() => two.close());
    return { one: h.store, two };
  }

  function listen(store: Store): Takeover[] {
    const got: Takeover[] = [];
    store.onTakeovers((takeovers) => got.push(...takeovers));
    return got;
  }

  it("the previous owner's broker is told which connection was replaced; the admitting one is not", async () => {
    const { one, two } = await twoBrokers();
    const f = await makeMesh(one);
    const bob = await addMember(one, f.mesh.id, "bob");
    const onOne = listen(one);
    const onTwo = listen(two);
    await (one as PostgresStore).whenListening();
    await (two as PostgresStore).whenListening();
    expect((await two.admitHello(hello(bob, "b-two", "b-two-p1"))).kind).toBe("admitted");
    expect((await one.admitHello(hello(bob, "b-one", "b-one-p1"))).kind).toBe("admitted");
    await waitFor(() => onTwo.length > 0);
    expect(onTwo).toEqual([{ memberId: bob.id, presenceId: "b-two-p1" }]);
    // A replacement on the same broker is that broker's own business: no notice at all.
    expect((await one.admitHello(hello(bob, "b-one", "b-one-p2"))).kind).toBe("admitted");
    expect((await two.admitHello(hello(bob, "b-two", "b-two-p2"))).kind).toBe("admitted");
    await waitFor(() => onOne.length > 0);
    expect(onOne).toEqual([{ memberId: bob.id, presenceId: "b-one-p2" }]);
    expect(onTwo).toHaveLength(1);
  });

  it("two first admissions of one identity at once: the broker whose connection lost is told", async () => {
    const { one, two } = await twoBrokers();
    const f = await makeMesh(one);
    const onOne = listen(one);
    const onTwo = listen(two);
    await (one as PostgresStore).whenListening();
    await (two as PostgresStore).whenListening();
    for (let round = 0; round < 5; round++) {
      // A member with no presence row yet: both statements may find no row to lock.
      const carol = await addMember(one, f.mesh.id, `carol-${round}`);
      const [a, b] = await Promise.all([
        one.admitHello(hello(carol, "b-one", `b-one-r${round}`)),
        two.admitHello(hello(carol, "b-two", `b-two-r${round}`)),
      ]);
      expect([a.kind, b.kind]).toEqual(["admitted", "admitted"]);
      const winner = (await one.getPresence(carol.id))!.brokerId;
      const [loserNotices, loserPresence] =
        winner === "b-one" ? [onTwo, `b-two-r${round}`] : [onOne, `b-one-r${round}`];
      await waitFor(() => loserNotices.some((t) => t.memberId === carol.id));
      const told = loserNotices.filter((t) => t.memberId === carol.id);
      // Named when the later statement saw the earlier row; unnamed when both inserted at once.
      for (const t of told) expect([loserPresence, null]).toContain(t.presenceId);
      const winnerNotices = winner === "b-one" ? onOne : onTwo;
      expect(winnerNotices.filter((t) => t.memberId === carol.id)).toEqual([]);
    }
  });
});
