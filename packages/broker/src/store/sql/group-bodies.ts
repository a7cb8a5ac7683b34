// Group message bodies (SPEC §4 revision 2): one row per `*` / `#name` message holding the body and signature, shared by its deliveries.
//
// Each recipient's deliveries row keeps routing, lease and its own sealed key (in nonce/ciphertext);
// the body is read next to it by the claim (DELIVERY_COLUMNS) and swept once no delivery names it.
import type { NewMessage } from "../types.js";
import { exec, type Op } from "./op.js";
import type { TrackedMessage } from "./send-ids.js";

/** message_bodies columns, in bodyValues order. */
export const BODY_COLUMNS = "message_id, mesh_id, nonce, ciphertext, sig, created_at";

/** A message that carries a group body. */
export type GroupMessage = NewMessage & { body: NonNullable<NewMessage["body"]> };

export function isGroup(m: NewMessage): m is GroupMessage {
  return m.body !== undefined;
}

/** One body row's values in BODY_COLUMNS order. */
export function bodyValues(m: GroupMessage): unknown[] {
  return [m.messageId, m.meshId, m.body.nonce, m.body.ciphertext, m.body.sig, m.createdAt];
}

/** Re-storing a message id is a no-op (a retried batch), as for its deliveries. */
export const INSERT_BODY_SQL = `INSERT INTO message_bodies (${BODY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (message_id) DO NOTHING`;

/** PostgreSQL: the bodies of a batch as six parallel arrays (one parameter per column). */
export function bodyArrays(messages: readonly GroupMessage[]): unknown[] {
  return [
    messages.map((m) => m.messageId),
    messages.map((m) => m.meshId),
    messages.map((m) => m.body.nonce),
    messages.map((m) => m.body.ciphertext),
    messages.map((m) => m.body.sig),
    messages.map((m) => m.createdAt),
  ];
}

/**
 * PostgreSQL: inserts the bodies bound at $first…$first+5 (bodyArrays). `keep` is a condition on
 * `b.message_id` limiting the insert to messages whose send id was free.
 */
export function insertBodiesPg(first: number, keep: string): string {
  const p = (i: number) => `$${first + i}`;
  return `INSERT INTO message_bodies (${BODY_COLUMNS})
    SELECT * FROM unnest(${p(0)}::text[], ${p(1)}::text[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::text[], ${p(5)}::bigint[])
      AS b (message_id, mesh_id, nonce, ciphertext, sig, created_at)
    WHERE ${keep}
    ON CONFLICT (message_id) DO NOTHING`;
}

/** The group messages of a batch that are stored (send id free, or untracked). */
export function storedGroups(
  messages: readonly NewMessage[],
  isStored: (m: NewMessage) => boolean = () => true,
): GroupMessage[] {
  return messages.filter(isGroup).filter(isStored);
}

/** Tracked group messages only (for the PostgreSQL single-statement path). */
export type TrackedGroupMessage = GroupMessage & TrackedMessage;

/**
 * Body columns for a deliveries row (scalar reads through the message_bodies primary key): null
 * for a direct copy and for fan-out copies queued before migration 8.
 */
export const BODY_OF_DELIVERY_COLUMNS =
  "(SELECT nonce FROM message_bodies WHERE message_bodies.message_id = deliveries.message_id) AS body_nonce, " +
  "(SELECT ciphertext FROM message_bodies WHERE message_bodies.message_id = deliveries.message_id) AS body_ciphertext, " +
  "(SELECT sig FROM message_bodies WHERE message_bodies.message_id = deliveries.message_id) AS body_sig";

/**
 * One bounded step of the body sweep: a body goes once no delivery row names it any more (every
 * copy delivered and swept, expired or revoked), or once past retention. Uses the deliveries
 * (message_id, recipient) key for the existence test.
 */
export function* sweepBodiesStep(olderThan: number, chunk: number): Op<number> {
  return yield* exec(
    `DELETE FROM message_bodies WHERE message_id IN (
       SELECT message_id FROM message_bodies
       WHERE created_at < ?
          OR NOT EXISTS (SELECT 1 FROM deliveries WHERE deliveries.message_id = message_bodies.message_id)
       LIMIT ?
     )`,
    [olderThan, chunk],
  );
}
