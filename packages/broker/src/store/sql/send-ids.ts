// Send idempotency (SPEC §3 "Sends are idempotent"): one row per (mesh, sender, client send id) within retention.
//
// The row is written in the same transaction as the message's deliveries; a send whose key is
// already stored writes nothing and is reported as a duplicate of the stored message id.
import type { NewMessage } from "../types.js";
import { exec, rows, type Op } from "./op.js";

export const SEND_ID_COLUMNS = "mesh_id, sender_member_id, client_id, message_id, created_at";

/** A message that carries its sender's send id (every broker send does; store fixtures may not). */
export type TrackedMessage = NewMessage & { clientId: string };

export function isTracked(m: NewMessage): m is TrackedMessage {
  return m.clientId !== undefined;
}

/** One send-id row's values in SEND_ID_COLUMNS order. */
export function sendIdValues(m: TrackedMessage): unknown[] {
  return [m.meshId, m.senderMemberId, m.clientId, m.messageId, m.createdAt];
}

/** Claims the key; changes nothing (0 rows) when it is already stored. */
export const CLAIM_SEND_ID_SQL = `INSERT INTO send_ids (${SEND_ID_COLUMNS}) VALUES (?, ?, ?, ?, ?)
  ON CONFLICT (mesh_id, sender_member_id, client_id) DO NOTHING`;

export const STORED_SEND_ID_SQL =
  "SELECT message_id FROM send_ids WHERE mesh_id = ? AND sender_member_id = ? AND client_id = ?";

/** PostgreSQL: the batch's keys as five parallel arrays (one parameter per column, any batch size). */
export function sendIdArrays(tracked: readonly TrackedMessage[]): unknown[] {
  return [
    tracked.map((m) => m.meshId),
    tracked.map((m) => m.senderMemberId),
    tracked.map((m) => m.clientId),
    tracked.map((m) => m.messageId),
    tracked.map((m) => m.createdAt),
  ];
}

/**
 * PostgreSQL: claims every key of the batch; RETURNING names the messages whose key was free.
 * `keep` is a condition on the row `s` (SEND_ID_COLUMNS) limiting the claim.
 */
export function claimSendIdsPg(first: number, keep: string): string {
  const p = (i: number) => `$${first + i}`;
  return `INSERT INTO send_ids (${SEND_ID_COLUMNS})
    SELECT * FROM unnest(${p(0)}::text[], ${p(1)}::text[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::bigint[])
      AS s (${SEND_ID_COLUMNS})
    WHERE ${keep}
    ON CONFLICT (mesh_id, sender_member_id, client_id) DO NOTHING
    RETURNING message_id`;
}

/**
 * The stored message id of each duplicate (keyed by the duplicate's own, never stored, message id).
 * Read after commit: the conflicting row was committed before our insert could skip it.
 */
export function* storedMessageIds(duplicates: readonly TrackedMessage[]): Op<Map<string, string>> {
  const found = new Map<string, string>();
  for (const m of duplicates) {
    const row = yield* rows(STORED_SEND_ID_SQL, [m.meshId, m.senderMemberId, m.clientId]);
    const stored = row[0]?.message_id;
    if (typeof stored !== "string")
      throw new Error("send id: a duplicate's stored message id vanished (swept between write and read)");
    found.set(m.messageId, stored);
  }
  return found;
}

/** One bounded step of dropping send ids past retention (index send_ids_created_at). */
export function* sweepSendIdsStep(olderThan: number, chunk: number): Op<number> {
  return yield* exec(
    `DELETE FROM send_ids WHERE (mesh_id, sender_member_id, client_id) IN (
       SELECT mesh_id, sender_member_id, client_id FROM send_ids WHERE created_at < ? LIMIT ?
     )`,
    [olderThan, chunk],
  );
}
