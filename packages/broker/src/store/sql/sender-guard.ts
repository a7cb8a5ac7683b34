// The sender check of a send (SPEC §2: no send of a revoked key is accepted once its revocation has
// committed): part of the enqueue write itself, so it costs no store round trip of its own.
//
// A message is stored only while its sender's member row — and, for an agent, its parent's — is not
// revoked, read inside the enqueue transaction (SQLite: the IMMEDIATE transaction that serialises every
// writer; PostgreSQL: in the enqueue statement, with the rows locked FOR SHARE so a concurrent
// revocation's UPDATE waits for the enqueue to commit, or the enqueue sees the revocation).
import type { NewMessage } from "../types.js";
import type { Dialect } from "./dialect.js";

/** The distinct senders of a batch, in first-seen order. */
export function senderIds(messages: readonly NewMessage[]): string[] {
  return [...new Set(messages.map((m) => m.senderMemberId))];
}

/**
 * CTEs `senders` (the batch's sender rows and their parents, locked FOR SHARE in id order, so two
 * transactions always take them in one order) and `live` (the senders neither revoked nor under a
 * revoked parent). `batchSenders` is a query naming the batch's sender ids. PostgreSQL only.
 */
export function liveSenderCtesPg(batchSenders: string): string {
  return `senders AS (
      SELECT id, parent_member_id, revoked_at FROM members
      WHERE id IN (${batchSenders})
         OR id IN (SELECT parent_member_id FROM members WHERE id IN (${batchSenders}))
      ORDER BY id FOR SHARE
    ),
    live AS (
      SELECT s.id FROM senders s LEFT JOIN senders p ON p.id = s.parent_member_id
      WHERE s.id IN (${batchSenders}) AND s.revoked_at IS NULL AND p.revoked_at IS NULL
    )`;
}

/**
 * Which of a list of sender ids (one `anyOf` list parameter) may send now: the rows `id`. SQLite's
 * form; PostgreSQL checks in the enqueue statement itself (liveSenderCtesPg).
 */
export function liveSendersSql(d: Dialect): string {
  return `SELECT m.id FROM members m LEFT JOIN members p ON p.id = m.parent_member_id
    WHERE ${d.anyOf("m.id")} AND m.revoked_at IS NULL AND p.revoked_at IS NULL`;
}
