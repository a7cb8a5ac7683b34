// Delivery receipts as SQL operations both adapters run (SPEC §3): forward-only state per (message, recipient).
//
// A queued copy is its undelivered `deliveries` row; a `receipts` row is written when that changes
// (delivered, shown, expired, revoked) and outlives the delivery row, until the receipt sweep.
import type { ReceiptState } from "@claudemesh/protocol";
import type { ReceiptChange, RecipientStatusRow, RecordReceiptsInput } from "../types.js";
import type { Dialect } from "./dialect.js";
import { exec, rows, type Op, type RawRow } from "./op.js";

const RECEIPT_INSERT_COLUMNS =
  "message_id, recipient_member_id, mesh_id, sender_member_id, state, state_at, notified";

/** The recipient's pubkey for a RETURNING list on `receipts` (the push frame names the recipient by key). */
const RECIPIENT_PUBKEY =
  "(SELECT pubkey FROM members WHERE members.id = receipts.recipient_member_id) AS recipient_pubkey";

/** Rows deleted per sweep statement (expired deliveries, old receipts). */
export const RECEIPT_SWEEP_CHUNK_ROWS = 500;

type ChangedState = ReceiptChange["state"];

function text(row: RawRow, column: string): string {
  const value = row[column];
  if (typeof value !== "string") throw new TypeError(`store row: column ${column} is not text`);
  return value;
}

function int(row: RawRow, column: string): number {
  const n = Number(row[column]);
  if (!Number.isFinite(n)) throw new TypeError(`store row: column ${column} is not a number`);
  return n;
}

/** Distinct values in first-seen order. */
function distinct(values: Iterable<string>): string[] {
  return [...new Set(values)];
}

export interface RecordedReceipts {
  changes: ReceiptChange[];
  /** Senders with changes stored unpushed (the store wakes onReceipts listeners for them). */
  waiting: string[];
}

function isTrue(value: unknown): boolean {
  return value === true || value === 1 || value === "1" || value === "t";
}

/**
 * The recipient's acks and shown reports in one transaction: (1) its undelivered copies among all
 * ids become delivered, (2) each gets a receipt (`shown` for ids reported shown: shown implies
 * delivered), (3) its `delivered` receipts among the shown ids move to `shown`. Only rows whose
 * recipient is `recipientMemberId` are ever touched, and states only move forward. A receipt is
 * stored notified when its sender is in `pushTo` (the caller pushes it).
 */
/**
 * True when recordReceipts runs exactly one statement for this input (plain acks on PostgreSQL with
 * the recipient's pubkey given), so it needs no explicit transaction: one round trip instead of three.
 */
export function recordsInOneStatement(d: Dialect, input: RecordReceiptsInput): boolean {
  return d.name === "postgres" && input.shown.length === 0 && input.recipientPubkey !== undefined;
}

