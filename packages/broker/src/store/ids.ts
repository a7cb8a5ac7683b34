// Time-ordered message ids: new rows append to the (message_id, recipient) index instead of
// landing on random pages, which doubles SQLite's batch insert rate (store/README.md).
import { randomBytes } from "node:crypto";

/** 48-bit epoch ms reaches year 10889; 12 hex digits keep lexical order = time order. */
const TIME_HEX_DIGITS = 12;

/**
 * `<12 hex ms timestamp><16 hex random>` (28 chars, a valid protocol OpaqueId). Ids from the same
 * millisecond share a prefix, so they still cluster in the index; 64 random bits keep them unique.
 */
export function timeOrderedId(now: number = Date.now()): string {
  if (!Number.isSafeInteger(now) || now < 0)
    throw new RangeError("timeOrderedId: now must be a non-negative integer (epoch ms)");
  return now.toString(16).padStart(TIME_HEX_DIGITS, "0") + randomBytes(8).toString("hex");
}
