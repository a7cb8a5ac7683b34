// Reading why a broker connection ended: which closes are fatal (no reconnect) and what to tell the person (SPEC §3).
import { CLOSE_CODES } from "@claudemesh/protocol";
import { ClientError } from "./errors.js";

/** Who this client is, for messages that tell a person what to fix. */
export interface IdentityLabel {
  httpBase: string;
  meshSlug: string;
  memberId: string;
  pubkey: string;
}

/**
 * Handshake rejections that a retry cannot fix (SPEC §3 checks 1–4). `replay` (a fresh
 * timestamp fixes it) and `capacity` (a slot may free up) are retried with backoff instead.
 */
export const FATAL_HANDSHAKE_CODES = [
  "timestamp_skew",
  "malformed",
  "bad_signature",
  "unauthorized",
  "revoked",
] as const;
type FatalHandshakeCode = (typeof FATAL_HANDSHAKE_CODES)[number];

const FATAL_SET: ReadonlySet<string> = new Set(FATAL_HANDSHAKE_CODES);

function isFatalHandshake(code: string): code is FatalHandshakeCode {
  return FATAL_SET.has(code);
}

function short(pubkey: string): string {
  return pubkey.slice(0, 8);
}

/** The one-line explanation for a fatal hello rejection. */
export function handshakeRejectionMessage(code: FatalHandshakeCode, who: IdentityLabel): string {
  const mesh = `mesh "${who.meshSlug}"`;
  switch (code) {
    case "unauthorized":
      return `broker at ${who.httpBase} does not know this identity (${short(who.pubkey)}…) as member ${who.memberId} of ${mesh} — it may have been removed or the config points at another broker; re-join with \`claudemesh join <invite>\``;
    case "revoked":
      return `this identity (${short(who.pubkey)}…) was revoked from ${mesh} — ask a mesh admin for a new invite`;
    case "bad_signature":
      return `broker at ${who.httpBase} rejected the hello signature for ${mesh} — the stored secret key does not match its public key; re-join the mesh`;
    case "timestamp_skew":
      return `broker at ${who.httpBase} rejected the hello: this machine's clock and the broker's differ by more than 60 s — fix the system clock (NTP)`;
    case "malformed":
      return `broker at ${who.httpBase} rejected the hello as malformed — the client and broker versions may differ`;
  }
}

export interface CloseVerdict {
  /** Set when the client must stop reconnecting; the error explains why. */
  fatal?: ClientError;
  /** Short reason for logs and connect() timeouts, e.g. "closed 1006". */
  description: string;
}

/**
 * Classifies a socket close. `handshakeCode` is the code of an error frame received before
 * hello_ack (the broker sends it right before closing with 1008).
 */
export function classifyClose(
  code: number,
  reason: string,
  handshakeCode: string | null,
  who: IdentityLabel,
): CloseVerdict {
  const rejection = handshakeCode ?? (code === CLOSE_CODES.policyViolation ? reason : null);
  if (rejection !== null && isFatalHandshake(rejection)) {
    return {
      fatal: new ClientError(rejection, handshakeRejectionMessage(rejection, who), { fatal: true }),
      description: `hello rejected: ${rejection}`,
    };
  }
  if (code === CLOSE_CODES.replaced) {
    return {
      fatal: new ClientError(
        "replaced",
        `another session connected to ${who.httpBase} as this identity (${short(who.pubkey)}…) in mesh "${who.meshSlug}" and replaced this one — not reconnecting; give each session its own name`,
        { fatal: true },
      ),
      description: "replaced by another session",
    };
  }
  if (code === CLOSE_CODES.revoked) {
    return {
      fatal: new ClientError("revoked", handshakeRejectionMessage("revoked", who), { fatal: true }),
      description: "revoked",
    };
  }
  if (rejection !== null && rejection !== "")
    return { description: `hello rejected: ${rejection} (will retry)` };
  return {
    description: reason === "" ? `connection closed (${code})` : `connection closed (${code} ${reason})`,
  };
}