export function* recordReceipts(d: Dialect, input: RecordReceiptsInput): Op<RecordedReceipts> {
  const { recipientMemberId, now } = input;
  const all = distinct([...input.delivered, ...input.shown]);
  const shown = distinct(input.shown);
  const pushTo = d.list([...(input.pushTo ?? [])]);
  const made: Array<{ row: RawRow; state: ChangedState; from: "queued" | "delivered" }> = [];
  if (all.length === 0) return { changes: [], waiting: [] };

  if (d.name === "postgres" && shown.length === 0) {
    // Plain acks on PostgreSQL: one statement (one round trip), as markDelivered was.
    const inserted = yield* rows(
      `WITH acked AS (
         UPDATE deliveries SET delivered_at = ?, lease_until = NULL, lease_owner = NULL
         WHERE seq IN (SELECT seq FROM deliveries WHERE ${d.anyOf("message_id")} AND recipient_member_id = ?)
           AND delivered_at IS NULL
         RETURNING message_id, recipient_member_id, mesh_id, sender_member_id
       )
       INSERT INTO receipts (${RECEIPT_INSERT_COLUMNS})
       SELECT message_id, recipient_member_id, mesh_id, sender_member_id, 'delivered', CAST(? AS BIGINT),
         ${d.anyOf("sender_member_id")}
       FROM acked
       ON CONFLICT (message_id, recipient_member_id) DO NOTHING
       RETURNING message_id, mesh_id, sender_member_id, notified`,
      [now, d.list(all), recipientMemberId, now, pushTo],
      { prepare: true },
    );
    for (const row of inserted) made.push({ row, state: "delivered", from: "queued" });
  } else {
    // The inner lookup uses only the (message_id, recipient) unique key, as markDelivered does.
    const acked = yield* rows(
      `UPDATE deliveries SET delivered_at = ?, lease_until = NULL, lease_owner = NULL
       WHERE seq IN (SELECT seq FROM deliveries WHERE ${d.anyOf("message_id")} AND recipient_member_id = ?)
         AND delivered_at IS NULL
       RETURNING message_id`,
      [now, d.list(all), recipientMemberId],
    );
    if (acked.length > 0) {
      const inserted = yield* rows(
        `INSERT INTO receipts (${RECEIPT_INSERT_COLUMNS})
         SELECT message_id, recipient_member_id, mesh_id, sender_member_id,
           CASE WHEN ${d.anyOf("message_id")} THEN 'shown' ELSE 'delivered' END, CAST(? AS BIGINT),
           ${d.anyOf("sender_member_id")}
         FROM deliveries WHERE ${d.anyOf("message_id")} AND recipient_member_id = ?
         ON CONFLICT (message_id, recipient_member_id) DO NOTHING
         RETURNING message_id, mesh_id, sender_member_id, state, notified`,
        [d.list(shown), now, pushTo, d.list(acked.map((r) => text(r, "message_id"))), recipientMemberId],
      );
      for (const row of inserted)
        made.push({ row, state: text(row, "state") as ChangedState, from: "queued" });
    }
    if (shown.length > 0) {
      const upgraded = yield* rows(
        `UPDATE receipts SET state = 'shown', state_at = ?, notified = ${d.anyOf("sender_member_id")}
         WHERE ${d.anyOf("message_id")} AND recipient_member_id = ? AND state = 'delivered'
         RETURNING message_id, mesh_id, sender_member_id, notified`,
        [now, pushTo, d.list(shown), recipientMemberId],
      );
      for (const row of upgraded) made.push({ row, state: "shown", from: "delivered" });
    }
  }
  if (made.length === 0) return { changes: [], waiting: [] };

  let recipientPubkey = input.recipientPubkey;
  if (recipientPubkey === undefined) {
    const member = yield* rows("SELECT pubkey FROM members WHERE id = ?", [recipientMemberId]);
    recipientPubkey = typeof member[0]?.pubkey === "string" ? member[0].pubkey : "";
  }
  return {
    changes: made.map(({ row, state, from }) => ({
      messageId: text(row, "message_id"),
      meshId: text(row, "mesh_id"),
      senderMemberId: text(row, "sender_member_id"),
      recipientMemberId,
      recipientPubkey,
      state,
      at: now,
      from,
    })),
    waiting: distinct(
      made.filter(({ row }) => !isTrue(row.notified)).map(({ row }) => text(row, "sender_member_id")),
    ),
  };
}

/** `revoked` receipts for every undelivered copy to these recipients; returns how many and the senders to wake. */
export function* markRevokedReceipts(
  d: Dialect,
  recipientMemberIds: readonly string[],
  now: number,
): Op<{ written: number; senders: string[] }> {
  if (recipientMemberIds.length === 0) return { written: 0, senders: [] };
  const written = yield* rows(
    `INSERT INTO receipts (${RECEIPT_INSERT_COLUMNS})
     SELECT message_id, recipient_member_id, mesh_id, sender_member_id, 'revoked', CAST(? AS BIGINT), false
     FROM deliveries WHERE ${d.anyOf("recipient_member_id")} AND delivered_at IS NULL
     ON CONFLICT (message_id, recipient_member_id) DO NOTHING
     RETURNING sender_member_id`,
    [now, d.list(recipientMemberIds)],
  );
  return { written: written.length, senders: distinct(written.map((r) => text(r, "sender_member_id"))) };
}

