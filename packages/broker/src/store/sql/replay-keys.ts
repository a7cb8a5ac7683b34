// Replay claims of signed requests (SPEC §2, §3 check 5): one row per accepted signature hash, kept until the end of its window.
//
// A claim is one statement on both stores: a new key is inserted; an existing key is taken over
// only when its row has expired, so a live row makes the statement change nothing (a replay).
// On PostgreSQL the conflicting row's lock serialises concurrent claimers of one key; on SQLite
// the statement runs in an IMMEDIATE transaction. Either way exactly one claimer changes a row.
import { exec, type Op } from "./op.js";

/** Rows dropped per sweep step (one short write each, so claims interleave). */
export const REPLAY_SWEEP_CHUNK_ROWS = 500;

/**
 * Records `key` until `expiresAt` unless a live (not yet expired at `now`) row holds it.
 * Changes 1 row when the claim is ours, 0 when it is a replay.
 */
export const CLAIM_REPLAY_KEY_SQL = `INSERT INTO replay_keys (replay_key, expires_at) VALUES (?, ?)
  ON CONFLICT (replay_key) DO UPDATE SET expires_at = excluded.expires_at
  WHERE replay_keys.expires_at < ?`;

/** True when the claim is ours; false when a live row already holds `key`. */
export function* claimReplayKey(key: string, expiresAt: number, now: number): Op<boolean> {
  return (yield* exec(CLAIM_REPLAY_KEY_SQL, [key, expiresAt, now])) === 1;
}

/** Gives a claim back: the request failed for a reason that was not the client's. */
export function* releaseReplayKey(key: string): Op<void> {
  yield* exec("DELETE FROM replay_keys WHERE replay_key = ?", [key]);
}

/** One bounded step of dropping rows whose window ended before `now` (index replay_keys_expires_at). */
export function* sweepReplayKeysStep(now: number, chunk: number = REPLAY_SWEEP_CHUNK_ROWS): Op<number> {
  return yield* exec(
    `DELETE FROM replay_keys WHERE replay_key IN (
       SELECT replay_key FROM replay_keys WHERE expires_at < ? LIMIT ?
     )`,
    [now, chunk],
  );
}
