// The Store contract: one suite every adapter must pass (registered by sqlite.test.ts and postgres.test.ts).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MAX_NAME_CHARS } from "@claudemesh/protocol";
import { StoreUnavailableError, type MemberRow, type Store } from "../../src/store/index.js";
import { MAX_DISPLAY_NAME_CHARS, PRESENCE_UPSERT_ROWS, SWEEP_CHUNK_ROWS } from "../../src/store/sql/rules.js";
import { registerGroupContract } from "./group-contract.js";
import { registerAdmitContract } from "./admit-contract.js";
import { registerHookRelayContract } from "./hook-relay-contract.js";
import {
  addMember,
  id,
  makeMesh,
  message,
  presence,
  pubkey,
  revokeRowByHand,
  T0,
  type MeshFixture,
} from "./fixtures.js";

export interface StoreHarness {
  /** A fresh, migrated store that no other test touches. */
  store: Store;
  dispose(): Promise<void>;
}

const LEASE = 30_000;

export function registerStoreContract(label: string, open: () => Promise<StoreHarness>): void {
  describe(`store contract (${label})`, () => {
    let harness: StoreHarness;
    let store: Store;
    let f: MeshFixture;

    beforeEach(async () => {
      harness = await open();
      store = harness.store;
      f = await makeMesh(store);
    });

    afterEach(async () => {
      await harness.dispose();
    });

    function claim(recipientMemberId: string, over: Partial<Parameters<Store["claimDeliveries"]>[0]> = {}) {
      return store.claimDeliveries({
        recipientMemberId,
        priorities: ["now", "next", "low"],
        leaseOwner: "owner-1",
        now: T0,
        leaseMs: LEASE,
        limit: 100,
        ...over,
      });
    }

    describe("lifecycle", () => {
      it("migrate() again is a no-op that keeps data", async () => {
        await store.migrate();
        await store.migrate();
        expect(await store.getMesh(f.mesh.id)).toEqual(f.mesh);
      });

      it("ping() is true while open; after close it is false and methods reject StoreUnavailableError", async () => {
        expect(await store.ping()).toBe(true);
        await store.close();
        expect(await store.ping()).toBe(false);
        await expect(store.getMesh(f.mesh.id)).rejects.toBeInstanceOf(StoreUnavailableError);
        await expect(
          store.enqueueMessages([message(f.mesh.id, f.owner.id, [f.owner.id])]),
        ).rejects.toBeInstanceOf(StoreUnavailableError);
        await store.close(); // idempotent
      });
    });

    describe("meshes and members", () => {
      it("createMesh stores the mesh and its admin owner atomically", async () => {
        expect(f.mesh).toMatchObject({ name: "Test mesh", ownerMemberId: f.owner.id, createdAt: T0 });
        expect(f.owner).toMatchObject({
          meshId: f.mesh.id,
          displayName: "alice",
          role: "admin",
          parentMemberId: null,
          createdAt: T0,
          revokedAt: null,
        });
        expect(await store.getMesh(f.mesh.id)).toEqual(f.mesh);
        expect(await store.getMember(f.mesh.id, f.owner.pubkey)).toEqual(f.owner);
        expect(await store.getMemberById(f.owner.id)).toEqual(f.owner);
        expect(await store.listMembers(f.mesh.id)).toEqual([f.owner]);
      });

      it("createMesh returns null for a taken slug and stores nothing", async () => {
        const ownerPubkey = pubkey();
        const meshId = id("mesh");
        const again = await store.createMesh({
          meshId,
          slug: f.mesh.slug,
          name: "dup",
          ownerMemberId: id("mem"),
          ownerPubkey,
          ownerName: "eve",
          now: T0,
        });
        expect(again).toBeNull();
        expect(await store.getMesh(meshId)).toBeNull();
        expect(await store.getMember(meshId, ownerPubkey)).toBeNull();
      });

      it("unknown ids read as null / empty", async () => {
        expect(await store.getMesh("nope")).toBeNull();
        expect(await store.getMember(f.mesh.id, pubkey())).toBeNull();
        expect(await store.getMemberById("nope")).toBeNull();
        expect(await store.listMembers("nope")).toEqual([]);
      });

      it("timestamps come back as JS numbers (BIGINT on PostgreSQL)", async () => {
        const now = Date.now();
        const m = await addMember(store, f.mesh.id, "bob", now);
        const read = await store.getMemberById(m.id);
        expect(typeof read?.createdAt).toBe("number");
        expect(read?.createdAt).toBe(now);
      });
    });

    describe("redeemInvite", () => {
      const redeem = (inviteId: string, maxUses: number, pk: string, name = "bob") =>
        store.redeemInvite({
          meshId: f.mesh.id,
          inviteId,
          maxUses,
          memberId: id("mem"),
          pubkey: pk,
          displayName: name,
          role: "member",
          now: T0 + 1,
        });

      it("joins a new pubkey with the invite's role", async () => {
        const pk = pubkey();
        const r = await store.redeemInvite({
          meshId: f.mesh.id,
          inviteId: id("inv"),
          maxUses: 1,
          memberId: "mem-fixed",
          pubkey: pk,
          displayName: "carol",
          role: "admin",
          now: T0 + 1,
        });
        expect(r).toEqual({
          kind: "joined",
          member: {
            id: "mem-fixed",
            meshId: f.mesh.id,
            pubkey: pk,
            displayName: "carol",
            role: "admin",
            parentMemberId: null,
            createdAt: T0 + 1,
            revokedAt: null,
          },
        });
      });

      it("is idempotent for an active member and consumes no use", async () => {
        const invite = id("inv");
        const a = pubkey();
        const first = await redeem(invite, 2, a);
        expect(first.kind).toBe("joined");
        const again = await redeem(invite, 2, a, "other-name");
        expect(again).toEqual({ kind: "existing", member: first.kind === "joined" ? first.member : null });
        // The second use is still available, the third is not.
        expect((await redeem(invite, 2, pubkey())).kind).toBe("joined");
        expect((await redeem(invite, 2, pubkey())).kind).toBe("exhausted");
      });

      it("refuses a revoked pubkey without consuming a use", async () => {
        const invite = id("inv");
        const a = pubkey();
        const joined = await redeem(invite, 2, a);
        if (joined.kind !== "joined") throw new Error("setup");
        await store.revokeMember(joined.member.id, T0 + 2);
        expect(await redeem(invite, 2, a)).toEqual({ kind: "revoked" });
        expect((await redeem(invite, 2, pubkey())).kind).toBe("joined");
      });

      it("returns exhausted once max_uses are used, and for max_uses 0", async () => {
        const invite = id("inv");
        expect((await redeem(invite, 1, pubkey())).kind).toBe("joined");
        const late = pubkey();
        expect(await redeem(invite, 1, late)).toEqual({ kind: "exhausted" });
        expect(await store.getMember(f.mesh.id, late)).toBeNull();
        expect(await redeem(id("inv"), 0, pubkey())).toEqual({ kind: "exhausted" });
      });

      it("uses are counted per invite id", async () => {
        expect((await redeem(id("inv"), 1, pubkey())).kind).toBe("joined");
        expect((await redeem(id("inv"), 1, pubkey())).kind).toBe("joined");
      });

      it("20 concurrent redeems of a 1-use invite admit exactly one", async () => {
        const invite = id("inv");
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => redeem(invite, 1, pubkey(), `p${i}`)),
        );
        expect(results.filter((r) => r.kind === "joined")).toHaveLength(1);
        expect(results.filter((r) => r.kind === "exhausted")).toHaveLength(19);
        expect(await store.listMembers(f.mesh.id)).toHaveLength(2);
      });

      it("concurrent redeems of one pubkey admit it once and consume one use", async () => {
        const invite = id("inv");
        const a = pubkey();
        const results = await Promise.all(Array.from({ length: 6 }, () => redeem(invite, 2, a)));
        expect(results.filter((r) => r.kind === "joined")).toHaveLength(1);
        expect(results.filter((r) => r.kind === "existing")).toHaveLength(5);
        expect((await redeem(invite, 2, pubkey())).kind).toBe("joined");
        expect((await redeem(invite, 2, pubkey())).kind).toBe("exhausted");
      });

      it("concurrent joins under one display name all get distinct suffixed names", async () => {
        const invite = id("inv");
        const results = await Promise.all(
          Array.from({ length: 8 }, () => redeem(invite, 8, pubkey(), "dev")),
        );
        const names = results.map((r) => (r.kind === "joined" ? r.member.displayName : r.kind)).sort();
        expect(names).toEqual(["dev", "dev-2", "dev-3", "dev-4", "dev-5", "dev-6", "dev-7", "dev-8"]);
      });
    });

    describe("display names", () => {
      it("suffixes a taken name with -2, -3, … across members and agents", async () => {
        expect((await addMember(store, f.mesh.id, "alice")).displayName).toBe("alice-2");
        expect((await addMember(store, f.mesh.id, "alice")).displayName).toBe("alice-3");
        const agent = await store.enrollAgent({
          meshId: f.mesh.id,
          parentMemberId: f.owner.id,
          memberId: id("mem"),
          agentPubkey: pubkey(),
          agentName: "alice",
          now: T0,
        });
        expect(agent.displayName).toBe("alice-4");
      });

      it("skips suffixes that are already real names", async () => {
        await addMember(store, f.mesh.id, "bob");
        await addMember(store, f.mesh.id, "bob-2");
        expect((await addMember(store, f.mesh.id, "bob")).displayName).toBe("bob-3");
      });

      it("names are unique per mesh, not globally", async () => {
        const other = await makeMesh(store, "alice");
        expect(other.owner.displayName).toBe("alice");
      });

      it("keeps a suffixed name within the name length limit", async () => {
        expect(MAX_DISPLAY_NAME_CHARS).toBe(MAX_NAME_CHARS);
        const long = "x".repeat(MAX_NAME_CHARS);
        expect((await addMember(store, f.mesh.id, long)).displayName).toBe(long);
        const second = await addMember(store, f.mesh.id, long);
        expect(second.displayName).toBe(`${"x".repeat(MAX_NAME_CHARS - 2)}-2`);
      });
    });

    describe("agents and revocation", () => {
      const enroll = (
        parentMemberId: string,
        agentPubkey: string,
        agentName = "backend",
        memberId = id("mem"),
      ) =>
        store.enrollAgent({
          meshId: f.mesh.id,
          parentMemberId,
          memberId,
          agentPubkey,
          agentName,
          now: T0 + 3,
        });

      it("enrolls an agent as a member row with its parent", async () => {
        const apk = pubkey();
        const agent = await enroll(f.owner.id, apk, "backend", "agent-1");
        expect(agent).toEqual({
          id: "agent-1",
          meshId: f.mesh.id,
          pubkey: apk,
          displayName: "backend",
          role: "member",
          parentMemberId: f.owner.id,
          createdAt: T0 + 3,
          revokedAt: null,
        });
        expect(await store.getMember(f.mesh.id, apk)).toEqual(agent);
      });

      it("is idempotent per (mesh, agent pubkey): returns the stored row unchanged", async () => {
        const apk = pubkey();
        const first = await enroll(f.owner.id, apk, "backend");
        const again = await enroll(f.owner.id, apk, "renamed", id("mem"));
        expect(again).toEqual(first);
        expect(await store.listMembers(f.mesh.id)).toHaveLength(2);
      });

      it("rejects a parent outside the mesh or a parent that is itself an agent", async () => {
        const other = await makeMesh(store, "zed");
        await expect(enroll(other.owner.id, pubkey())).rejects.toThrow(/not in mesh/);
        await expect(enroll("missing-member", pubkey())).rejects.toThrow(/not in mesh/);
        const agent = await enroll(f.owner.id, pubkey());
        await expect(enroll(agent.id, pubkey())).rejects.toThrow(/itself an agent/);
      });

      it("revokeMember revokes the member and its agents only", async () => {
        const bob = await addMember(store, f.mesh.id, "bob");
        const bobAgent = await enroll(bob.id, pubkey(), "bob-agent");
        const ownerAgent = await enroll(f.owner.id, pubkey(), "owner-agent");
        await store.revokeMember(bob.id, T0 + 10);
        expect((await store.getMemberById(bob.id))?.revokedAt).toBe(T0 + 10);
        expect((await store.getMemberById(bobAgent.id))?.revokedAt).toBe(T0 + 10);
        expect((await store.getMemberById(ownerAgent.id))?.revokedAt).toBeNull();
        expect((await store.getMemberById(f.owner.id))?.revokedAt).toBeNull();
        // A later revocation keeps the first timestamp.
        await store.revokeMember(bob.id, T0 + 99);
        expect((await store.getMemberById(bob.id))?.revokedAt).toBe(T0 + 10);
        // Revoked rows are still listed (callers filter).
        expect(await store.listMembers(f.mesh.id)).toHaveLength(4);
      });

      it("an agent enrolled under a revoked member is stored revoked", async () => {
        const bob = await addMember(store, f.mesh.id, "bob");
        await store.revokeMember(bob.id, T0 + 10);
        expect((await enroll(bob.id, pubkey())).revokedAt).toBe(T0 + 10);
      });
    });

    describe("message queue", () => {
      let bob: string;
      let carol: string;
      beforeEach(async () => {
        bob = (await addMember(store, f.mesh.id, "bob")).id;
        carol = (await addMember(store, f.mesh.id, "carol")).id;
      });

      it("stores ciphertext and hands deliveries out in storage order with sender details", async () => {
        const m1 = message(f.mesh.id, f.owner.id, [bob], {
          priority: "now",
          createdAt: T0 + 5,
          targetSpec: "pk",
        });
        const m2 = message(f.mesh.id, carol, [bob]);
        const m3 = message(f.mesh.id, f.owner.id, [bob]);
        await store.enqueueMessages([m1, m2]);
        await store.enqueueMessages([m3]);
        expect(await store.countPending(bob)).toBe(3);
        const rows = await claim(bob);
        expect(rows.map((r) => r.messageId)).toEqual([m1.messageId, m2.messageId, m3.messageId]);
        expect(rows[0]?.seq).toBeLessThan(rows[1]?.seq ?? 0);
        expect(rows[1]?.seq).toBeLessThan(rows[2]?.seq ?? 0);
        const d1 = m1.deliveries[0];
        expect(rows[0]).toEqual({
          seq: rows[0]?.seq,
          messageId: m1.messageId,
          meshId: f.mesh.id,
          senderMemberId: f.owner.id,
          senderPubkey: f.owner.pubkey,
          senderName: "alice",
          recipientMemberId: bob,
          targetSpec: "pk",
          priority: "now",
          nonce: d1?.nonce,
          ciphertext: d1?.ciphertext,
          body: null,
          createdAt: T0 + 5,
        });
        expect(rows[1]?.senderName).toBe("carol");
        // Claimed (leased) rows are still pending until acknowledged.
        expect(await store.countPending(bob)).toBe(3);
      });

      it("a broadcast stores one delivery per recipient under one message id", async () => {
        const m = message(f.mesh.id, f.owner.id, [bob, carol], { targetSpec: "*" });
        await store.enqueueMessages([m]);
        const [forBob] = await claim(bob);
        const [forCarol] = await claim(carol);
        expect(forBob?.messageId).toBe(m.messageId);
        expect(forCarol?.messageId).toBe(m.messageId);
        expect(forBob?.ciphertext).toBe(m.deliveries[0]?.ciphertext);
        expect(forCarol?.ciphertext).toBe(m.deliveries[1]?.ciphertext);
      });

      it("re-enqueueing the same (recipient, message id) stores it once", async () => {
        const m = message(f.mesh.id, f.owner.id, [bob]);
        await store.enqueueMessages([m]);
        await store.enqueueMessages([m]);
        expect(await store.countPending(bob)).toBe(1);
      });

      it("an empty batch is a no-op", async () => {
        await store.enqueueMessages([]);
        await store.enqueueMessages([message(f.mesh.id, f.owner.id, [])]);
        expect(await store.countPending(bob)).toBe(0);
      });

      it("claims only allowed priorities; nothing for an empty list or zero limit", async () => {
        const low = message(f.mesh.id, f.owner.id, [bob], { priority: "low" });
        const now = message(f.mesh.id, f.owner.id, [bob], { priority: "now" });
        const next = message(f.mesh.id, f.owner.id, [bob], { priority: "next" });
        await store.enqueueMessages([low, now, next]);
        expect(await claim(bob, { priorities: [] })).toEqual([]);
        expect(await claim(bob, { limit: 0 })).toEqual([]);
        expect(await claim(bob, { priorities: ["now", "now"], now: T0 - 1 })).toHaveLength(1);
        await store.releaseLeases("owner-1");
        expect((await claim(bob, { priorities: ["now"] })).map((r) => r.messageId)).toEqual([now.messageId]);
        expect((await claim(bob, { priorities: ["now", "next"] })).map((r) => r.messageId)).toEqual([
          next.messageId,
        ]);
        expect((await claim(bob)).map((r) => r.messageId)).toEqual([low.messageId]);
      });

      it("claims only the recipient's rows and honours the limit", async () => {
        const batch = Array.from({ length: 5 }, () => message(f.mesh.id, f.owner.id, [bob]));
        await store.enqueueMessages([...batch, message(f.mesh.id, f.owner.id, [carol])]);
        const firstTwo = await claim(bob, { limit: 2 });
        expect(firstTwo.map((r) => r.messageId)).toEqual(batch.slice(0, 2).map((m) => m.messageId));
        const rest = await claim(bob, { limit: 10 });
        expect(rest.map((r) => r.messageId)).toEqual(batch.slice(2).map((m) => m.messageId));
        expect(rest.every((r) => r.recipientMemberId === bob)).toBe(true);
      });

      it("a live lease blocks re-claiming; an expired one makes the row claimable again", async () => {
        const m = message(f.mesh.id, f.owner.id, [bob]);
        await store.enqueueMessages([m]);
        expect(await claim(bob, { now: T0 })).toHaveLength(1);
        expect(await claim(bob, { now: T0 + LEASE - 1, leaseOwner: "owner-2" })).toEqual([]);
        const again = await claim(bob, { now: T0 + LEASE, leaseOwner: "owner-2" });
        expect(again.map((r) => r.messageId)).toEqual([m.messageId]);
        // The new lease belongs to owner-2: releasing owner-1 does not free it.
        expect(await store.releaseLeases("owner-1")).toBe(0);
        expect(await claim(bob, { now: T0 + LEASE + 1 })).toEqual([]);
      });

      it("releaseLeases frees only that owner's undelivered rows", async () => {
        const a = message(f.mesh.id, f.owner.id, [bob]);
        const b = message(f.mesh.id, f.owner.id, [carol]);
        const c = message(f.mesh.id, f.owner.id, [bob]);
        await store.enqueueMessages([a, b]);
        await claim(bob, { leaseOwner: "conn-bob" });
        await claim(carol, { leaseOwner: "conn-carol" });
        await store.enqueueMessages([c]);
        await claim(bob, { leaseOwner: "conn-bob" });
        await store.markDelivered(bob, [c.messageId], T0 + 1);
        expect(await store.releaseLeases("conn-bob")).toBe(1);
        expect((await claim(bob, { now: T0 + 1 })).map((r) => r.messageId)).toEqual([a.messageId]);
        expect(await claim(carol, { now: T0 + 1 })).toEqual([]);
        expect(await store.releaseLeases("nobody")).toBe(0);
      });

      it("earliestForeignLease reports the first live lease held by another owner, for that recipient only", async () => {
        const a = message(f.mesh.id, f.owner.id, [bob]);
        const b = message(f.mesh.id, f.owner.id, [bob]);
        const c = message(f.mesh.id, f.owner.id, [carol]);
        await store.enqueueMessages([a, b, c]);
        await claim(bob, { leaseOwner: "dead-conn", limit: 1, leaseMs: 5_000 });
        await claim(bob, { leaseOwner: "me", limit: 1, leaseMs: 1_000 });
        await claim(carol, { leaseOwner: "conn-carol", leaseMs: 500 });
        expect(await store.earliestForeignLease(bob, "me", T0)).toBe(T0 + 5_000);
        expect(await store.earliestForeignLease(bob, "dead-conn", T0)).toBe(T0 + 1_000);
        // Expired leases are claimable already, delivered rows are done: neither is reported.
        expect(await store.earliestForeignLease(bob, "me", T0 + 5_000)).toBeNull();
        await store.markDelivered(bob, [a.messageId], T0 + 1);
        expect(await store.earliestForeignLease(bob, "me", T0)).toBeNull();
        expect(await store.earliestForeignLease("nobody", "me", T0)).toBeNull();
      });

      it("markDelivered changes only the given recipient's rows, once", async () => {
        const m = message(f.mesh.id, f.owner.id, [bob, carol], { targetSpec: "*" });
        const other = message(f.mesh.id, f.owner.id, [bob]);
        await store.enqueueMessages([m, other]);
        expect(await store.markDelivered(bob, [m.messageId, "unknown-id"], T0 + 1)).toBe(1);
        expect(await store.markDelivered(bob, [m.messageId], T0 + 2)).toBe(0);
        expect(await store.markDelivered(bob, [], T0 + 2)).toBe(0);
        expect(await store.countPending(bob)).toBe(1);
        expect(await store.countPending(carol)).toBe(1);
        expect((await claim(bob)).map((r) => r.messageId)).toEqual([other.messageId]);
        expect((await claim(carol)).map((r) => r.messageId)).toEqual([m.messageId]);
      });

      it("delivered rows are never claimed again, even after their lease would expire", async () => {
        const m = message(f.mesh.id, f.owner.id, [bob]);
        await store.enqueueMessages([m]);
        await claim(bob);
        await store.markDelivered(bob, [m.messageId], T0 + 1);
        expect(await claim(bob, { now: T0 + 10 * LEASE })).toEqual([]);
        expect(await store.countPending(bob)).toBe(0);
      });

      it("sweepMessages deletes delivered rows and undelivered ones older than the cutoff", async () => {
        const old = message(f.mesh.id, f.owner.id, [bob], { createdAt: T0 - 1000 });
        const edge = message(f.mesh.id, f.owner.id, [bob], { createdAt: T0 });
        const fresh = message(f.mesh.id, f.owner.id, [bob], { createdAt: T0 + 1000 });
        const done = message(f.mesh.id, f.owner.id, [carol], { createdAt: T0 + 1000 });
        await store.enqueueMessages([old, edge, fresh, done]);
        await store.markDelivered(carol, [done.messageId], T0 + 1001);
        expect(await store.sweepMessages(T0)).toBe(2);
        expect((await claim(bob)).map((r) => r.messageId)).toEqual([edge.messageId, fresh.messageId]);
        expect(await store.sweepMessages(T0)).toBe(0);
        // A swept delivered message id may be stored again (it no longer exists).
        await store.enqueueMessages([done]);
        expect(await store.countPending(carol)).toBe(1);
      });

      it("a sweep larger than one delete step removes every eligible row", async () => {
        const total = SWEEP_CHUNK_ROWS * 2 + 10;
        const batch = Array.from({ length: total }, (_, i) =>
          message(f.mesh.id, f.owner.id, [bob], { createdAt: i % 2 === 0 ? T0 - 1 : T0 + 1 }),
        );
        await store.enqueueMessages(batch);
        const keep = batch.filter((_, i) => i % 2 === 1);
        await store.markDelivered(
          bob,
          keep.slice(0, 5).map((m) => m.messageId),
          T0 + 2,
        );
        expect(await store.sweepMessages(T0)).toBe(SWEEP_CHUNK_ROWS + 5 + 5);
        expect(await store.countPending(bob)).toBe(keep.length - 5);
      });

      it("4 concurrent claimers over 1,000 deliveries: every row handed out exactly once", async () => {
        const batch = Array.from({ length: 1000 }, () => message(f.mesh.id, f.owner.id, [bob]));
        await store.enqueueMessages(batch);
        const seen: string[] = [];
        await Promise.all(
          Array.from({ length: 4 }, async (_, worker) => {
            for (let round = 0; round < 200; round++) {
              const rows = await claim(bob, { limit: 25, leaseOwner: `w${worker}` });
              if (rows.length === 0) return;
              seen.push(...rows.map((r) => r.messageId));
            }
          }),
        );
        expect(seen).toHaveLength(1000);
        expect(new Set(seen).size).toBe(1000);
      });

      it("wakes listeners with the batch's recipients after it is stored", async () => {
        const calls: string[][] = [];
        const unsubscribe = store.onDeliveries((ids) => calls.push([...ids]));
        const failing = store.onDeliveries(() => {
          throw new Error("listener bug");
        });
        await store.enqueueMessages([
          message(f.mesh.id, f.owner.id, [bob, carol]),
          message(f.mesh.id, f.owner.id, [bob]),
        ]);
        expect(calls).toEqual([[bob, carol]]);
        unsubscribe();
        failing();
        await store.enqueueMessages([message(f.mesh.id, f.owner.id, [bob])]);
        expect(calls).toHaveLength(1);
      });
    });

    describe("receipts", () => {
      let bob: MemberRow;
      let carol: MemberRow;
      beforeEach(async () => {
        bob = await addMember(store, f.mesh.id, "bob");
        carol = await addMember(store, f.mesh.id, "carol");
      });
      const record = (recipient: string, over: Partial<Parameters<Store["recordReceipts"]>[0]> = {}) =>
        store.recordReceipts({
          recipientMemberId: recipient,
          delivered: [],
          shown: [],
          now: T0 + 1,
          ...over,
        });
      async function statusOf(sender: string, messageId: string) {
        const { statuses } = await store.messageStatus(sender, [messageId], 100);
        return statuses.get(messageId);
      }

      it("a stored copy is queued, an ack makes it delivered, shown moves it on, and never back", async () => {
        const m = message(f.mesh.id, f.owner.id, [bob.id], { createdAt: T0 - 5 });
        await store.enqueueMessages([m]);
        expect(await statusOf(f.owner.id, m.messageId)).toEqual([
          { recipientPubkey: bob.pubkey, state: "queued", at: T0 - 5 },
        ]);
        expect(await record(bob.id, { delivered: [m.messageId], now: T0 + 1 })).toEqual([
          {
            messageId: m.messageId,
            meshId: f.mesh.id,
            senderMemberId: f.owner.id,
            recipientMemberId: bob.id,
            recipientPubkey: bob.pubkey,
            state: "delivered",
            at: T0 + 1,
            from: "queued",
          },
        ]);
        expect(await statusOf(f.owner.id, m.messageId)).toEqual([
          { recipientPubkey: bob.pubkey, state: "delivered", at: T0 + 1 },
        ]);
        const shown = await record(bob.id, { shown: [m.messageId], now: T0 + 2 });
        expect(shown.map((c) => [c.state, c.from, c.at])).toEqual([["shown", "delivered", T0 + 2]]);
        // Repeats and a late ack change nothing: states only move forward.
        expect(await record(bob.id, { delivered: [m.messageId], now: T0 + 3 })).toEqual([]);
        expect(await record(bob.id, { shown: [m.messageId], now: T0 + 3 })).toEqual([]);
        expect(await statusOf(f.owner.id, m.messageId)).toEqual([
          { recipientPubkey: bob.pubkey, state: "shown", at: T0 + 2 },
        ]);
      });

      it("plain acks with the recipient's pubkey given (one statement on PostgreSQL) record the same", async () => {
        const toBob = message(f.mesh.id, f.owner.id, [bob.id]);
        const fromCarol = message(f.mesh.id, carol.id, [bob.id]);
        await store.enqueueMessages([toBob, fromCarol]);
        const changes = await record(bob.id, {
          delivered: [toBob.messageId, fromCarol.messageId, "unknown-id"],
          recipientPubkey: bob.pubkey,
          pushTo: new Set([f.owner.id]),
        });
        expect(
          changes.map((c) => [c.messageId, c.senderMemberId, c.recipientPubkey, c.state]).sort(),
        ).toEqual(
          [
            [toBob.messageId, f.owner.id, bob.pubkey, "delivered"],
            [fromCarol.messageId, carol.id, bob.pubkey, "delivered"],
          ].sort(),
        );
        expect(await store.takeReceipts(f.owner.id, 10)).toEqual([]);
        expect((await store.takeReceipts(carol.id, 10)).map((r) => r.messageId)).toEqual([
          fromCarol.messageId,
        ]);
        expect(await record(bob.id, { delivered: [toBob.messageId], recipientPubkey: bob.pubkey })).toEqual(
          [],
        );
        expect(await store.countPending(bob.id)).toBe(0);
      });

      it("a shown report without an ack delivers the copy too (no redelivery)", async () => {
        const m = message(f.mesh.id, f.owner.id, [bob.id]);
        await store.enqueueMessages([m]);
        await claim(bob.id);
        const changes = await record(bob.id, { shown: [m.messageId] });
        expect(changes.map((c) => [c.state, c.from])).toEqual([["shown", "queued"]]);
        expect(await store.countPending(bob.id)).toBe(0);
        expect(await claim(bob.id, { now: T0 + 10 * LEASE })).toEqual([]);
        expect(await store.markDelivered(bob.id, [m.messageId], T0 + 5)).toBe(0);
      });

      it("only the recipient of a copy changes it: others' receipts and acks are ignored", async () => {
        const m = message(f.mesh.id, f.owner.id, [bob.id, carol.id], { targetSpec: "*" });
        const toBob = message(f.mesh.id, f.owner.id, [bob.id]);
        await store.enqueueMessages([m, toBob]);
        expect(await record(carol.id, { delivered: [toBob.messageId], shown: [toBob.messageId] })).toEqual(
          [],
        );
        expect(await record(f.owner.id, { shown: [toBob.messageId, m.messageId] })).toEqual([]);
        expect(await statusOf(f.owner.id, toBob.messageId)).toEqual([
          { recipientPubkey: bob.pubkey, state: "queued", at: T0 },
        ]);
        const changes = await record(carol.id, { shown: [m.messageId, "unknown-id"] });
        expect(changes.map((c) => [c.recipientMemberId, c.state])).toEqual([[carol.id, "shown"]]);
        const byPubkey = new Map(
          ((await statusOf(f.owner.id, m.messageId)) ?? []).map((r) => [r.recipientPubkey, r.state]),
        );
        expect(byPubkey).toEqual(
          new Map([
            [bob.pubkey, "queued"],
            [carol.pubkey, "shown"],
          ]),
        );
        expect(await store.countPending(bob.id)).toBe(2);
      });

      it("messageStatus answers only for the asker's own messages, recipients in pubkey order", async () => {
        const m = message(f.mesh.id, f.owner.id, [bob.id, carol.id], { targetSpec: "*" });
        const fromCarol = message(f.mesh.id, carol.id, [bob.id]);
        await store.enqueueMessages([m, fromCarol]);
        await record(bob.id, { delivered: [m.messageId, fromCarol.messageId] });
        const asked = [m.messageId, fromCarol.messageId, "unknown-id"];
        const mine = await store.messageStatus(f.owner.id, asked, 100);
        expect([...mine.statuses.keys()]).toEqual([m.messageId]);
        expect(mine.truncated).toBe(false);
        const recipients = mine.statuses.get(m.messageId) ?? [];
        expect(recipients.map((r) => r.recipientPubkey)).toEqual([bob.pubkey, carol.pubkey].sort());
        // Bob received fromCarol (and acked it) but did not send it: nothing is reported to him.
        expect((await store.messageStatus(bob.id, asked, 100)).statuses.size).toBe(0);
        expect([...(await store.messageStatus(carol.id, asked, 100)).statuses.keys()]).toEqual([
          fromCarol.messageId,
        ]);
        expect((await store.messageStatus(f.owner.id, [], 100)).statuses.size).toBe(0);
        expect((await store.messageStatus(f.owner.id, [m.messageId], 1)).truncated).toBe(true);
      });

      it("receipts outlive swept delivery rows; undelivered copies past retention expire", async () => {
        const acked = message(f.mesh.id, f.owner.id, [bob.id], { createdAt: T0 - 100 });
        const stale = message(f.mesh.id, f.owner.id, [bob.id], { createdAt: T0 - 100 });
        const fresh = message(f.mesh.id, f.owner.id, [bob.id], { createdAt: T0 + 10 });
        await store.enqueueMessages([acked, stale, fresh]);
        await record(bob.id, { delivered: [acked.messageId], now: T0 - 50 });
        expect(await store.sweepMessages(T0, T0 + 20)).toBe(2);
        expect(await statusOf(f.owner.id, acked.messageId)).toEqual([
          { recipientPubkey: bob.pubkey, state: "delivered", at: T0 - 50 },
        ]);
        expect(await statusOf(f.owner.id, stale.messageId)).toEqual([
          { recipientPubkey: bob.pubkey, state: "expired", at: T0 + 20 },
        ]);
        expect(await statusOf(f.owner.id, fresh.messageId)).toEqual([
          { recipientPubkey: bob.pubkey, state: "queued", at: T0 + 10 },
        ]);
        // An expired copy is final: a late shown report changes nothing.
        expect(await record(bob.id, { shown: [stale.messageId] })).toEqual([]);
        // Receipts go once their last change is past retention.
        expect(await store.sweepReceipts(T0)).toBe(1);
        expect(await statusOf(f.owner.id, acked.messageId)).toBeUndefined();
        expect((await statusOf(f.owner.id, stale.messageId))?.[0]?.state).toBe("expired");
        expect(await store.sweepReceipts(T0)).toBe(0);
      });

      it("takeReceipts hands out each unpushed change once, oldest first; changes pushed live never", async () => {
        const a = message(f.mesh.id, f.owner.id, [bob.id]);
        const b = message(f.mesh.id, carol.id, [bob.id]);
        const c = message(f.mesh.id, carol.id, [bob.id]);
        await store.enqueueMessages([a, b, c]);
        await record(bob.id, {
          delivered: [a.messageId, b.messageId],
          now: T0 + 1,
          pushTo: new Set([f.owner.id]),
        });
        await record(bob.id, { shown: [c.messageId], now: T0 + 2 });
        expect(await store.takeReceipts(f.owner.id, 10)).toEqual([]);
        const first = await store.takeReceipts(carol.id, 1);
        expect(first.map((r) => [r.messageId, r.state, r.recipientPubkey, r.at])).toEqual([
          [b.messageId, "delivered", bob.pubkey, T0 + 1],
        ]);
        const rest = await store.takeReceipts(carol.id, 10);
        expect(rest.map((r) => [r.messageId, r.state])).toEqual([[c.messageId, "shown"]]);
        expect(await store.takeReceipts(carol.id, 10)).toEqual([]);
        // A new change to a pulled receipt is unpushed again.
        await record(bob.id, { shown: [b.messageId], now: T0 + 3 });
        expect((await store.takeReceipts(carol.id, 10)).map((r) => r.state)).toEqual(["shown"]);
      });

      it("wakes receipt listeners for senders whose changes were stored unpushed", async () => {
        const calls: string[][] = [];
        const unsubscribe = store.onReceipts((ids) => calls.push([...ids]));
        // PostgreSQL starts LISTEN with the first listener and then runs a catch-up wake-up: let it
        // finish first, or it lands in the middle of the test.
        await (store as Partial<{ whenListening(): Promise<void> }>).whenListening?.();
        calls.length = 0;
        const a = message(f.mesh.id, f.owner.id, [bob.id]);
        const b = message(f.mesh.id, carol.id, [bob.id]);
        await store.enqueueMessages([a, b]);
        await record(bob.id, { delivered: [a.messageId], pushTo: new Set([f.owner.id]) });
        expect(calls).toEqual([]);
        await record(bob.id, { delivered: [b.messageId], pushTo: new Set([f.owner.id]) });
        expect(calls).toEqual([[carol.id]]);
        unsubscribe();
      });

      it("markRevokedReceipts marks undelivered copies to the revoked revoked, leaving the rest", async () => {
        const done = message(f.mesh.id, f.owner.id, [bob.id]);
        const waiting = message(f.mesh.id, f.owner.id, [bob.id]);
        const toCarol = message(f.mesh.id, f.owner.id, [carol.id]);
        await store.enqueueMessages([done, waiting, toCarol]);
        await record(bob.id, { delivered: [done.messageId] });
        const woken: string[][] = [];
        const unsubscribe = store.onReceipts((ids) => woken.push([...ids]));
        expect(await store.markRevokedReceipts([bob.id], T0 + 5)).toBe(1);
        expect(woken).toEqual([[f.owner.id]]);
        expect((await statusOf(f.owner.id, waiting.messageId))?.[0]).toEqual({
          recipientPubkey: bob.pubkey,
          state: "revoked",
          at: T0 + 5,
        });
        expect((await statusOf(f.owner.id, done.messageId))?.[0]?.state).toBe("delivered");
        expect((await statusOf(f.owner.id, toCarol.messageId))?.[0]?.state).toBe("queued");
        expect(await store.markRevokedReceipts([bob.id], T0 + 6)).toBe(0);
        expect(await store.markRevokedReceipts([], T0 + 6)).toBe(0);
        unsubscribe();
      });
    });

    describe("send idempotency", () => {
      let bob: string;
      beforeEach(async () => {
        bob = (await addMember(store, f.mesh.id, "bob")).id;
      });
      const send = (clientId: string | undefined, sender = f.owner.id, createdAt = T0) => ({
        ...message(f.mesh.id, sender, [bob], { createdAt }),
        ...(clientId === undefined ? {} : { clientId }),
      });

      it("a send whose (mesh, sender, send id) is stored is not stored again and names the stored message", async () => {
        const woken: string[][] = [];
        const unsubscribe = store.onDeliveries((ids) => woken.push([...ids]));
        // PostgreSQL: once LISTEN is up, its catch-up wake-up (recipients with queued rows) has run.
        await (store as { whenListening?: () => Promise<void> }).whenListening?.();
        const first = send("c1");
        expect((await store.enqueueMessages([first])).duplicates).toEqual(new Map());
        expect(woken).toEqual([[bob]]);
        woken.length = 0;
        const retry = send("c1");
        expect((await store.enqueueMessages([retry])).duplicates).toEqual(
          new Map([[retry.messageId, first.messageId]]),
        );
        expect(woken).toEqual([]);
        unsubscribe();
        // Same id from another sender, and messages without a send id, are separate messages.
        const fromBob = send("c1", bob);
        const plain = [send(undefined), send(undefined)];
        expect((await store.enqueueMessages([fromBob, ...plain])).duplicates.size).toBe(0);
        expect((await claim(bob)).map((r) => r.messageId)).toEqual([
          first.messageId,
          fromBob.messageId,
          ...plain.map((m) => m.messageId),
        ]);
      });

      it("two sends with one send id in the same batch store the first only", async () => {
        const a = send("same");
        const b = send("same");
        const other = send("other");
        const { duplicates } = await store.enqueueMessages([a, b, other]);
        expect(duplicates).toEqual(new Map([[b.messageId, a.messageId]]));
        expect(await store.countPending(bob)).toBe(2);
      });

      it("a batch too large for one statement keeps the rule (stored once, duplicates named)", async () => {
        const batch = Array.from({ length: 6_000 }, (_, i) => send(`bulk-${i}`));
        await store.enqueueMessages(batch.slice(0, 10));
        const { duplicates } = await store.enqueueMessages(batch);
        expect(duplicates.size).toBe(10);
        expect(duplicates.get(batch[3]!.messageId)).toBe(batch[3]!.messageId);
        expect(await store.countPending(bob)).toBe(6_000);
      });

      it("send ids are swept with retention, after which the id is free again", async () => {
        const old = send("c9", f.owner.id, T0 - 10);
        await store.enqueueMessages([old]);
        await store.sweepMessages(T0, T0);
        const again = send("c9");
        expect((await store.enqueueMessages([again])).duplicates.size).toBe(0);
        expect((await claim(bob)).map((r) => r.messageId)).toEqual([again.messageId]);
      });
    });

    describe("sender check in the enqueue write (SPEC §2)", () => {
      let bob: MemberRow;
      let carol: string;
      beforeEach(async () => {
        bob = await addMember(store, f.mesh.id, "bob");
        carol = (await addMember(store, f.mesh.id, "carol")).id;
      });
      const send = (sender: string, clientId?: string) => ({
        ...message(f.mesh.id, sender, [carol]),
        ...(clientId === undefined ? {} : { clientId }),
      });

      it("refuses a revoked sender's messages and stores the rest of the batch", async () => {
        await store.revokeMember(bob.id, T0 + 1);
        const ok = send(f.owner.id, "o1");
        const refused = [send(bob.id, "b1"), send(bob.id)];
        const woken: string[][] = [];
        const unsubscribe = store.onDeliveries((ids) => woken.push([...ids]));
        const result = await store.enqueueMessages([refused[0]!, ok, refused[1]!]);
        unsubscribe();
        expect(result.revoked).toEqual(new Set(refused.map((m) => m.messageId)));
        expect(result.duplicates.size).toBe(0);
        expect((await claim(carol)).map((r) => r.messageId)).toEqual([ok.messageId]);
        expect(woken.flat()).toEqual([carol]);
      });

      it("refuses an agent whose parent member is revoked, even with its own row untouched", async () => {
        const agent = await store.enrollAgent({
          meshId: f.mesh.id,
          parentMemberId: bob.id,
          memberId: id("mem"),
          agentPubkey: pubkey(),
          agentName: "bob-agent",
          now: T0 + 1,
        });
        expect((await store.enqueueMessages([send(agent.id, "a1")])).revoked.size).toBe(0);
        await revokeRowByHand(store, bob.id, T0 + 2);
        const late = send(agent.id, "a2");
        expect((await store.enqueueMessages([late])).revoked).toEqual(new Set([late.messageId]));
        expect(await store.countPending(carol)).toBe(1);
      });

      it("a refused send stores no send id: the same id is refused again, never named a duplicate", async () => {
        await revokeRowByHand(store, bob.id, T0 + 1);
        const first = send(bob.id, "again");
        const retry = send(bob.id, "again");
        await store.enqueueMessages([first]);
        const result = await store.enqueueMessages([retry]);
        expect([result.revoked, result.duplicates]).toEqual([new Set([retry.messageId]), new Map()]);
      });

      it("a batch too large for one statement keeps the rule", async () => {
        await store.revokeMember(bob.id, T0 + 1);
        const batch = Array.from({ length: 6_000 }, (_, i) =>
          send(i % 2 === 0 ? f.owner.id : bob.id, `m-${i}`),
        );
        const { revoked } = await store.enqueueMessages(batch);
        expect(revoked.size).toBe(3_000);
        expect(revoked.has(batch[1]!.messageId)).toBe(true);
        expect(await store.countPending(carol)).toBe(3_000);
      });
    });

    describe("presence and pending hook status", () => {
      it("upserts, reads and lists presence rows of a mesh", async () => {
        const bob = await addMember(store, f.mesh.id, "bob");
        const other = await makeMesh(store, "zed");
        const p = presence(f.owner.id);
        await store.upsertPresence(p);
        await store.upsertPresence(presence(bob.id, { online: false, summary: null, pid: null, cwd: null }));
        await store.upsertPresence(presence(other.owner.id));
        expect(await store.getPresence(f.owner.id)).toEqual(p);
        expect(await store.getPresence(bob.id)).toMatchObject({
          online: false,
          summary: null,
          pid: null,
          cwd: null,
        });
        expect((await store.listPresence(f.mesh.id)).map((r) => r.memberId).sort()).toEqual(
          [f.owner.id, bob.id].sort(),
        );
        expect(await store.getPresence("nobody")).toBeNull();
      });

      it("an upsert replaces every field of the member's row", async () => {
        await store.upsertPresence(presence(f.owner.id));
        const replaced = presence(f.owner.id, {
          presenceId: null,
          brokerId: null,
          sessionId: null,
          online: false,
          connectedAt: null,
          lastSeenAt: null,
          disconnectedAt: T0 + 50,
          status: "dnd",
          statusSource: "hook",
          statusAt: T0 + 50,
          summary: null,
        });
        await store.upsertPresence(replaced);
        expect(await store.getPresence(f.owner.id)).toEqual(replaced);
        expect(await store.listPresence(f.mesh.id)).toHaveLength(1);
      });

      it("upsertPresences writes many rows across statement chunks; a repeated member keeps its last row", async () => {
        const members = [f.owner.id];
        for (let i = 0; i < PRESENCE_UPSERT_ROWS + 50; i++)
          members.push((await addMember(store, f.mesh.id, `p${i}`)).id);
        const rows = members.map((memberId) => presence(memberId, { summary: `s-${memberId}` }));
        await store.upsertPresence({ ...rows[0]!, summary: "old" });
        const last = presence(members[1]!, { summary: "last wins", status: "dnd" });
        expect(await store.upsertPresences([...rows, last])).toEqual([]);
        const listed = await store.listPresence(f.mesh.id);
        expect(listed).toHaveLength(members.length);
        expect(await store.getPresence(f.owner.id)).toEqual(rows[0]);
        expect(await store.getPresence(members[1]!)).toEqual(last);
        expect(await store.getPresence(members.at(-1)!)).toEqual(rows.at(-1));
        await store.upsertPresences([]);
      });

      it("upsertPresences leaves a row a newer connection took over and names its member; older and unowned rows are written", async () => {
        const bob = await addMember(store, f.mesh.id, "bob");
        const carol = await addMember(store, f.mesh.id, "carol");
        const dave = await addMember(store, f.mesh.id, "dave");
        const newer = presence(bob.id, { presenceId: "b2-newer", brokerId: "b2", connectedAt: T0 + 1_000 });
        await store.upsertPresence(newer);
        await store.upsertPresence(presence(carol.id, { presenceId: null, online: false }));
        // A late write of an older connection of dave (its broker had not heard it was replaced).
        await store.upsertPresence(presence(dave.id, { presenceId: "b2-stale", connectedAt: T0 - 1_000 }));
        const beat = [
          presence(bob.id, { presenceId: "b1-older", brokerId: "b1" }),
          presence(carol.id, { presenceId: "b1-carol", brokerId: "b1" }),
          presence(dave.id, { presenceId: "b1-dave", brokerId: "b1" }),
          presence(f.owner.id, { presenceId: "b1-owner", brokerId: "b1" }),
        ];
        expect(await store.upsertPresences(beat)).toEqual([bob.id]);
        expect(await store.getPresence(bob.id)).toEqual(newer);
        expect(await store.getPresence(carol.id)).toEqual(beat[1]);
        expect(await store.getPresence(dave.id)).toEqual(beat[2]);
        expect(await store.getPresence(f.owner.id)).toEqual(beat[3]);
      });

      it("markBrokerPresencesOffline touches only that broker's online rows", async () => {
        const bob = await addMember(store, f.mesh.id, "bob");
        const carol = await addMember(store, f.mesh.id, "carol");
        await store.upsertPresence(presence(f.owner.id, { brokerId: "b1" }));
        await store.upsertPresence(presence(bob.id, { brokerId: "b2" }));
        await store.upsertPresence(
          presence(carol.id, { brokerId: "b1", online: false, disconnectedAt: T0 + 1 }),
        );
        expect(await store.markBrokerPresencesOffline("b1", T0 + 100)).toBe(1);
        expect(await store.getPresence(f.owner.id)).toMatchObject({
          online: false,
          disconnectedAt: T0 + 100,
        });
        expect(await store.getPresence(bob.id)).toMatchObject({ online: true, disconnectedAt: null });
        expect(await store.getPresence(carol.id)).toMatchObject({ online: false, disconnectedAt: T0 + 1 });
        expect(await store.markBrokerPresencesOffline("b1", T0 + 200)).toBe(0);
      });

      it("takePendingHook returns a fresh entry once and removes it", async () => {
        const pk = pubkey();
        const entry = {
          meshId: f.mesh.id,
          pubkey: pk,
          status: "working" as const,
          cwd: "/p",
          pid: 7,
          sessionId: "s",
          receivedAt: T0,
        };
        await store.stashPendingHook(entry);
        expect(await store.takePendingHook(f.mesh.id, pk, T0)).toEqual(entry);
        expect(await store.takePendingHook(f.mesh.id, pk, T0)).toBeNull();
      });

      it("a newer stash replaces the older; a stale entry is not returned and is dropped", async () => {
        const pk = pubkey();
        const base = { meshId: f.mesh.id, pubkey: pk, cwd: "/p", pid: 7, sessionId: null };
        await store.stashPendingHook({ ...base, status: "working", receivedAt: T0 });
        await store.stashPendingHook({ ...base, status: "idle", receivedAt: T0 + 5 });
        expect(await store.takePendingHook(f.mesh.id, pk, T0 + 5)).toEqual({
          ...base,
          status: "idle",
          receivedAt: T0 + 5,
        });
        await store.stashPendingHook({ ...base, status: "working", receivedAt: T0 });
        expect(await store.takePendingHook(f.mesh.id, pk, T0 + 1)).toBeNull();
        expect(await store.takePendingHook(f.mesh.id, pk, 0)).toBeNull();
        // Scoped by mesh as well as pubkey.
        await store.stashPendingHook({ ...base, status: "working", receivedAt: T0 });
        expect(await store.takePendingHook("other-mesh", pk, 0)).toBeNull();
        expect(await store.takePendingHook(f.mesh.id, pk, 0)).not.toBeNull();
      });
    });

    describe("channels", () => {
      it("join is idempotent, leave removes, listings are per mesh and channel", async () => {
        const bob = await addMember(store, f.mesh.id, "bob");
        const other = await makeMesh(store, "zed");
        await store.joinChannel(f.mesh.id, "dev", f.owner.id);
        await store.joinChannel(f.mesh.id, "dev", f.owner.id);
        await store.joinChannel(f.mesh.id, "dev", bob.id);
        await store.joinChannel(f.mesh.id, "ops", bob.id);
        await store.joinChannel(other.mesh.id, "dev", other.owner.id);
        expect(await store.listChannelMembers(f.mesh.id, "dev")).toEqual([f.owner.id, bob.id].sort());
        expect(await store.listChannelsByMember(f.mesh.id)).toEqual(
          new Map([
            [f.owner.id, ["dev"]],
            [bob.id, ["dev", "ops"]],
          ]),
        );
        await store.leaveChannel(f.mesh.id, "dev", bob.id);
        await store.leaveChannel(f.mesh.id, "dev", bob.id);
        expect(await store.listChannelMembers(f.mesh.id, "dev")).toEqual([f.owner.id]);
        expect(await store.listChannelMembers(f.mesh.id, "nope")).toEqual([]);
        expect(await store.listChannelsByMember(f.mesh.id)).toEqual(
          new Map([
            [f.owner.id, ["dev"]],
            [bob.id, ["ops"]],
          ]),
        );
      });
    });

    describe("audit log", () => {
      it("lists a mesh's entries newest first, limited, with their metadata", async () => {
        const other = await makeMesh(store, "zed");
        await store.appendAudit({
          meshId: f.mesh.id,
          action: "mesh.create",
          actorPubkey: f.owner.pubkey,
          detail: { slug: "s" },
          at: T0,
        });
        await store.appendAudit({
          meshId: other.mesh.id,
          action: "mesh.create",
          actorPubkey: null,
          detail: {},
          at: T0,
        });
        await store.appendAudit({
          meshId: f.mesh.id,
          action: "member.join",
          actorPubkey: null,
          detail: { role: "member", uses: 1, admin: false, note: null },
          at: T0 + 1,
        });
        await store.appendAudit({
          meshId: null,
          action: "hello.reject",
          actorPubkey: null,
          detail: { reason: "replay" },
          at: T0 + 2,
        });
        const entries = await store.listAudit(f.mesh.id, 10);
        expect(entries).toEqual([
          {
            meshId: f.mesh.id,
            action: "member.join",
            actorPubkey: null,
            detail: { role: "member", uses: 1, admin: false, note: null },
            at: T0 + 1,
          },
          {
            meshId: f.mesh.id,
            action: "mesh.create",
            actorPubkey: f.owner.pubkey,
            detail: { slug: "s" },
            at: T0,
          },
        ]);
        expect(await store.listAudit(f.mesh.id, 1)).toHaveLength(1);
      });
    });

    registerGroupContract(() => store);
    registerAdmitContract(() => store);
    registerHookRelayContract(() => store);
  });
}