const RECEIPT_RETURNING = `message_id, recipient_member_id, mesh_id, sender_member_id, state, state_at, ${RECIPIENT_PUBKEY}`;

function toChange(row: RawRow): ReceiptChange {
  return {
    messageId: text(row, "message_id"),
    meshId: text(row, "mesh_id"),
    senderMemberId: text(row, "sender_member_id"),
    recipientMemberId: text(row, "recipient_member_id"),
    recipientPubkey: typeof row.recipient_pubkey === "string" ? row.recipient_pubkey : "",
    state: text(row, "state") as ChangedState,
    at: int(row, "state_at"),
  };
}

/**
 * Claims the sender's unpushed receipts (index receipts_unnotified), oldest first, marking them
 * pushed in the same statement; concurrent pulls (two brokers) never return the same row. The mark
 * commits without waiting for a disk flush (Dialect.unflushedCommit): a crash may lose it, which
 * only pushes those receipts again at the sender's next pull (a receipt only moves forward).
 */
export function* takeReceipts(d: Dialect, senderMemberId: string, limit: number): Op<ReceiptChange[]> {
  if (limit <= 0) return [];
  const taken = yield* rows(
    `UPDATE receipts SET notified = true
     WHERE (message_id, recipient_member_id) IN (
       SELECT message_id, recipient_member_id FROM receipts
       WHERE sender_member_id = ? AND NOT notified ORDER BY state_at LIMIT ? ${d.skipLocked}
     ) AND NOT notified AND ${d.unflushedCommit}
     RETURNING ${RECEIPT_RETURNING}`,
    [senderMemberId, Math.floor(limit)],
    { prepare: true },
  );
  return taken.map(toChange).sort((a, b) => a.at - b.at);
}

/**
 * Where the sender's messages stand, per recipient: a receipt row wins over the delivery row it
 * replaced (queued while undelivered; delivered for a row acked before receipts were recorded).
 * Reads only rows whose sender is `senderMemberId`, through the (message_id, recipient) keys.
 */
export function* messageStatus(
  d: Dialect,
  senderMemberId: string,
  messageIds: readonly string[],
  limit: number,
): Op<{ statuses: Map<string, RecipientStatusRow[]>; truncated: boolean }> {
  const statuses = new Map<string, RecipientStatusRow[]>();
  const ids = distinct(messageIds);
  if (ids.length === 0) return { statuses, truncated: false };
  const cap = Math.max(0, Math.floor(limit));
  const receipts = yield* rows(
    `SELECT r.message_id, m.pubkey, r.state, r.state_at FROM receipts r
     JOIN members m ON m.id = r.recipient_member_id
     WHERE ${d.anyOf("r.message_id")} AND r.sender_member_id = ? LIMIT ?`,
    [d.list(ids), senderMemberId, cap + 1],
  );
  const queued = yield* rows(
    `SELECT q.message_id, m.pubkey, q.delivered_at, q.created_at FROM deliveries q
     JOIN members m ON m.id = q.recipient_member_id
     WHERE ${d.anyOf("q.message_id")} AND q.sender_member_id = ? LIMIT ?`,
    [d.list(ids), senderMemberId, cap + 1],
  );
  const byKey = new Map<string, { messageId: string; row: RecipientStatusRow }>();
  for (const r of queued) {
    const delivered = r.delivered_at !== null && r.delivered_at !== undefined;
    const state: ReceiptState = delivered ? "delivered" : "queued";
    const row = {
      recipientPubkey: text(r, "pubkey"),
      state,
      at: int(r, delivered ? "delivered_at" : "created_at"),
    };
    byKey.set(`${text(r, "message_id")}|${row.recipientPubkey}`, { messageId: text(r, "message_id"), row });
  }
  for (const r of receipts) {
    const row = {
      recipientPubkey: text(r, "pubkey"),
      state: text(r, "state") as ReceiptState,
      at: int(r, "state_at"),
    };
    byKey.set(`${text(r, "message_id")}|${row.recipientPubkey}`, { messageId: text(r, "message_id"), row });
  }
  for (const { messageId, row } of byKey.values()) {
    const list = statuses.get(messageId);
    if (list) list.push(row);
    else statuses.set(messageId, [row]);
  }
  for (const list of statuses.values())
    list.sort((a, b) =>
      a.recipientPubkey < b.recipientPubkey ? -1 : a.recipientPubkey > b.recipientPubkey ? 1 : 0,
    );
  return { statuses, truncated: receipts.length > cap || queued.length > cap || byKey.size > cap };
}

