// Invite signatures (SPEC §2 Invites): an admin signs the payload offline; the broker and joiners verify it.
import { InvitePayloadSchema, canonicalInvite, type InvitePayload } from "@claudemesh/protocol";
import { CryptoArgumentError } from "./errors.js";
import { MALFORMED, signCanonical, verifyAllSignatures, type VerifyResult } from "./timestamped.js";

/** An invite payload before it is signed. */
export type UnsignedInvite = Omit<InvitePayload, "signature">;

const UnsignedInviteSchema = InvitePayloadSchema.omit({ signature: true });

/**
 * Signs an invite with the inviter's secret key (which must belong to `inviter_pubkey`) and
 * returns the complete payload. Every field is checked against the protocol's invite schema
 * first, so an invite this returns always decodes. Note `mesh_slug` and `broker_url` are not
 * covered by the signature (SPEC §2 canonical form).
 */
export function signInvite(fields: UnsignedInvite, secretKey: string): InvitePayload {
  const parsed = UnsignedInviteSchema.safeParse(fields);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue && issue.path.length > 0 ? `fields.${issue.path.join(".")}` : "fields";
    throw new CryptoArgumentError(path, issue ? issue.message : "is not a valid invite");
  }
  const invite = parsed.data;
  const signature = signCanonical(canonicalInvite(invite), {
    secretKey,
    signers: [invite.inviter_pubkey],
    mismatch: "is not the secret key of fields.inviter_pubkey",
  });
  return { ...invite, signature };
}

/**
 * Verifies an invite's signature by its `inviter_pubkey`: `malformed` when the payload does
 * not match the protocol's invite schema (which also keeps `|` out of its signed fields),
 * `bad_signature` when the signature fails. Invites carry an expiry instead of a signing time,
 * so there is no skew window; expiry, use count and whether the inviter is a current admin are
 * checked elsewhere (protocol's decodeInviteLink, the broker). Never throws.
 */
export function verifyInvite(payload: unknown): VerifyResult {
  const parsed = InvitePayloadSchema.safeParse(payload);
  if (!parsed.success) return MALFORMED;
  const invite = parsed.data;
  const signatures = [{ signature: invite.signature, pubkey: invite.inviter_pubkey }];
  return verifyAllSignatures(canonicalInvite(invite), signatures)
    ? { ok: true }
    : { ok: false, reason: "bad_signature" };
}
