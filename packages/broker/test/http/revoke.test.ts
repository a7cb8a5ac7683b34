// POST /members/revoke (SPEC §2): who may revoke, last_admin, idempotency, and the effects (4003, hello/join/send refused, queue → revoked receipts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signRevoke } from "@claudemesh/crypto";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { postJson } from "../helpers/http.js";
import {
  createMesh,
  enrollAgent,
  enrollBody,
  joinBody,
  joinMesh,
  makeIdentity,
  makeInvite,
  type Member,
  type TestMesh,
} from "../helpers/identity.js";
import { STORE_KINDS } from "../helpers/stores.js";
import { revokeRowByHand } from "../store/fixtures.js";
import { connectPeer, helloFrame, openSocket } from "../helpers/ws-client.js";

function errorCode(res: { json: unknown }): string | undefined {
  return (res.json as { error?: { code?: string } } | undefined)?.error?.code;
}

function revokeBody(by: Member, target: { pubkey: string }, now = Date.now()) {
  return signRevoke(by.meshId, target.pubkey, by.pubkey, by.secretKey, now);
}

describe.each(STORE_KINDS)("POST /members/revoke (%s)", (kind) => {
  let broker: TestBroker;
  let mesh: TestMesh;
  const join = (name: string) => joinMesh(broker.url, makeInvite(mesh, mesh.owner), makeIdentity(name));

  beforeAll(async () => {
    broker = await startTestBroker({ kind });
    mesh = await createMesh(broker.url, makeIdentity("owner"));
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it("an admin revokes a member and its agents in one call; their sockets close 4003; repeat is ok", async () => {
    const bob = await join("bob");
    const agent = await enrollAgent(broker.url, bob, makeIdentity("bob-agent"));
    const bobWs = await connectPeer(broker.wsUrl, bob);
    const agentWs = await connectPeer(broker.wsUrl, agent);
    const res = await postJson(broker.url, "/members/revoke", revokeBody(mesh.owner, bob));
    expect(res.status).toBe(200);
    expect((res.json as { revoked: string[] }).revoked.sort()).toEqual([bob.pubkey, agent.pubkey].sort());
    expect((await bobWs.closed).code).toBe(4003);
    expect((await agentWs.closed).code).toBe(4003);
    const again = await postJson(broker.url, "/members/revoke", revokeBody(mesh.owner, bob));
    expect(again.status).toBe(200);
    // hello of the member and of its agent: revoked
    for (const who of [bob, agent]) {
      const peer = await openSocket(broker.wsUrl);
      peer.send(helloFrame(who));
      const err = await peer.next("error");
      expect(err).toMatchObject({ code: "revoked" });
      await peer.close();
    }
  });

  it("refuses another member (403 forbidden), a stranger (403 unauthorized) and a bad signature (401)", async () => {
    const carol = await join("carol");
    const dave = await join("dave");
    const forbidden = await postJson(broker.url, "/members/revoke", revokeBody(carol, dave));
    expect([forbidden.status, errorCode(forbidden)]).toEqual([403, "forbidden"]);
    const stranger = { ...makeIdentity("stranger"), meshId: mesh.meshId, memberId: "none" };
    const unauthorized = await postJson(broker.url, "/members/revoke", revokeBody(stranger, dave));
    expect([unauthorized.status, errorCode(unauthorized)]).toEqual([403, "unauthorized"]);
    const body = revokeBody(mesh.owner, dave);
    const tampered = { ...body, target_pubkey: carol.pubkey };
    const bad = await postJson(broker.url, "/members/revoke", tampered);
    expect([bad.status, errorCode(bad)]).toEqual([401, "bad_signature"]);
    expect((await broker.ctx.store.getMember(mesh.meshId, carol.pubkey))?.revokedAt).toBeNull();
  });

  it("replays of one signed body are refused (shared pipeline)", async () => {
    const erin = await join("erin");
    const body = revokeBody(mesh.owner, erin);
    expect((await postJson(broker.url, "/members/revoke", body)).status).toBe(200);
    const replay = await postJson(broker.url, "/members/revoke", body);
    expect(errorCode(replay)).toBe("replay");
  });

  it("a parent retires its own agent; a member leaves (self) and cannot rejoin or hello with that key", async () => {
    const frank = await join("frank");
    const agent = await enrollAgent(broker.url, frank, makeIdentity("frank-agent"));
    const retired = await postJson(broker.url, "/members/revoke", revokeBody(frank, agent));
    expect((retired.json as { revoked: string[] }).revoked).toEqual([agent.pubkey]);
    const left = await postJson(broker.url, "/members/revoke", revokeBody(frank, frank));
    expect(left.status).toBe(200);
    const invite = makeInvite(mesh, mesh.owner);
    const rejoin = await postJson(broker.url, "/join", joinBody(invite.link, invite.payload, frank));
    expect([rejoin.status, errorCode(rejoin)]).toEqual([403, "revoked"]);
    // leaving twice is still ok (idempotent)
    expect((await postJson(broker.url, "/members/revoke", revokeBody(frank, frank))).status).toBe(200);
  });

  it("the last admin cannot leave while other members remain (409 last_admin)", async () => {
    const res = await postJson(broker.url, "/members/revoke", revokeBody(mesh.owner, mesh.owner));
    expect([res.status, errorCode(res)]).toEqual([409, "last_admin"]);
    expect((await broker.ctx.store.getMember(mesh.meshId, mesh.owner.pubkey))?.revokedAt).toBeNull();
  });

  it("queued messages to the revoked are deleted and their sender gets a revoked receipt", async () => {
    const gina = await join("gina");
    const sender = await connectPeer(broker.wsUrl, mesh.owner);
    sender.send({
      type: "send",
      id: "q1",
      targetSpec: gina.pubkey,
      priority: "next",
      nonce: "A".repeat(32),
      ciphertext: "QUJD".repeat(8),
    });
    await sender.next((f) => f.type === "ack");
    const ginaRow = await broker.ctx.store.getMember(mesh.meshId, gina.pubkey);
    expect(await broker.ctx.store.countPending(ginaRow!.id)).toBe(1);
    await postJson(broker.url, "/members/revoke", revokeBody(mesh.owner, gina));
    expect(await broker.ctx.store.countPending(ginaRow!.id)).toBe(0);
    const receipt = await sender.next((f) => f.type === "receipt");
    expect(receipt).toMatchObject({ recipientPubkey: gina.pubkey, state: "revoked" });
    await sender.close();
  });

  it("a connected member revoked by hand is refused on its next send (revoked, 4003), no periodic tick needed", async () => {
    const hank = await join("hank");
    const ws = await connectPeer(broker.wsUrl, hank);
    const row = await broker.ctx.store.getMember(mesh.meshId, hank.pubkey);
    // Bypass the notice: mark the row only, as a hand edit of the store would.
    await revokeRowByHand(broker.ctx.store, row!.id, Date.now());
    ws.send({
      type: "send",
      id: "s1",
      targetSpec: mesh.owner.pubkey,
      priority: "next",
      nonce: "A".repeat(32),
      ciphertext: "QUJD".repeat(8),
    });
    const err = await ws.next("error");
    expect(err).toMatchObject({ code: "revoked", id: "s1" });
    expect((await ws.closed).code).toBe(4003);
  });

  it("enrolling beyond the agents-per-member cap is refused (409 limit_reached)", async () => {
    const capped = await startTestBroker({ kind, maxAgentsPerMember: 2 });
    try {
      const m = await createMesh(capped.url, makeIdentity("capper"));
      await enrollAgent(capped.url, m.owner, makeIdentity("a1"));
      await enrollAgent(capped.url, m.owner, makeIdentity("a2"));
      const third = await postJson(capped.url, "/agents", enrollBody(m.owner, makeIdentity("a3")));
      expect([third.status, errorCode(third)]).toEqual([409, "limit_reached"]);
    } finally {
      await capped.stop();
    }
  });
});
