// Invite links: `ic://join/<base64url(JSON)>` encode/decode with one clear error per failure (SPEC §2 Invites).
import { INVITE_PREFIX } from "./constants.js";
import { base64urlDecodeText, base64urlEncodeText } from "./base64url.js";
import { describeIssues } from "./parse.js";
import { InvitePayloadSchema, type InvitePayload } from "./http-schemas.js";

export type InviteErrorReason = "bad_prefix" | "bad_base64" | "bad_json" | "bad_shape" | "expired";

/** A local (never on the wire as-is) error explaining why an invite link cannot be used. */
export class InviteError extends Error {
  override readonly name = "InviteError";
  /** The wire code the broker would answer with for the same problem. */
  readonly code: "invite_invalid" | "invite_expired";
  constructor(
    readonly reason: InviteErrorReason,
    message: string,
  ) {
    super(message);
    this.code = reason === "expired" ? "invite_expired" : "invite_invalid";
  }
}

/**
 * Encodes a signed invite payload as an `ic://join/…` link. The payload is checked and reduced to
 * the schema's fields first, so a malformed invite is never handed out and no stray property of
 * the caller's object (a secret key, say) can travel in a link (SPEC §2 Invites). Throws
 * InviteError `bad_shape`.
 */
export function encodeInviteLink(payload: InvitePayload): string {
  return INVITE_PREFIX + base64urlEncodeText(JSON.stringify(parseInvitePayload(payload)));
}

/** Checks a decoded (or literal) payload's shape; throws InviteError `bad_shape`. */
export function parseInvitePayload(value: unknown): InvitePayload {
  const result = InvitePayloadSchema.safeParse(value);
  if (!result.success) {
    throw new InviteError("bad_shape", `invite payload has the wrong shape: ${describeIssues(result.error)}`);
  }
  return result.data;
}

/** Throws InviteError `expired` when `expires_at` (unix seconds) is not in the future at `nowMs`. */
export function assertInviteNotExpired(payload: InvitePayload, nowMs: number = Date.now()): void {
  if (payload.expires_at * 1000 <= nowMs) {
    const when = new Date(payload.expires_at * 1000).toISOString();
    throw new InviteError(
      "expired",
      `invite expired at ${when}; ask an admin of "${payload.mesh_slug}" for a new one`,
    );
  }
}

export interface DecodeInviteOptions {
  /** Clock for the expiry check; default Date.now(). */
  now?: number;
  /** Skip the expiry check (the broker re-checks it; tools may want to show an expired invite). */
  allowExpired?: boolean;
}

/**
 * Decodes an `ic://join/…` link into its payload. Checks prefix, base64url, JSON, shape and expiry,
 * in that order, throwing InviteError with the failing reason. Does not verify the signature
 * (that needs crypto; see @claudemesh/crypto verifyInvite).
 */
export function decodeInviteLink(link: string, options: DecodeInviteOptions = {}): InvitePayload {
  const trimmed = link.trim();
  if (!trimmed.startsWith(INVITE_PREFIX)) {
    throw new InviteError("bad_prefix", `invite link must start with ${INVITE_PREFIX}`);
  }
  const encoded = trimmed.slice(INVITE_PREFIX.length);
  if (encoded.length === 0 || encoded.length > 8192) {
    throw new InviteError("bad_base64", "invite link has no payload after ic://join/ (or one too long)");
  }
  const json = base64urlDecodeText(encoded);
  if (json === null) throw new InviteError("bad_base64", "invite link payload is not valid base64url");
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new InviteError("bad_json", "invite link payload is not valid JSON");
  }
  const payload = parseInvitePayload(value);
  if (!options.allowExpired) assertInviteNotExpired(payload, options.now);
  return payload;
}
