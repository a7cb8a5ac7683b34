// Fast random message ids for the send hot path: 128-bit, base64url, drawn from a pooled CSPRNG buffer.
import { randomFillSync } from "node:crypto";

const ID_BYTES = 16;
/** One CSPRNG call serves this many ids (a syscall per message showed up in the broker's profile). */
const POOL_IDS = 512;

const pool = Buffer.alloc(ID_BYTES * POOL_IDS);
let offset = pool.length;

/** A fresh 128-bit random id as 22 base64url chars (matches OpaqueIdSchema). */
export function messageId(): string {
  if (offset >= pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString("base64url", offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}
