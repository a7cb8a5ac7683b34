// Store rules of the deliveries aggregate (SPEC §3), run by both adapters: enqueue values, the two claim
// implementations side by side (one PostgreSQL/SQLite statement; SQLite's merged index reads), leases, sweeps.
import type { ClaimOptions, DeliveryRow, NewDelivery, NewMessage } from "../types.js";
import type { Dialect } from "./dialect.js";
import { exec, first, rows, type Op } from "./op.js";
import { DELIVERY_COLUMNS, toDelivery } from "./rows.js";

// ---------------------------------------------------------------- messages

/** Delivery table columns written by enqueueMessages, in deliveryValues order. */
export const DELIVERY_INSERT_COLUMNS = [
  "message_id",
  "mesh_id",
  "recipient_member_id",
  "sender_member_id",
  "target_spec",
  "priority",
  "nonce",
  "ciphertext",
  "created_at",
  "lease_until",
  "lease_owner",
] as const;

/** Re-enqueueing a stored (recipient, message id) is a no-op, so a retried batch never duplicates. */
export const DELIVERY_INSERT_CONFLICT = "ON CONFLICT (message_id, recipient_member_id) DO NOTHING";

/** One delivery's values in DELIVERY_INSERT_COLUMNS order. */
export function deliveryValues(m: NewMessage, d: NewDelivery): unknown[] {
  return [
    m.messageId,
    m.meshId,
    d.recipientMemberId,
    m.senderMemberId,
    m.targetSpec,
    m.priority,
    d.nonce,
    d.ciphertext,
    m.createdAt,
    d.lease?.until ?? null,
    d.lease?.owner ?? null,
  ];
}

/**
 * Distinct recipients of a batch, in first-seen order (the wake-up payload). Deliveries stored
 * already leased are being pushed by the broker that wrote them, so they wake nobody.
 */
export function recipientIds(messages: readonly NewMessage[]): string[] {
  const ids = new Set<string>();
  for (const m of messages) for (const d of m.deliveries) if (!d.lease) ids.add(d.recipientMemberId);
  return [...ids];
}

/** Unleased deliveries of one recipient at allowed priorities (index deliveries_unleased, in seq order). */
const UNLEASED_WHERE =
  "recipient_member_id = ? AND delivered_at IS NULL AND lease_until IS NULL AND priority IN (?, ?, ?)";
/** Deliveries of one recipient whose lease has run out (index deliveries_leased, a range on lease_until). */
const EXPIRED_WHERE =
  "recipient_member_id = ? AND delivered_at IS NULL AND lease_until IS NOT NULL AND lease_until <= ? AND priority IN (?, ?, ?)";

/**
 * The first delivery of each sender still leased to another owner (a live lease): the sender's
 * later deliveries wait behind it, so a redelivery never arrives after its successors (SPEC §3).
 */
const BLOCKED_CTE = `blocked AS MATERIALIZED (
       SELECT sender_member_id, MIN(seq) AS seq FROM deliveries
       WHERE recipient_member_id = ? AND delivered_at IS NULL AND lease_until > ? AND lease_owner <> ?
       GROUP BY sender_member_id
     )`;
const NOT_BLOCKED =
  " AND NOT EXISTS (SELECT 1 FROM blocked WHERE blocked.sender_member_id = deliveries.sender_member_id AND blocked.seq < deliveries.seq)";

function prioritySlots(o: ClaimOptions): unknown[] {
  // Three priority slots keep one SQL text per query; unused slots repeat an allowed value.
  const allowed = [...new Set(o.priorities)];
  return [0, 1, 2].map((i) => allowed[i] ?? allowed[0]);
}

function blockedParams(o: ClaimOptions): unknown[] {
  return o.behindForeignLeases ? [o.recipientMemberId, o.now, o.leaseOwner] : [];
}

/** Claimable deliveries of one recipient: never leased, or leased and expired — two index lookups merged by seq. */
function claimableSeqs(d: Dialect, behind: boolean): string {
  const filter = behind ? NOT_BLOCKED : "";
  return `WITH ${behind ? `${BLOCKED_CTE},` : ""} unleased AS MATERIALIZED (
       SELECT seq FROM deliveries ${d.indexedBy("deliveries_unleased")} WHERE ${UNLEASED_WHERE}${filter} ORDER BY seq LIMIT ? ${d.skipLocked}
     ),
     expired AS MATERIALIZED (
       SELECT seq FROM deliveries ${d.indexedBy("deliveries_leased")} WHERE ${EXPIRED_WHERE}${filter} ORDER BY seq LIMIT ? ${d.skipLocked}
     ),
     picked AS (
       SELECT seq FROM (SELECT seq FROM unleased UNION ALL SELECT seq FROM expired) AS candidates
       ORDER BY seq LIMIT ?
     )`;
}

