// Store contract for group messages (SPEC §4 revision 2): body stored once, one key row per recipient, batched acks, body sweep.
import { randomBytes } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import type { MemberRow, NewMessage, Store } from "../../src/store/index.js";
import { addMember, id, makeMesh, message, T0, type MeshFixture } from "./fixtures.js";

/** A group message: one body, one small sealed-key row per recipient. */
export function groupMessage(
  meshId: string,
  sender: string,
  recipients: readonly string[],
  options: { createdAt?: number; clientId?: string; targetSpec?: string } = {},
): NewMessage {
  const m = message(meshId, sender, recipients, {
    targetSpec: options.targetSpec ?? "*",
    createdAt: options.createdAt ?? T0,
  });
  for (const d of m.deliveries) d.ciphertext = randomBytes(48).toString("base64");
  return {
    ...m,
    body: {
      nonce: randomBytes(24).toString("base64"),
      ciphertext: randomBytes(4_000).toString("base64"),
      sig: randomBytes(64).toString("hex"),
    },
    ...(options.clientId === undefined ? {} : { clientId: options.clientId }),
  };
}

export function registerGroupContract(getStore: () => Store): void {
  describe("group messages (body once, key per recipient)", () => {
    let store: Store;
    let f: MeshFixture;
    let bob: MemberRow;
    let carol: MemberRow;
    let dave: MemberRow;
    beforeEach(async () => {
      store = getStore();
      f = await makeMesh(store, "galice");
      bob = await addMember(store, f.mesh.id, "gbob");
      carol = await addMember(store, f.mesh.id, "gcarol");
      dave = await addMember(store, f.mesh.id, "gdave");
    });
    const claim = (recipientMemberId: string, now = T0) =>
      store.claimDeliveries({
        recipientMemberId,
        priorities: ["now", "next", "low"],
        leaseOwner: "owner-g",
        now,
        leaseMs: 30_000,
        limit: 100,
      });

    it("every recipient claims the one stored body with its own sealed key", async () => {
      const m = groupMessage(f.mesh.id, f.owner.id, [bob.id, carol.id, dave.id]);
      await store.enqueueMessages([m]);
      for (const [i, member] of [bob, carol, dave].entries()) {
        const [row] = await claim(member.id);
        expect(row).toMatchObject({
          messageId: m.messageId,
          targetSpec: "*",
          senderPubkey: f.owner.pubkey,
          nonce: m.deliveries[i]?.nonce,
          ciphertext: m.deliveries[i]?.ciphertext,
          body: m.body,
        });
      }
      const envelopes = await store.storedEnvelopes(m.messageId);
      expect(envelopes).toHaveLength(3);
      expect(envelopes.every((e) => JSON.stringify(e.body) === JSON.stringify(m.body))).toBe(true);
      // The per-recipient rows hold only the sealed key, never the body.
      expect(envelopes.every((e) => !e.ciphertext.includes(m.body!.ciphertext.slice(0, 64)))).toBe(true);
    });

    it("direct and group messages keep one storage order per recipient", async () => {
      const d1 = message(f.mesh.id, f.owner.id, [bob.id]);
      const g = groupMessage(f.mesh.id, f.owner.id, [bob.id, carol.id]);
      const d2 = message(f.mesh.id, f.owner.id, [bob.id]);
      await store.enqueueMessages([d1, g]);
      await store.enqueueMessages([d2]);
      const rows = await claim(bob.id);
      expect(rows.map((r) => [r.messageId, r.body === null])).toEqual([
        [d1.messageId, true],
        [g.messageId, false],
        [d2.messageId, true],
      ]);
    });

    it("a retried group send (same send id) stores neither a second body nor second keys", async () => {
      const clientId = id("send");
      const first = groupMessage(f.mesh.id, f.owner.id, [bob.id, carol.id], { clientId });
      const retry = groupMessage(f.mesh.id, f.owner.id, [bob.id, carol.id], { clientId });
      await store.enqueueMessages([first]);
      const { duplicates } = await store.enqueueMessages([retry]);
      expect(duplicates.get(retry.messageId)).toBe(first.messageId);
      expect(await store.storedEnvelopes(retry.messageId)).toEqual([]);
      const [row] = await claim(bob.id);
      expect(row?.body).toEqual(first.body);
      expect(await store.countPending(bob.id)).toBe(1);
    });

    it("a batch of group messages over several INSERTs (PostgreSQL: > 6,666 rows) stores every body", async () => {
      // 2,300 messages × 3 recipients = 6,900 key rows: two multi-row INSERTs on PostgreSQL.
      const batch = Array.from({ length: 2_300 }, () =>
        groupMessage(f.mesh.id, f.owner.id, [bob.id, carol.id, dave.id], { clientId: id("send") }),
      );
      for (const m of batch) m.body!.ciphertext = randomBytes(16).toString("base64");
      await store.enqueueMessages(batch);
      expect(await store.countPending(dave.id)).toBe(2_300);
      const rows = await claim(dave.id);
      expect(rows.map((r) => r.body)).toEqual(batch.slice(0, 100).map((m) => m.body));
      const last = batch[batch.length - 1]!;
      expect((await store.storedEnvelopes(last.messageId)).map((e) => e.body)).toEqual([
        last.body,
        last.body,
        last.body,
      ]);
    });

    it("recordReceiptsMany acks many recipients at once, only their own copies, once", async () => {
      const g = groupMessage(f.mesh.id, f.owner.id, [bob.id, carol.id, dave.id]);
      const toBobOnly = message(f.mesh.id, f.owner.id, [bob.id]);
      await store.enqueueMessages([g, toBobOnly]);
      const changes = await store.recordReceiptsMany([
        { recipientMemberId: bob.id, delivered: [g.messageId, g.messageId], shown: [], now: T0 + 1 },
        // carol names bob's direct message too: not hers, so nothing changes for it.
        {
          recipientMemberId: carol.id,
          delivered: [g.messageId, toBobOnly.messageId],
          shown: [],
          now: T0 + 1,
          pushTo: new Set([f.owner.id]),
        },
        { recipientMemberId: dave.id, delivered: [], shown: [g.messageId], now: T0 + 1 },
      ]);
      const summary = changes
        .map((c) => `${c.recipientPubkey.slice(0, 8)}:${c.messageId === g.messageId ? "g" : "d"}:${c.state}`)
        .sort();
      expect(summary).toEqual(
        [
          `${bob.pubkey.slice(0, 8)}:g:delivered`,
          `${carol.pubkey.slice(0, 8)}:g:delivered`,
          `${dave.pubkey.slice(0, 8)}:g:shown`,
        ].sort(),
      );
      expect(changes.every((c) => c.from === "queued" && c.at === T0 + 1)).toBe(true);
      expect(await store.countPending(bob.id)).toBe(1);
      expect(await store.countPending(carol.id)).toBe(0);
      expect(await store.countPending(dave.id)).toBe(0);
      // carol's receipt was pushed by the caller (pushTo); bob's waits for a pull.
      const pulled = await store.takeReceipts(f.owner.id, 10);
      expect(pulled.map((c) => c.recipientMemberId).sort()).toEqual([bob.id, dave.id].sort());
      // A repeat changes nothing.
      expect(
        await store.recordReceiptsMany([
          { recipientMemberId: bob.id, delivered: [g.messageId], shown: [], now: T0 + 2 },
          { recipientMemberId: carol.id, delivered: [g.messageId], shown: [], now: T0 + 2 },
        ]),
      ).toEqual([]);
      expect(await store.recordReceiptsMany([])).toEqual([]);
    });

    it("recordReceiptsMany: shown reports of many recipients in one batch, own copies only, forward only", async () => {
      const g = groupMessage(f.mesh.id, f.owner.id, [bob.id, carol.id, dave.id]);
      const g2 = groupMessage(f.mesh.id, f.owner.id, [bob.id, carol.id, dave.id]);
      const toBobOnly = message(f.mesh.id, f.owner.id, [bob.id]);
      await store.enqueueMessages([g, g2, toBobOnly]);
      // bob had acked g earlier; dave had already shown g2.
      await store.recordReceiptsMany([
        { recipientMemberId: bob.id, delivered: [g.messageId], shown: [], now: T0 + 1 },
        { recipientMemberId: dave.id, delivered: [], shown: [g2.messageId], now: T0 + 1 },
      ]);
      const pushTo = new Set([f.owner.id]);
      const changes = await store.recordReceiptsMany([
        // delivered → shown for g; queued → shown for g2 (also in delivered: shown wins).
        {
          recipientMemberId: bob.id,
          delivered: [g2.messageId],
          shown: [g.messageId, g2.messageId],
          now: T0 + 5,
          pushTo,
        },
        // carol reports bob's direct message shown: not her copy, nothing changes for it.
        {
          recipientMemberId: carol.id,
          delivered: [g.messageId],
          shown: [toBobOnly.messageId, g2.messageId],
          now: T0 + 5,
          pushTo,
        },
        // dave acks g2 again after showing it: shown never goes back to delivered.
        {
          recipientMemberId: dave.id,
          delivered: [g2.messageId, g.messageId],
          shown: [],
          now: T0 + 5,
          pushTo,
        },
      ]);
      const name = (c: { recipientMemberId: string }) =>
        c.recipientMemberId === bob.id ? "bob" : c.recipientMemberId === carol.id ? "carol" : "dave";
      const summary = changes
        .map(
          (c) =>
            `${name(c)}:${c.messageId === g.messageId ? "g" : c.messageId === g2.messageId ? "g2" : "d"}:${c.from}>${c.state}`,
        )
        .sort();
      expect(summary).toEqual(
        [
          "bob:g:delivered>shown",
          "bob:g2:queued>shown",
          "carol:g:queued>delivered",
          "carol:g2:queued>shown",
          "dave:g:queued>delivered",
        ].sort(),
      );
      expect(changes.every((c) => c.at === T0 + 5)).toBe(true);
      expect(new Set(changes.map((c) => c.recipientPubkey))).toEqual(
        new Set([bob.pubkey, carol.pubkey, dave.pubkey]),
      );
      expect(await store.countPending(bob.id)).toBe(1); // toBobOnly: carol's report did not touch it
      const { statuses } = await store.messageStatus(
        f.owner.id,
        [g.messageId, g2.messageId, toBobOnly.messageId],
        100,
      );
      const byKey = new Map([bob, carol, dave].map((m) => [m.pubkey, m.id]));
      const states = [g, g2, toBobOnly].map((m) =>
        (statuses.get(m.messageId) ?? [])
          .map((r) => `${name({ recipientMemberId: byKey.get(r.recipientPubkey) ?? "" })}:${r.state}`)
          .sort(),
      );
      expect(states).toEqual([
        ["bob:shown", "carol:delivered", "dave:delivered"],
        ["bob:shown", "carol:shown", "dave:shown"],
        ["bob:queued"],
      ]);
      // Repeating the batch changes nothing.
      expect(
        await store.recordReceiptsMany([
          {
            recipientMemberId: bob.id,
            delivered: [],
            shown: [g.messageId, g2.messageId],
            now: T0 + 6,
            pushTo,
          },
          { recipientMemberId: carol.id, delivered: [g.messageId], shown: [g2.messageId], now: T0 + 6 },
        ]),
      ).toEqual([]);
    });

    it("the body is swept with the last delivery that names it, not before", async () => {
      const g = groupMessage(f.mesh.id, f.owner.id, [bob.id, carol.id]);
      await store.enqueueMessages([g]);
      await store.markDelivered(bob.id, [g.messageId], T0 + 1);
      await store.sweepMessages(T0 - 1, T0 + 2);
      // bob's delivered copy is gone; carol still gets the body.
      const [row] = await claim(carol.id);
      expect(row?.body).toEqual(g.body);
      await store.markDelivered(carol.id, [g.messageId], T0 + 3);
      await store.sweepMessages(T0 - 1, T0 + 4);
      expect(await store.storedEnvelopes(g.messageId)).toEqual([]);
      // Re-enqueueing the same message after its body was swept stores a fresh body with it.
      await store.enqueueMessages([{ ...g, deliveries: [g.deliveries[0]!] }]);
      expect((await claim(bob.id, T0 + 5))[0]?.body).toEqual(g.body);
    });
  });
}
