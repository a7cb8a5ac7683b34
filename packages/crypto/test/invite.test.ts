// Invite signatures (SPEC §2 Invites): every signed field is bound, forged or reshaped invites are refused.
import fc from "fast-check";
import { canonicalInvite, decodeInviteLink, encodeInviteLink } from "@claudemesh/protocol";
import { describe, expect, it } from "vitest";
import { randomId, signInvite, verifyDetached, verifyInvite, type UnsignedInvite } from "../src/index.js";
import { ALICE, BOB, FC, NOW, expectArgumentError, flipHex } from "./helpers.js";

const UNSIGNED: UnsignedInvite = {
  v: 1,
  mesh_id: "mesh_1",
  mesh_slug: "team-a",
  broker_url: "ws://127.0.0.1:7900",
  invite_id: "inv_0123456789",
  role: "member",
  max_uses: 5,
  expires_at: Math.floor(NOW / 1000) + 3600,
  inviter_pubkey: ALICE.publicKey,
};

describe("signInvite / verifyInvite", () => {
  it("returns the whole payload with a signature over the protocol's canonical invite string", () => {
    const invite = signInvite(UNSIGNED, ALICE.secretKey);
    expect(invite).toEqual({ ...UNSIGNED, signature: invite.signature });
    expect(verifyDetached(canonicalInvite(invite), invite.signature, ALICE.publicKey)).toBe(true);
    expect(verifyInvite(invite)).toEqual({ ok: true });
  });

  it("survives the ic://join/ link round trip", () => {
    const invite = signInvite({ ...UNSIGNED, invite_id: randomId() }, ALICE.secretKey);
    const decoded = decodeInviteLink(encodeInviteLink(invite), { now: NOW });
    expect(verifyInvite(decoded)).toEqual({ ok: true });
  });

  it("rejects an invite whose signature is by a key other than inviter_pubkey as bad_signature", () => {
    const byBob = signInvite({ ...UNSIGNED, inviter_pubkey: BOB.publicKey }, BOB.secretKey);
    expect(verifyInvite({ ...byBob, inviter_pubkey: ALICE.publicKey })).toEqual({
      ok: false,
      reason: "bad_signature",
    });
  });

  it("rejects a flipped signature bit as bad_signature", () => {
    const invite = signInvite(UNSIGNED, ALICE.secretKey);
    expect(verifyInvite({ ...invite, signature: flipHex(invite.signature, 63, 6) })).toEqual({
      ok: false,
      reason: "bad_signature",
    });
  });

  it("rejects a change to any signed field (property)", () => {
    const invite = signInvite(UNSIGNED, ALICE.secretKey);
    const change = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/).map((v) => ({ mesh_id: `${invite.mesh_id}${v}` })),
      fc
        .stringMatching(/^[A-Za-z0-9_-]{8,20}$/)
        .filter((v) => v !== invite.invite_id)
        .map((v) => ({ invite_id: v })),
      fc.constant({ role: "admin" }),
      fc
        .integer({ min: 1, max: 1_000_000 })
        .filter((n) => n !== invite.max_uses)
        .map((n) => ({ max_uses: n })),
      fc
        .integer({ min: 1, max: 2 ** 40 })
        .filter((n) => n !== invite.expires_at)
        .map((n) => ({ expires_at: n })),
      fc.constant({ inviter_pubkey: BOB.publicKey }),
    );
    fc.assert(
      fc.property(change, (c) => {
        expect(verifyInvite({ ...invite, ...c })).toEqual({ ok: false, reason: "bad_signature" });
      }),
      FC,
    );
  });

  it("does not bind mesh_slug or broker_url, as SPEC §2's canonical form leaves them out", () => {
    const invite = signInvite(UNSIGNED, ALICE.secretKey);
    expect(verifyInvite({ ...invite, mesh_slug: "other", broker_url: "wss://example.test" })).toEqual({
      ok: true,
    });
  });

  it("calls anything that is not an invite payload malformed, without throwing", () => {
    const invite = signInvite(UNSIGNED, ALICE.secretKey);
    const bad: unknown[] = [
      null,
      "ic://join/abc",
      { ...invite, v: 2 },
      { ...invite, signature: invite.signature.slice(2) },
      { ...invite, inviter_pubkey: invite.inviter_pubkey.toUpperCase() },
      { ...invite, role: "owner" },
      { ...invite, mesh_id: "a|b" },
      { ...invite, max_uses: 0 },
      { ...invite, expires_at: 1.5 },
    ];
    for (const value of bad)
      expect(verifyInvite(value), JSON.stringify(value)).toEqual({ ok: false, reason: "malformed" });
  });

  it("refuses to sign with a key that is not inviter_pubkey's, or fields the schema rejects, naming the argument", () => {
    expectArgumentError(() => signInvite(UNSIGNED, BOB.secretKey), "secretKey");
    expectArgumentError(() => signInvite(UNSIGNED, "00"), "secretKey");
    expectArgumentError(
      () => signInvite({ ...UNSIGNED, invite_id: "short" }, ALICE.secretKey),
      "fields.invite_id",
    );
    expectArgumentError(() => signInvite({ ...UNSIGNED, mesh_id: "a|b" }, ALICE.secretKey), "fields.mesh_id");
    expectArgumentError(() => signInvite({ ...UNSIGNED, max_uses: 0 }, ALICE.secretKey), "fields.max_uses");
    expectArgumentError(() => signInvite(null as never, ALICE.secretKey), "fields");
  });
});
