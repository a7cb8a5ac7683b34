// The creation-token check of POST /meshes (SPEC §2).
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { HttpError } from "./errors.js";

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