function claimableParams(o: ClaimOptions): unknown[] {
  const read = claimReadParams(o);
  // claimReadParams puts the blocked parameters before each read; the one statement needs them once.
  const skip = blockedParams(o).length;
  return [
    ...blockedParams(o),
    ...read.unleased.slice(skip),
    ...read.expired.slice(skip),
    Math.floor(o.limit),
  ];
}

/**
 * The two halves of a claim as plain row reads (never-leased rows; expired leases), for an adapter
 * that merges them itself: on SQLite the UNION and its ordering cost ~80 µs per claim in temp
 * b-trees, against ~5 µs for each indexed read. `behind`: the ClaimOptions.behindForeignLeases form.
 */
export function claimReadSql(
  d: Dialect,
  columns: string = DELIVERY_COLUMNS,
  behind = false,
): { unleased: string; expired: string } {
  const withBlocked = behind ? `WITH ${BLOCKED_CTE} ` : "";
  const filter = behind ? NOT_BLOCKED : "";
  return {
    unleased: `${withBlocked}SELECT ${columns} FROM deliveries ${d.indexedBy("deliveries_unleased")} WHERE ${UNLEASED_WHERE}${filter} ORDER BY seq LIMIT ?`,
    expired: `${withBlocked}SELECT ${columns} FROM deliveries ${d.indexedBy("deliveries_leased")} WHERE ${EXPIRED_WHERE}${filter} ORDER BY seq LIMIT ?`,
  };
}

/** Parameters of claimReadSql's two reads (in the form `o.behindForeignLeases` selects). */
export function claimReadParams(o: ClaimOptions): { unleased: unknown[]; expired: unknown[] } {
  const limit = Math.floor(o.limit);
  const slots = prioritySlots(o);
  const blocked = blockedParams(o);
  return {
    unleased: [...blocked, o.recipientMemberId, ...slots, limit],
    expired: [...blocked, o.recipientMemberId, o.now, ...slots, limit],
  };
}

/**
 * Claims in storage order the recipient's claimable deliveries and leases them to `leaseOwner`
 * until now + leaseMs in the same statement. Rows leased to a live connection (pushes awaiting
 * client_ack) are never stepped over; with `behindForeignLeases` neither are a sender's rows leased
 * to another owner (a later row of that sender waits). On PostgreSQL each lookup skips rows another claimer holds
 * locked; on SQLite the statement runs in an IMMEDIATE transaction. Either way a delivery with a
 * live lease is never handed out twice. The lease commits without waiting for a disk flush
 * (Dialect.unflushedCommit): a crash may lose it, which only makes the row claimable again.
 */
export function* claimDeliveries(d: Dialect, o: ClaimOptions): Op<DeliveryRow[]> {
  if (o.limit <= 0 || o.priorities.length === 0) return [];
  const claimed = yield* rows(
    `${claimableSeqs(d, o.behindForeignLeases === true)}
     UPDATE deliveries SET lease_until = ?, lease_owner = ?
     WHERE seq IN (SELECT seq FROM picked) AND ${d.unflushedCommit}
     RETURNING ${DELIVERY_COLUMNS}`,
    [...claimableParams(o), o.now + o.leaseMs, o.leaseOwner],
    { prepare: true },
  );
  // RETURNING order is unspecified in both dialects; storage order is the contract.
  return claimed.map(toDelivery).sort((a, b) => a.seq - b.seq);
}

/**
 * SQLite's claim, beside claimDeliveries (PostgreSQL's one statement): claimReadSql's two indexed
 * reads merged in storage order and cut to the limit, then leased with claimLeaseSql in the same
 * IMMEDIATE transaction.
 */
export function mergeClaimable(
  unleased: readonly DeliveryRow[],
  expired: readonly DeliveryRow[],
  limit: number,
): DeliveryRow[] {
  const merged = [...unleased, ...expired];
  if (expired.length > 0) merged.sort((a, b) => a.seq - b.seq);
  return merged.slice(0, Math.floor(limit));
}

/** Leases the rows mergeClaimable picked: parameters lease_until, lease_owner, the seqs as d.anyOf's list. */
export function claimLeaseSql(d: Dialect): string {
  return `UPDATE deliveries SET lease_until = ?, lease_owner = ? WHERE ${d.anyOf("seq")}`;
}

