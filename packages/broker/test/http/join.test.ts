// POST /join - invites: tampered, expired, wrong inviter, exhausted under concurrency, idempotent re-join (SPEC §2 Invites).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeInviteLink } from "@claudemesh/protocol";
import { signInvite } from "@claudemesh/crypto";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { postJson } from "../helpers/http.js";
import {
  createMesh,
  enrollAgent,
  joinBody,
  joinMesh,
  makeIdentity,
  makeInvite,
  type Identity,
  type TestMesh,
} from "../helpers/identity.js";
import { STORE_KINDS } from "../helpers/stores.js";

function errorCode(res: { json: unknown }): string | undefined {
  return (res.json as { error?: { code?: string } } | undefined)?.error?.code;
}

describe.each(STORE_KINDS)("POST /join (%s)", (kind) => {
  let broker: TestBroker;
  let mesh: TestMesh;
  beforeAll(async () => {
    broker = await startTestBroker({ kind });
    mesh = await createMesh(broker.url, makeIdentity("owner"));
  });
  afterAll(async () => {
    await broker?.stop();
  });

  const join = (
    invite: { payload: Parameters<typeof joinBody>[1]; link: string },
    joiner: Identity,
    as: "link" | "payload" = "link",
  ) =>
    postJson(
      broker.url,
      "/join",
      joinBody(as === "link" ? invite.link : invite.payload, invite.payload, joiner),
    );

  it("admits a joiner with the invite's role and audits it; the payload object works as well as the link", async () => {
    const bob = makeIdentity("bob");
    const res = await join(makeInvite(mesh, mesh.owner), bob);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ ok: true, mesh_id: mesh.meshId, role: "member", mesh_slug: mesh.slug });
    const row = await broker.ctx.store.getMember(mesh.meshId, bob.pubkey);
    expect(row?.id).toBe((res.json as { member_id: string }).member_id);
    expect(
      (await broker.ctx.store.listAudit(mesh.meshId, 50)).some(
        (a) => a.action === "member.join" && a.actorPubkey === bob.pubkey,
      ),
    ).toBe(true);

    const admin = await join(
      makeInvite(mesh, mesh.owner, { role: "admin" }),
      makeIdentity("carol"),
      "payload",
    );
    expect(admin.json).toMatchObject({ ok: true, role: "admin" });
  });

  it("is idempotent for an already admitted key and consumes no use", async () => {
    const invite = makeInvite(mesh, mesh.owner, { maxUses: 2 });
    const dave = makeIdentity("dave");
    const first = await join(invite, dave);
    const again = await join(invite, dave); // fresh signature, same key
    expect(again.status).toBe(200);
    expect((again.json as { member_id: string }).member_id).toBe(
      (first.json as { member_id: string }).member_id,
    );
    expect((await join(invite, makeIdentity("erin"))).status).toBe(200); // the second use is still there
    expect(errorCode(await join(invite, makeIdentity("frank")))).toBe("invite_exhausted");
  });

  it("admits exactly one of 10 concurrent joins on a 1-use invite; the others get 410 invite_exhausted", async () => {
    const fresh = await createMesh(broker.url, makeIdentity("owner2"));
    const invite = makeInvite(fresh, fresh.owner, { maxUses: 1 });
    const joiners = Array.from({ length: 10 }, (_, i) => makeIdentity(`racer${i}`));
    const results = await Promise.all(joiners.map((j) => join(invite, j)));
    const ok = results.filter((r) => r.status === 200);
    const exhausted = results.filter((r) => r.status === 410 && errorCode(r) === "invite_exhausted");
    expect(ok).toHaveLength(1);
    expect(exhausted).toHaveLength(9);
    const members = (await broker.ctx.store.listMembers(fresh.meshId)).filter((m) => m.revokedAt === null);
    expect(members).toHaveLength(2); // owner + the one winner
  });

  it("rejects an invite whose signed fields were altered (400 invite_invalid)", async () => {
    const { payload } = makeInvite(mesh, mesh.owner, { maxUses: 1 });
    const tampered = { ...payload, max_uses: 1000 };
    const res = await join({ payload: tampered, link: encodeInviteLink(tampered) }, makeIdentity("mallory"));
    expect(res.status).toBe(400);
    expect(errorCode(res)).toBe("invite_invalid");
    expect(await broker.ctx.store.getMember(mesh.meshId, tampered.inviter_pubkey)).not.toBeNull();
  });

  it.each([
    ["a link with a wrong prefix", "http://join/abc"],
    ["a link that is not base64url", "ic://join/%%%"],
    ["a link whose payload is not an invite", `ic://join/${Buffer.from('{"v":1}').toString("base64url")}`],
    ["a JSON text that is not an invite", '{"hello":1}'],
  ])("rejects %s (400 invite_invalid)", async (_label, link) => {
    const { payload } = makeInvite(mesh, mesh.owner);
    const res = await join({ payload, link }, makeIdentity("x"));
    expect(res.status).toBe(400);
    expect(errorCode(res)).toBe("invite_invalid");
  });

  it("rejects an expired invite (410 invite_expired) and admits nobody", async () => {
    const invite = makeInvite(mesh, mesh.owner, { expiresAt: Math.floor(Date.now() / 1000) - 5 });
    const late = makeIdentity("late");
    const res = await join(invite, late);
    expect(res.status).toBe(410);
    expect(errorCode(res)).toBe("invite_expired");
    expect(await broker.ctx.store.getMember(mesh.meshId, late.pubkey)).toBeNull();
  });

  it("rejects invites signed by a non-member, a non-admin member, an agent, or a revoked admin", async () => {
    const plain = await joinMesh(
      broker.url,
      makeInvite(mesh, mesh.owner, { role: "member" }),
      makeIdentity("plain"),
    );
    const agent = await enrollAgent(broker.url, mesh.owner, makeIdentity("owner-agent"));
    const revokedAdmin = await joinMesh(
      broker.url,
      makeInvite(mesh, mesh.owner, { role: "admin" }),
      makeIdentity("exadmin"),
    );
    await broker.ctx.store.revokeMember(revokedAdmin.memberId, Date.now());
    const outsider = makeIdentity("outsider");
    for (const signer of [outsider, plain, agent, revokedAdmin]) {
      const joiner = makeIdentity("j");
      const res = await join(makeInvite(mesh, signer), joiner);
      expect(res.status, signer.name).toBe(400);
      expect(errorCode(res), signer.name).toBe("invite_invalid");
      expect(await broker.ctx.store.getMember(mesh.meshId, joiner.pubkey)).toBeNull();
    }
  });

  it("rejects an admin's invite for another mesh, or with a slug that does not match", async () => {
    const other = await createMesh(broker.url, makeIdentity("other-owner"));
    // owner of `mesh` is not a member of `other`
    const cross = makeInvite(other, mesh.owner);
    expect(errorCode(await join(cross, makeIdentity("x")))).toBe("invite_invalid");
    const wrongSlug = makeInvite(mesh, mesh.owner, { meshSlug: other.slug });
    expect(errorCode(await join(wrongSlug, makeIdentity("y")))).toBe("invite_invalid");
    const unknownMesh = makeInvite(mesh, mesh.owner, { meshId: "no-such-mesh-id" });
    expect(errorCode(await join(unknownMesh, makeIdentity("z")))).toBe("invite_invalid");
  });

  it("rejects a joiner signature that does not verify, or is over another invite (401 bad_signature)", async () => {
    const invite = makeInvite(mesh, mesh.owner);
    const joiner = makeIdentity("j");
    const body = joinBody(invite.link, invite.payload, joiner);
    const forged = { ...body, signature: joinBody(invite.link, invite.payload, makeIdentity("k")).signature };
    const res = await postJson(broker.url, "/join", forged);
    expect(res.status).toBe(401);
    expect(errorCode(res)).toBe("bad_signature");
    const otherInvite = makeInvite(mesh, mesh.owner);
    const swapped = { ...joinBody(otherInvite.link, otherInvite.payload, joiner), invite: invite.link };
    expect(errorCode(await postJson(broker.url, "/join", swapped))).toBe("bad_signature");
    expect(await broker.ctx.store.getMember(mesh.meshId, joiner.pubkey)).toBeNull();
  });

  it("rejects a joiner timestamp outside the window (401 timestamp_skew)", async () => {
    const invite = makeInvite(mesh, mesh.owner);
    const res = await postJson(
      broker.url,
      "/join",
      joinBody(invite.link, invite.payload, makeIdentity("j"), Date.now() - 120_000),
    );
    expect(res.status).toBe(401);
    expect(errorCode(res)).toBe("timestamp_skew");
  });

  it("judges the pipeline before the invite's signature (docs/CONFIG.md order)", async () => {
    const { payload } = makeInvite(mesh, mesh.owner);
    const tampered = { ...payload, max_uses: 1000 };
    const link = encodeInviteLink(tampered);
    // window before the invite's signature
    const stale = joinBody(link, tampered, makeIdentity("s"), Date.now() - 120_000);
    expect(errorCode(await postJson(broker.url, "/join", stale))).toBe("timestamp_skew");
    // the joiner's signature before the invite's
    const body = joinBody(link, tampered, makeIdentity("t"));
    const forged = { ...body, signature: joinBody(link, tampered, makeIdentity("u")).signature };
    expect(errorCode(await postJson(broker.url, "/join", forged))).toBe("bad_signature");
    // a forged invite under an honest joiner signature is the route's own check, after the replay claim
    const honest = joinBody(link, tampered, makeIdentity("v"));
    expect(errorCode(await postJson(broker.url, "/join", honest))).toBe("invite_invalid");
    expect(errorCode(await postJson(broker.url, "/join", honest))).toBe("replay");
  });

  it("calls an invite that does not decode invite_invalid even when the timestamp is stale (shape step)", async () => {
    const { payload } = makeInvite(mesh, mesh.owner);
    const body = joinBody("ic://join/%%%", payload, makeIdentity("w"), Date.now() - 120_000);
    const res = await postJson(broker.url, "/join", body);
    expect(res.status).toBe(400);
    expect(errorCode(res)).toBe("invite_invalid");
  });

  it("rejects the very same signed join twice (401 replay)", async () => {
    const invite = makeInvite(mesh, mesh.owner, { maxUses: 5 });
    const body = joinBody(invite.link, invite.payload, makeIdentity("r"));
    expect((await postJson(broker.url, "/join", body)).status).toBe(200);
    const again = await postJson(broker.url, "/join", body);
    expect(again.status).toBe(401);
    expect(errorCode(again)).toBe("replay");
  });

  it("refuses a revoked key (403 revoked), even with a fresh invite", async () => {
    const gone = await joinMesh(broker.url, makeInvite(mesh, mesh.owner), makeIdentity("gone"));
    await broker.ctx.store.revokeMember(gone.memberId, Date.now());
    const res = await join(makeInvite(mesh, mesh.owner), gone);
    expect(res.status).toBe(403);
    expect(errorCode(res)).toBe("revoked");
  });

  it("rejects a join body with wrong types (400 malformed)", async () => {
    const invite = makeInvite(mesh, mesh.owner);
    const body = joinBody(invite.link, invite.payload, makeIdentity("j"));
    for (const bad of [
      { ...body, invite: 42 },
      { ...body, pubkey: "zz" },
      { ...body, display_name: "" },
      { ...body, signature: null },
    ]) {
      const res = await postJson(broker.url, "/join", bad);
      expect(res.status).toBe(400);
      expect(errorCode(res)).toBe("malformed");
    }
  });

  it("never lets a signature by a key other than inviter_pubkey pass as the invite", async () => {
    const outsider = makeIdentity("outsider");
    const { payload } = makeInvite(mesh, outsider);
    const claimed = { ...payload, inviter_pubkey: mesh.owner.pubkey };
    const res = await join({ payload: claimed, link: encodeInviteLink(claimed) }, makeIdentity("j"));
    expect(errorCode(res)).toBe("invite_invalid");
    // and a properly signed copy still works
    const good = signInvite({ ...claimed, invite_id: "fresh-invite-01" }, mesh.owner.secretKey);
    expect((await join({ payload: good, link: encodeInviteLink(good) }, makeIdentity("k"))).status).toBe(200);
  });
});
