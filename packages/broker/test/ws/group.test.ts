// Group messages through the broker (SPEC §4 revision 2), on each store: one body per message, a sealed key per
// recipient; 1,000 recipients of a 48 KB broadcast each get it once; revoked members get nothing; a body the store
// altered opens for nobody; direct and group sends keep one per-sender order; group frames have their own cap.
import { describe, expect, it } from "vitest";
import { groupFrameCap, type Ack, type ErrorFrame, type Push } from "@claudemesh/protocol";
import { createMesh, joinMesh, makeIdentity, makeInvite, type Member } from "../helpers/identity.js";
import { STORE_KINDS, storeTarget } from "../helpers/stores.js";
import { connectPeer, type TestPeer } from "../helpers/ws-client.js";
import { startTestBroker } from "../helpers/broker.js";
import { directSend, fanoutSend, isPush, open, rawStore, until } from "./support.js";
import { createMeshWithMembers } from "../helpers/identity.js";
import { wsSuite } from "./suite.js";

/** A mesh of an owner and `n` members, joined `batch` at a time. */
async function bigMesh(baseUrl: string, n: number, batch = 25): Promise<[Member, Member[]]> {
  const mesh = await createMesh(baseUrl, makeIdentity("owner"));
  const members: Member[] = [];
  for (let i = 0; i < n; i += batch) {
    const names = Array.from({ length: Math.min(batch, n - i) }, (_, j) => `m${i + j}`);
    members.push(
      ...(await Promise.all(
        names.map((name) => joinMesh(baseUrl, makeInvite(mesh, mesh.owner), makeIdentity(name))),
      )),
    );
  }
  return [mesh.owner, members];
}

describe.each(STORE_KINDS)("group messages (%s)", (kind) => {
  const suite = wsSuite(kind);
  const { mesh, connect } = suite;

  it("stores the body once and a small sealed key per recipient", async () => {
    const [alice, bob, carol] = await mesh("alice", "bob", "carol");
    const a = await connect(alice!);
    a.send(fanoutSend(alice!, "*", [bob!, carol!], "x".repeat(10_000), "g1"));
    const ack = await a.next<Ack>((f) => f.type === "ack" && f.id === "g1");
    const [bodies, keys] = await rawStore(suite.broker.store, [
      { sql: "SELECT ciphertext FROM message_bodies WHERE message_id = ?", params: [ack.messageId] },
      { sql: "SELECT ciphertext FROM deliveries WHERE message_id = ?", params: [ack.messageId] },
    ]);
    expect(bodies).toHaveLength(1);
    expect(String((bodies![0] as { ciphertext: string }).ciphertext).length).toBeGreaterThan(13_000);
    expect(keys).toHaveLength(2);
    for (const row of keys as Array<{ ciphertext: string }>) expect(row.ciphertext).toHaveLength(64);
  });

  it("a revoked member is not a recipient: its key is refused and it gets nothing new", async () => {
    const [alice, bob, carol] = await mesh("alice", "bob", "carol");
    const a = await connect(alice!);
    const b = await connect(bob!);
    await suite.broker.ctx.store.revokeMember(carol!.memberId, Date.now());
    a.send(fanoutSend(alice!, "*", [bob!, carol!], "still for carol?", "r1"));
    const refused = await a.next<ErrorFrame>((f) => f.type === "error" && f.id === "r1");
    expect(refused).toMatchObject({ code: "recipients_mismatch", expected: [bob!.pubkey] });
    a.send(fanoutSend(alice!, "*", [bob!], "bob only", "r2"));
    await a.next((f) => f.type === "ack" && f.id === "r2");
    expect(open(await b.next<Push>("push"), bob!)).toBe("bob only");
    // Carol's key can no longer say hello, and nothing was queued for her.
    await expect(connectPeer(suite.broker.wsUrl, carol!)).rejects.toThrow(/revoked/);
    expect(await suite.broker.ctx.store.countPending(carol!.memberId)).toBe(0);
  });

  it("a body altered in the store is refused by every recipient", async () => {
    const [alice, bob, carol] = await mesh("alice", "bob", "carol");
    const a = await connect(alice!);
    a.send(fanoutSend(alice!, "*", [bob!, carol!], "the deploy key is in the vault", "t1"));
    const ack = await a.next<Ack>((f) => f.type === "ack" && f.id === "t1");
    const [[row]] = (await rawStore(suite.broker.store, [
      { sql: "SELECT ciphertext FROM message_bodies WHERE message_id = ?", params: [ack.messageId] },
    ])) as [[{ ciphertext: string }]];
    // Flip one byte of the ciphertext (a broker that tries to change what the sender signed).
    const bytes = Buffer.from(row.ciphertext, "base64");
    bytes[20] = bytes[20]! ^ 1;
    await rawStore(suite.broker.store, [
      {
        sql: "UPDATE message_bodies SET ciphertext = ? WHERE message_id = ?",
        params: [bytes.toString("base64"), ack.messageId],
      },
    ]);
    for (const who of [bob!, carol!]) {
      const peer = await connect(who);
      const push = await peer.next<Push>("push");
      expect(push.messageId).toBe(ack.messageId);
      expect(open(push, who)).toBeNull();
    }
  });

  it("keeps one per-sender order across direct and group sends", async () => {
    const [alice, bob, carol] = await mesh("alice", "bob", "carol");
    const a = await connect(alice!);
    const N = 60;
    for (let i = 0; i < N; i++) {
      if (i % 3 === 0) a.send(fanoutSend(alice!, "*", [bob!, carol!], `m${i}`));
      else a.send(directSend(alice!, bob!, `m${i}`));
    }
    await until(() => a.frames.filter((f) => f.type === "ack").length === N, 10_000, "all acked");
    const b = await connect(bob!);
    const pushes = (await b.collect(isPush, N, 10_000)) as Push[];
    expect(pushes.map((p) => open(p, bob!))).toEqual(Array.from({ length: N }, (_, i) => `m${i}`));
  });

  it("closes with 1009 a group frame over 64 KiB + 256 B per key, accepts one at the cap", async () => {
    const [alice, bob] = await mesh("alice", "bob");
    const a = await connect(alice!);
    const frame = fanoutSend(alice!, "*", [bob!], "hello", "cap1");
    const cap = groupFrameCap(1);
    // Padding in a field the schema ignores makes the frame exactly `size` bytes.
    const sized = (size: number): string => {
      const base = JSON.stringify({ ...frame, pad: "" });
      return JSON.stringify({ ...frame, pad: "p".repeat(size - Buffer.byteLength(base)) });
    };
    a.send(sized(cap));
    await a.next((f) => f.type === "ack" && f.id === "cap1");
    a.send(sized(cap + 1));
    expect((await a.closed).code).toBe(1009);
  });
});

