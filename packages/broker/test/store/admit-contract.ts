// Store contract for admitHello (SPEC §3 checks 4–6 in one round trip): each refusal, its order, the
// replay rule (a refused hello is never remembered), the cap across live brokers, the pending hook,
// and the presence row it writes (stored status restored while live).
import { beforeEach, describe, expect, it } from "vitest";
import {
  StoreUnavailableError,
  type AdmitHelloInput,
  type AdmitHelloResult,
  type MemberRow,
  type Store,
} from "../../src/store/index.js";
import { addMember, id, makeMesh, message, presence, T0, type MeshFixture } from "./fixtures.js";

const SELF = "broker-self";
const GRACE = 30_000;
const STALE_ONLINE = 70_000;
const NOW = T0 + 1_000_000;

export function registerAdmitContract(getStore: () => Store): void {
  describe("admitHello", () => {
    let store: Store;
    let f: MeshFixture;
    let bob: MemberRow;

    beforeEach(async () => {
      store = getStore();
      f = await makeMesh(store, "admit-alice");
      bob = await addMember(store, f.mesh.id, "admit-bob");
    });

    function input(member: MemberRow, over: Partial<AdmitHelloInput> = {}): AdmitHelloInput {
      const presenceId = `${SELF}-${id("p")}`;
      return {
        meshId: member.meshId,
        memberId: member.id,
        pubkey: member.pubkey,
        replayKey: id("key"),
        replayExpiresAt: NOW + 60_000,
        now: NOW,
        pendingHookSince: NOW - 10_000,
        presence: presence(member.id, {
          presenceId,
          brokerId: SELF,
          connectedAt: NOW,
          lastSeenAt: NOW,
          status: "idle",
          statusSource: "jsonl",
          statusAt: NOW,
          summary: null,
        }),
        restore: { onlineSince: NOW - STALE_ONLINE, heldSince: NOW - GRACE },
        capacity: { limit: 100, localOthers: 0, brokersSince: NOW - 30_000 },
        ...over,
      };
    }

    function admitted(result: AdmitHelloResult) {
      if (result.kind !== "admitted") throw new Error(`expected admitted, got ${result.kind}`);
      return result;
    }

    /** The key was not remembered: a claim of it now is new. */
    async function keyIsFree(key: string): Promise<boolean> {
      return store.claimReplayKey(key, NOW + 60_000, NOW);
    }

    it("admits a member: writes its presence row and returns it with the member row", async () => {
      const hello = input(bob);
      const result = admitted(await store.admitHello(hello));
      expect(result.member).toEqual(bob);
      expect(result.presence).toEqual(hello.presence);
      expect(result.pendingHook).toBeNull();
      expect(result.replaced).toBeNull();
      expect(await store.getPresence(bob.id)).toEqual(hello.presence);
    });

    it("unauthorized for an unknown key, another member's id or an unknown mesh; nothing remembered or written", async () => {
      const cases = [
        input(bob, { pubkey: "f".repeat(64) }),
        input(bob, { memberId: f.owner.id }),
        input(bob, { meshId: id("mesh") }),
      ];
      for (const hello of cases) {
        expect(await store.admitHello(hello)).toEqual({ kind: "unauthorized" });
        expect(await keyIsFree(hello.replayKey)).toBe(true);
      }
      expect(await store.getPresence(bob.id)).toBeNull();
      expect(await store.getPresence(f.owner.id)).toBeNull();
    });

    it("revoked for a revoked member (before replay: its used key is not what it is told); nothing remembered", async () => {
      const used = input(bob);
      admitted(await store.admitHello(used));
      await store.revokeMember(bob.id, NOW);
      expect(
        await store.admitHello({ ...used, presence: { ...used.presence, presenceId: "again" } }),
      ).toEqual({
        kind: "revoked",
      });
      const fresh = input(bob);
      expect(await store.admitHello(fresh)).toEqual({ kind: "revoked" });
      expect(await keyIsFree(fresh.replayKey)).toBe(true);
    });

    it("replay for a key already admitted, on this store until it expires", async () => {
      const hello = input(bob);
      admitted(await store.admitHello(hello));
      const again = await store.admitHello({ ...hello, presence: { ...hello.presence, presenceId: "x" } });
      expect(again).toEqual({ kind: "replay" });
      // The refused hello wrote nothing: the row is the first one's.
      expect((await store.getPresence(bob.id))?.presenceId).toBe(hello.presence.presenceId);
      // Past its window the key may be claimed again.
      const later = NOW + 120_000;
      admitted(await store.admitHello({ ...hello, now: later, replayExpiresAt: later + 60_000 }));
    });

    it("of concurrent admissions with one key exactly one is admitted", async () => {
      const hello = input(bob);
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          store.admitHello({ ...hello, presence: { ...hello.presence, presenceId: `${SELF}-c${i}` } }),
        ),
      );
      expect(results.filter((r) => r.kind === "admitted")).toHaveLength(1);
      expect(results.filter((r) => r.kind === "replay")).toHaveLength(5);
    });

    it("capacity when this broker's other connections fill the mesh; nothing remembered or written", async () => {
      const full = input(bob, { capacity: { limit: 3, localOthers: 3, brokersSince: NOW - 30_000 } });
      expect(await store.admitHello(full)).toEqual({ kind: "capacity" });
      expect(await keyIsFree(full.replayKey)).toBe(true);
      expect(await store.getPresence(bob.id)).toBeNull();
      admitted(
        await store.admitHello(input(bob, { capacity: { limit: 3, localOthers: 2, brokersSince: 0 } })),
      );
    });

    it("replay is answered before capacity", async () => {
      const hello = input(bob);
      admitted(await store.admitHello(hello));
      const full = { ...hello, capacity: { limit: 1, localOthers: 1, brokersSince: NOW - 30_000 } };
      expect(await store.admitHello(full)).toEqual({ kind: "replay" });
    });

    it("capacity counts other live brokers' online rows of other identities, not a gone broker's or its own", async () => {
      const carol = await addMember(store, f.mesh.id, "admit-carol");
      const dave = await addMember(store, f.mesh.id, "admit-dave");
      await store.beatBroker("broker-two", NOW);
      await store.beatBroker("broker-gone", NOW - 60_000);
      await store.upsertPresence(presence(carol.id, { brokerId: "broker-two", online: true }));
      await store.upsertPresence(presence(f.owner.id, { brokerId: "broker-gone", online: true }));
      // bob's own row on broker two: a connection replacing it does not count.
      await store.upsertPresence(presence(bob.id, { brokerId: "broker-two", online: true }));
      await store.upsertPresence(presence(dave.id, { brokerId: "broker-two", online: false }));
      const cap = (localOthers: number) => ({ limit: 3, localOthers, brokersSince: NOW - 30_000 });
      // carol on broker two is the only remote connection counted: 2 + 1 reaches the cap of 3.
      expect(await store.admitHello(input(bob, { capacity: cap(2) }))).toEqual({ kind: "capacity" });
      const result = admitted(await store.admitHello(input(bob, { capacity: cap(1) })));
      expect(result.replaced).toMatchObject({ brokerId: "broker-two" });
    });

    it("takes a fresh pending hook status (and drops a stale one)", async () => {
      const hook = {
        meshId: f.mesh.id,
        pubkey: bob.pubkey,
        status: "working" as const,
        cwd: "/p",
        pid: 7,
        sessionId: "s",
        receivedAt: NOW - 1_000,
      };
      await store.stashPendingHook(hook);
      expect(admitted(await store.admitHello(input(bob))).pendingHook).toEqual(hook);
      expect(await store.takePendingHook(f.mesh.id, bob.pubkey, 0)).toBeNull();
      await store.stashPendingHook({ ...hook, receivedAt: NOW - 20_000 });
      expect(admitted(await store.admitHello(input(bob))).pendingHook).toBeNull();
      expect(await store.takePendingHook(f.mesh.id, bob.pubkey, 0)).toBeNull();
    });

    it("a refused hello leaves the pending hook status stashed", async () => {
      const hook = {
        meshId: f.mesh.id,
        pubkey: bob.pubkey,
        status: "dnd" as const,
        cwd: "/p",
        pid: 7,
        sessionId: null,
        receivedAt: NOW,
      };
      await store.stashPendingHook(hook);
      const full = input(bob, { capacity: { limit: 1, localOthers: 1, brokersSince: 0 } });
      expect((await store.admitHello(full)).kind).toBe("capacity");
      expect(await store.takePendingHook(f.mesh.id, bob.pubkey, 0)).toEqual(hook);
    });

    it("keeps a live stored row's status and summary (held or online), not a left one's; restore off writes as given", async () => {
      const stored = {
        status: "dnd" as const,
        statusSource: "manual" as const,
        statusAt: NOW - 5_000,
        summary: "deep work",
      };
      const rows = {
        held: presence(bob.id, { ...stored, online: false, disconnectedAt: NOW - GRACE + 1 }),
        online: presence(bob.id, { ...stored, online: true, lastSeenAt: NOW - STALE_ONLINE + 1 }),
        left: presence(bob.id, { ...stored, online: false, disconnectedAt: NOW - GRACE - 1 }),
        staleOnline: presence(bob.id, {
          ...stored,
          online: true,
          lastSeenAt: NOW - STALE_ONLINE - 1,
          disconnectedAt: null,
        }),
      };
      for (const [name, row] of Object.entries(rows)) {
        await store.upsertPresence(row);
        const hello = input(bob);
        const written = admitted(await store.admitHello(hello)).presence;
        const kept = name === "held" || name === "online";
        expect({ name, status: written.status, summary: written.summary }).toEqual({
          name,
          status: kept ? "dnd" : "idle",
          summary: kept ? "deep work" : null,
        });
        expect(written).toMatchObject({
          presenceId: hello.presence.presenceId,
          brokerId: SELF,
          online: true,
          disconnectedAt: null,
        });
        expect(await store.getPresence(bob.id)).toEqual(written);
      }
      await store.upsertPresence(rows.held);
      const asGiven = input(bob, { restore: null });
      expect(admitted(await store.admitHello(asGiven)).presence).toEqual(asGiven.presence);
    });

    it("admissions in flight when the store closes reject StoreUnavailableError; none after close succeeds", async () => {
      const inFlight = [store.admitHello(input(bob)), store.admitHello(input(f.owner))];
      await store.close();
      for (const result of await Promise.allSettled(inFlight)) {
        // An admission already sent may have completed; one that did not is unavailable.
        if (result.status === "rejected") expect(result.reason).toBeInstanceOf(StoreUnavailableError);
      }
      await expect(store.admitHello(input(bob))).rejects.toBeInstanceOf(StoreUnavailableError);
    });

    it("names the online connection it took over (this broker's or another's), none for an offline row", async () => {
      await store.upsertPresence(presence(bob.id, { brokerId: "broker-two", presenceId: "broker-two-p1" }));
      expect(admitted(await store.admitHello(input(bob))).replaced).toEqual({
        brokerId: "broker-two",
        presenceId: "broker-two-p1",
      });
      const mine = admitted(await store.admitHello(input(bob)));
      expect(mine.replaced?.brokerId).toBe(SELF);
      await store.markBrokerPresencesOffline(SELF, NOW);
      expect(admitted(await store.admitHello(input(bob))).replaced).toBeNull();
    });

    it("reports what waits for the member; waitingMail reads the same for many members after the commit", async () => {
      const carol = await addMember(store, f.mesh.id, "admit-carol");
      const nothing = { deliveries: false, receipts: false };
      expect(admitted(await store.admitHello(input(bob))).waiting).toEqual(nothing);
      // A message to bob waits for him; carol's ack of bob's message leaves a receipt bob has not been pushed.
      const toBob = message(f.mesh.id, f.owner.id, [bob.id]);
      const fromBob = message(f.mesh.id, bob.id, [carol.id]);
      await store.enqueueMessages([toBob, fromBob]);
      await store.recordReceipts({
        recipientMemberId: carol.id,
        delivered: [fromBob.messageId],
        shown: [],
        now: NOW,
      });
      const both = { deliveries: true, receipts: true };
      expect(admitted(await store.admitHello(input(bob))).waiting).toEqual(both);
      // More ids than one read takes: the store asks in batches and answers every id.
      const strangers = Array.from({ length: 700 }, (_, i) => `stranger-${i}`);
      const found = await store.waitingMail([...strangers, bob.id, carol.id]);
      expect(found.size).toBe(strangers.length + 2);
      expect(found.get(bob.id)).toEqual(both);
      expect(found.get(carol.id)).toEqual(nothing);
      expect(found.get("stranger-0")).toEqual(nothing);
      expect((await store.waitingMail([])).size).toBe(0);
      // A leased, unacked push still waits; a delivered one and a pushed receipt do not.
      const [leased] = await store.claimDeliveries({
        recipientMemberId: bob.id,
        priorities: ["now", "next", "low"],
        leaseOwner: "conn-1",
        now: NOW,
        leaseMs: 30_000,
        limit: 10,
      });
      expect(leased?.messageId).toBe(toBob.messageId);
      expect((await store.waitingMail([bob.id])).get(bob.id)?.deliveries).toBe(true);
      await store.markDelivered(bob.id, [toBob.messageId], NOW);
      expect((await store.takeReceipts(bob.id, 10)).length).toBe(1);
      expect((await store.waitingMail([bob.id])).get(bob.id)).toEqual(nothing);
    });
  });
}
