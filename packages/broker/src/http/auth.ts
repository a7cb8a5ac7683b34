// Signature-result mapping and the creation-token check for signed HTTP routes (SPEC §2).
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { HttpError } from "./errors.js";

export type VerifyResult = { ok: true } | { ok: false; reason: string };

const SIGNATURE_FAILURES: Readonly<Record<string, "timestamp_skew" | "malformed" | "bad_signature">> = {
  timestamp_skew: "timestamp_skew",
  malformed: "malformed",
};

/** Throws the wire error for a failed crypto verification; `who` names the signer for the message. */
export function assertVerified(result: VerifyResult, who: string): void {
  if (result.ok) return;
  const code = SIGNATURE_FAILURES[result.reason] ?? "bad_signature";
  const hint =
    code === "timestamp_skew"
      ? "check the system clock and sign again"
      : code === "malformed"
        ? "the signed fields are malformed"
        : "it does not verify against the given public key";
  throw new HttpError(code, `${who} signature rejected: ${hint}`);
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/**
 * When a creation token is configured, POST /meshes needs `Authorization: Bearer <token>` (SPEC §2).
 * Compared in constant time over digests so neither content nor length leaks through timing.
 * Answers 401 with `WWW-Authenticate: Bearer` (RFC 6750 §3) and code `unauthorized`.
 */
export function assertCreationToken(req: IncomingMessage, token: string | null): void {
  if (token === null) return;
  const header = req.headers.authorization ?? "";
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  const ok = match?.[1] !== undefined && timingSafeEqual(digest(match[1]), digest(token));
  if (!ok)
    throw new HttpError(
      "unauthorized",
      "this broker requires a mesh-creation token: send Authorization: Bearer <token> (ask the broker's operator)",
      { status: 401, headers: { "www-authenticate": 'Bearer realm="claudemesh"' } },
    );
}
