// WebSocket handshake (SPEC §3): every rejection path closes 1008 with its reason and bumps its counter.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLOSE_CODES, canonicalHello } from "@claudemesh/protocol";
import { signDetached } from "@claudemesh/crypto";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { createMeshWithMembers, enrollAgent, makeIdentity, type Member } from "../helpers/identity.js";
import { connectPeer, helloFrame, openSocket, type TestPeer } from "../helpers/ws-client.js";
import { STORE_KINDS } from "../helpers/stores.js";

function rejected(broker: TestBroker, reason: string): number {
  const line = broker.ctx.metrics
    .render()
    .split("\n")
    .find((l) => l.startsWith("connections_rejected_total") && l.includes(`reason="${reason}"`));
  return line ? Number(line.split(" ").pop()) : 0;
}

describe.each(STORE_KINDS)("ws handshake (%s)", (kind) => {
  let broker: TestBroker;
  let alice: Member;
  let bob: Member;
  const open: TestPeer[] = [];

  beforeAll(async () => {
    broker = await startTestBroker({ kind, helloTimeoutMs: 300, maxConnectionsPerMesh: 3 });
    const { members } = await createMeshWithMembers(broker.url, ["alice", "bob"]);
    [alice, bob] = members as [Member, Member];
  });
  afterAll(async () => {
    await Promise.all(open.map((p) => p.close()));
    await broker?.stop();
  });

  async function expectRejection(hello: object, reason: string): Promise<void> {
    const before = rejected(broker, reason);
    const peer = await openSocket(broker.wsUrl);
    open.push(peer);
    peer.send(hello);
    const error = await peer.next("error");
    expect(error).toMatchObject({ type: "error", code: reason });
    const closed = await peer.closed;
    expect(closed).toEqual({ code: CLOSE_CODES.policyViolation, reason });
    expect(rejected(broker, reason)).toBe(before + 1);
  }

  it("accepts a signed hello and answers hello_ack with the display name", async () => {
    const peer = await connectPeer(broker.wsUrl, alice);
    open.push(peer);
    expect(peer.helloAck.memberDisplayName).toBe("alice");
    expect(peer.helloAck.presenceId).toMatch(/^[A-Za-z0-9_-]+$/);
    await peer.close();
  });

  it("rejects a timestamp outside the window: timestamp_skew", async () => {
    await expectRejection(helloFrame(alice, { now: Date.now() - 61_000 }), "timestamp_skew");
    await expectRejection(helloFrame(alice, { now: Date.now() + 61_000 }), "timestamp_skew");
  });

  it("judges the window before the shape (seed order)", async () => {
    await expectRejection(
      { ...helloFrame(alice, { now: Date.now() - 120_000 }), pubkey: "xyz" },
      "timestamp_skew",
    );
  });

  it("rejects a bad pubkey or signature shape: malformed", async () => {
    await expectRejection({ ...helloFrame(alice), pubkey: alice.pubkey.toUpperCase() }, "malformed");
    await expectRejection({ ...helloFrame(alice), signature: "ab".repeat(63) }, "malformed");
  });

  it("rejects a signature that does not verify: bad_signature", async () => {
    const hello = helloFrame(alice);
    const flipped = (hello.signature[0] === "0" ? "1" : "0") + hello.signature.slice(1);
    await expectRejection({ ...hello, signature: flipped }, "bad_signature");
    // A valid signature by someone else's key over alice's claim.
    const mallory = makeIdentity("mallory");
    const timestamp = Date.now();
    const forged = signDetached(
      canonicalHello(alice.meshId, alice.memberId, alice.pubkey, timestamp),
      mallory.secretKey,
    );
    await expectRejection({ ...hello, timestamp, signature: forged }, "bad_signature");
  });

  it("rejects a key that is not a member, or a member id that does not match: unauthorized", async () => {
    const stranger = { ...makeIdentity("stranger"), meshId: alice.meshId, memberId: alice.memberId };
    await expectRejection(helloFrame(stranger), "unauthorized");
    await expectRejection(helloFrame({ ...alice, memberId: bob.memberId }), "unauthorized");
    await expectRejection(helloFrame({ ...alice, meshId: "no-such-mesh" }), "unauthorized");
  });

  it("rejects a revoked member: revoked", async () => {
    const agent = await enrollAgent(broker.url, bob, makeIdentity("bob-agent"));
    await broker.ctx.store.revokeMember(agent.memberId, Date.now());
    await expectRejection(helloFrame(agent), "revoked");
  });

  it("rejects the same signed hello a second time: replay", async () => {
    const hello = helloFrame(bob);
    const first = await openSocket(broker.wsUrl);
    open.push(first);
    first.send(hello);
    await first.next("hello_ack");
    await first.close();
    await expectRejection(hello, "replay");
  });

  it("rejects a hello beyond the mesh's connection cap: capacity", async () => {
    const { members } = await createMeshWithMembers(broker.url, ["c1", "c2", "c3", "c4"]);
    const peers = await Promise.all(members.slice(0, 3).map((m) => connectPeer(broker.wsUrl, m)));
    open.push(...peers);
    await expectRejection(helloFrame(members[3]!), "capacity");
    // A reconnect of a connected identity replaces it and does not count against the cap.
    const again = await connectPeer(broker.wsUrl, members[0]!);
    open.push(again);
    expect((await peers[0]!.closed).code).toBe(CLOSE_CODES.replaced);
    await Promise.all([...peers, again].map((p) => p.close()));
  });

  it("answers no_hello to any frame before hello and keeps the connection open", async () => {
    const peer = await openSocket(broker.wsUrl);
    open.push(peer);
    peer.send({ type: "list_peers", id: "q1" });
    expect(await peer.next("error")).toMatchObject({ code: "no_hello", id: "q1" });
    peer.send(helloFrame(alice));
    await peer.next("hello_ack");
    await peer.close();
  });

  it("answers malformed to a non-JSON frame and keeps the connection usable", async () => {
    const peer = await openSocket(broker.wsUrl);
    open.push(peer);
    peer.send("{not json");
    expect(await peer.next("error")).toMatchObject({ code: "malformed" });
    peer.send({ type: "send", id: "s1" });
    expect(await peer.next((f) => f.type === "error" && f.id === "s1")).toMatchObject({ code: "malformed" });
    peer.send(helloFrame(alice));
    await peer.next("hello_ack");
    await peer.close();
  });

  it("closes a socket that never says hello with 4002", async () => {
    const before = rejected(broker, "hello_timeout");
    const peer = await openSocket(broker.wsUrl);
    open.push(peer);
    expect((await peer.closed).code).toBe(CLOSE_CODES.helloTimeout);
    expect(rejected(broker, "hello_timeout")).toBe(before + 1);
  });

  it("answers a second hello with already_authenticated", async () => {
    const peer = await connectPeer(broker.wsUrl, alice);
    open.push(peer);
    peer.send(helloFrame(alice));
    expect(await peer.next("error")).toMatchObject({ code: "already_authenticated" });
    peer.send({ type: "list_peers", id: "after" });
    await peer.next("peers");
    await peer.close();
  });
});