describe.each(STORE_KINDS)("group messages at 1,000 recipients (%s)", (kind) => {
  it("a 48 KB broadcast reaches each of 1,000 recipients exactly once and decrypts", async () => {
    const broker = await startTestBroker({
      kind,
      maxConnectionsPerMesh: 1_001,
      httpRequestsPerSec: 10_000, // 1,000 joins from one test address
      httpRequestBurst: 10_000,
    });
    const peers: TestPeer[] = [];
    try {
      const [owner, members] = await bigMesh(broker.url, 1_000);
      for (let i = 0; i < members.length; i += 50) {
        peers.push(...(await Promise.all(members.slice(i, i + 50).map((m) => connectPeer(broker.wsUrl, m)))));
      }
      const sender = await connectPeer(broker.wsUrl, owner);
      peers.push(sender);
      const text = "é".repeat(16_000) + "a".repeat(16_000); // 48,000 bytes of UTF-8
      const frame = fanoutSend(owner, "*", members, text, "big");
      expect(Buffer.byteLength(JSON.stringify(frame))).toBeLessThanOrEqual(groupFrameCap(1_000));
      sender.send(frame);
      const ack = await sender.next<Ack>((f) => f.type === "ack" && f.id === "big", { timeoutMs: 30_000 });
      const recipients = peers.slice(0, members.length);
      await until(
        () => recipients.every((p) => p.frames.some(isPush)),
        60_000,
        "every recipient has the push",
      );
      recipients.forEach((peer, i) => {
        const pushes = peer.frames.filter(isPush);
        expect(pushes).toHaveLength(1);
        expect(pushes[0]!.messageId).toBe(ack.messageId);
        expect(open(pushes[0]!, members[i]!)).toBe(text);
        peer.send({ type: "client_ack", messageIds: [ack.messageId] });
      });
      await until(
        async () => (await broker.ctx.store.countPending(members.at(-1)!.memberId)) === 0,
        20_000,
        "acks recorded",
      );
      expect(sender.frames.filter(isPush)).toHaveLength(0);
    } finally {
      await Promise.all(peers.map((p) => p.close()));
      await broker.stop();
    }
  }, 180_000);
});

describe.each(STORE_KINDS)("migration to group bodies (%s)", (kind) => {
  it("an old per-recipient fan-out copy queued before migration 8 is still delivered and opens", async () => {
    const store = await storeTarget(kind);
    try {
      const first = await startTestBroker({ kind, store });
      let bob: Member;
      try {
        const { members } = await createMeshWithMembers(first.url, ["alice", "bob"]);
        const [alice] = members as [Member, Member];
        bob = members[1]!;
        const a = await connectPeer(first.wsUrl, alice);
        // The old fan-out form stored each recipient a full crypto_box under target `*`: a direct
        // envelope relabelled `*` is exactly such a row.
        a.send(directSend(alice, bob, "queued before the upgrade", "now", "old1"));
        await a.next((f) => f.type === "ack" && f.id === "old1");
        await a.close();
      } finally {
        await first.stop();
      }
      await rawStore(store, [
        { sql: "UPDATE deliveries SET target_spec = '*'" },
        { sql: "DROP TABLE message_bodies" },
        { sql: "DELETE FROM schema_migrations WHERE version = 8" }, // later migrations stay applied
      ]);
      const second = await startTestBroker({ kind, store });
      try {
        const b = await connectPeer(second.wsUrl, bob);
        const push = await b.next<Push>("push");
        expect(push.targetSpec).toBe(bob.pubkey);
        expect(open(push, bob)).toBe("queued before the upgrade");
        await b.close();
      } finally {
        await second.stop();
      }
    } finally {
      await store.cleanup();
    }
  });
});
