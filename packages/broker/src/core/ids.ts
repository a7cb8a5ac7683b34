// Message ids for the send hot path: time-ordered (append-friendly index inserts) with 64 random bits from a pooled CSPRNG buffer.
import { randomFillSync } from "node:crypto";

const RANDOM_BYTES = 8;
/** One CSPRNG call serves this many ids (a syscall per message showed up in the broker's profile). */
const POOL_IDS = 1024;
/** 12 hex digits of epoch ms last until the year 10889. */
const TIME_HEX_DIGITS = 12;

const pool = Buffer.alloc(RANDOM_BYTES * POOL_IDS);
let offset = pool.length;

/**
 * `<12 hex ms timestamp><16 hex random>` — the layout of the store's `timeOrderedId()` (see
 * store/README.md: random ids dirty a random page of the delivery key per insert and halve SQLite's
 * batch rate), 28 chars, a valid protocol OpaqueId. 64 random bits keep ids of one millisecond unique.
 */
export function messageId(now: number): string {
  if (offset >= pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const random = pool.toString("hex", offset, offset + RANDOM_BYTES);
  offset += RANDOM_BYTES;
  return Math.max(0, Math.floor(now)).toString(16).padStart(TIME_HEX_DIGITS, "0") + random;
}

/**
 * `bytes` CSPRNG bytes as base64url (a protocol OpaqueId) from the same pool: the connection and
 * presence ids every hello makes (one CSPRNG call per id showed up in the handshake profile).
 */
export function pooledRandomId(bytes = 16): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString("base64url", offset, offset + bytes);
  offset += bytes;
  return id;
}