/** Marks the recipient's rows delivered (clearing the lease); rows of other recipients are never touched. */
export function* markDelivered(
  d: Dialect,
  recipientMemberId: string,
  messageIds: readonly string[],
  now: number,
): Op<number> {
  if (messageIds.length === 0) return 0;
  // The inner lookup names no `delivered_at` condition so it can only use the (message_id,
  // recipient) unique key: with the pending index a planner short of statistics (a fresh queue
  // table on PostgreSQL) would scan the recipient's whole backlog per acknowledgement.
  return yield* exec(
    `UPDATE deliveries SET delivered_at = ?, lease_until = NULL, lease_owner = NULL
     WHERE seq IN (SELECT seq FROM deliveries WHERE ${d.anyOf("message_id")} AND recipient_member_id = ?)
       AND delivered_at IS NULL`,
    [now, d.list(messageIds), recipientMemberId],
  );
}

/**
 * Frees the owner's leases (only on these messages, when given); returns the recipients of the
 * rows released (one per row).
 */
export function* releaseLeases(d: Dialect, leaseOwner: string, messageIds?: readonly string[]): Op<string[]> {
  const only = messageIds ? ` AND ${d.anyOf("message_id")}` : "";
  const released = yield* rows(
    `UPDATE deliveries SET lease_until = NULL, lease_owner = NULL WHERE lease_owner = ? AND delivered_at IS NULL${only}
     RETURNING recipient_member_id`,
    messageIds ? [leaseOwner, d.list(messageIds)] : [leaseOwner],
  );
  return released.map((r) => String(r.recipient_member_id));
}

export function* earliestForeignLease(
  recipientMemberId: string,
  exceptOwner: string,
  now: number,
): Op<number | null> {
  const row = yield* first(
    `SELECT MIN(lease_until) AS t FROM deliveries
     WHERE recipient_member_id = ? AND delivered_at IS NULL AND lease_until > ? AND lease_owner <> ?`,
    [recipientMemberId, now, exceptOwner],
  );
  return row?.t === null || row?.t === undefined ? null : Number(row.t);
}

/**
 * Undelivered deliveries to a recipient whose priority is not in `allowed` — the ones its status
 * holds back (SPEC §3 priority gating); for the `held` count of list_peers.
 */
export function* countHeld(recipientMemberId: string, allowed: readonly string[]): Op<number> {
  const held = ["now", "next", "low"].filter((p) => !allowed.includes(p));
  if (held.length === 0) return 0;
  const row = yield* first(
    `SELECT COUNT(*) AS n FROM deliveries
     WHERE recipient_member_id = ? AND delivered_at IS NULL AND priority IN (${held.map(() => "?").join(", ")})`,
    [recipientMemberId, ...held],
  );
  return Number(row?.n ?? 0);
}

export function* countPending(recipientMemberId: string): Op<number> {
  // Two counts, each matching one partial index's predicate (unleased / leased), instead of a scan.
  const row = yield* first(
    `SELECT
       (SELECT COUNT(*) FROM deliveries WHERE recipient_member_id = ? AND delivered_at IS NULL AND lease_until IS NULL) +
       (SELECT COUNT(*) FROM deliveries WHERE recipient_member_id = ? AND delivered_at IS NULL AND lease_until IS NOT NULL)
       AS n`,
    [recipientMemberId, recipientMemberId],
  );
  return Number(row?.n ?? 0);
}

/** Rows deleted per sweep statement, so a large sweep never holds the write lock for long. */
export const SWEEP_CHUNK_ROWS = 500;

/**
 * One bounded step of the retention sweep (SPEC §3): delivered rows go at once, undelivered ones
 * once created before `olderThan` (expireStep has normally taken those already, with receipts).
 * Each half walks its own partial index (deliveries_delivered, deliveries_expiry; migration 10),
 * so a step costs the rows it deletes, not a scan of the queue. Returns how many rows it deleted
 * (up to 2 × chunk); the caller repeats the step until it deletes fewer than `chunk`, letting other
 * writers in between steps.
 */
export function* sweepStep(olderThan: number, chunk: number = SWEEP_CHUNK_ROWS): Op<number> {
  return yield* exec(
    `DELETE FROM deliveries WHERE seq IN (
       SELECT seq FROM (SELECT seq FROM deliveries WHERE delivered_at IS NOT NULL LIMIT ?) AS delivered
       UNION ALL
       SELECT seq FROM (SELECT seq FROM deliveries WHERE delivered_at IS NULL AND created_at < ? LIMIT ?) AS expired
     )`,
    [chunk, olderThan, chunk],
  );
}

/** Recipients with anything undelivered: the wake-up sent after notifications may have been missed. */
export function* pendingRecipients(): Op<string[]> {
  const result = yield* rows(
    "SELECT DISTINCT recipient_member_id FROM deliveries WHERE delivered_at IS NULL",
  );
  return result.map((r) => String(r.recipient_member_id));
}