/**
 * One bounded step of expiring undelivered deliveries created before `olderThan`: each leaves an
 * `expired` receipt stamped `now` and its delivery row is deleted, atomically (PostgreSQL: one
 * statement; SQLite: inside the caller's IMMEDIATE transaction). Returns the rows deleted and the
 * senders to wake.
 */
export function* expireStep(
  d: Dialect,
  olderThan: number,
  now: number,
  chunk: number = RECEIPT_SWEEP_CHUNK_ROWS,
): Op<{ deleted: number; senders: string[] }> {
  if (d.name === "postgres") {
    const gone = yield* rows(
      `WITH gone AS (
         DELETE FROM deliveries
         WHERE seq IN (SELECT seq FROM deliveries WHERE delivered_at IS NULL AND created_at < ? LIMIT ?)
           AND delivered_at IS NULL
         RETURNING message_id, recipient_member_id, mesh_id, sender_member_id
       ), kept AS (
         INSERT INTO receipts (${RECEIPT_INSERT_COLUMNS})
         SELECT message_id, recipient_member_id, mesh_id, sender_member_id, 'expired', CAST(? AS BIGINT), false
         FROM gone
         ON CONFLICT (message_id, recipient_member_id) DO NOTHING
       )
       SELECT sender_member_id FROM gone`,
      [olderThan, chunk, now],
    );
    return { deleted: gone.length, senders: distinct(gone.map((r) => text(r, "sender_member_id"))) };
  }
  const picked = yield* rows(
    "SELECT seq, sender_member_id FROM deliveries WHERE delivered_at IS NULL AND created_at < ? LIMIT ?",
    [olderThan, chunk],
  );
  if (picked.length === 0) return { deleted: 0, senders: [] };
  const seqs = JSON.stringify(picked.map((r) => int(r, "seq")));
  yield* exec(
    `INSERT INTO receipts (${RECEIPT_INSERT_COLUMNS})
     SELECT message_id, recipient_member_id, mesh_id, sender_member_id, 'expired', CAST(? AS BIGINT), false
     FROM deliveries WHERE seq IN (SELECT value FROM json_each(?))
     ON CONFLICT (message_id, recipient_member_id) DO NOTHING`,
    [now, seqs],
  );
  const deleted = yield* exec("DELETE FROM deliveries WHERE seq IN (SELECT value FROM json_each(?))", [seqs]);
  return { deleted, senders: distinct(picked.map((r) => text(r, "sender_member_id"))) };
}

/** One bounded step of the receipt sweep (index receipts_state_at). */
export function* sweepReceiptsStep(olderThan: number, chunk: number = RECEIPT_SWEEP_CHUNK_ROWS): Op<number> {
  return yield* exec(
    `DELETE FROM receipts WHERE (message_id, recipient_member_id) IN (
       SELECT message_id, recipient_member_id FROM receipts WHERE state_at < ? LIMIT ?
     )`,
    [olderThan, chunk],
  );
}

/** Senders with receipts not pushed yet: the wake-up sent after notifications may have been missed. */
export function* unnotifiedSenders(): Op<string[]> {
  const result = yield* rows("SELECT DISTINCT sender_member_id FROM receipts WHERE NOT notified");
  return result.map((r) => text(r, "sender_member_id"));
}
