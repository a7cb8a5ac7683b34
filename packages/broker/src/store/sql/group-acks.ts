// Acks of many recipients in one transaction (SPEC §3 client_ack): a broadcast's copies are acked together, one statement set for all.
//
// recordReceipts (receipts.ts) handles one recipient; here the plain acks of every recipient of a
// batch become one set-based update + receipt insert keyed by (message_id, recipient) pairs, and
// any shown reports run recordReceipts per recipient inside the same transaction.
import type { ReceiptChange, RecordReceiptsInput } from "../types.js";
import type { Dialect } from "./dialect.js";
import { rows, type Op, type RawRow } from "./op.js";
import { recordReceipts, type RecordedReceipts } from "./receipts.js";

const RECEIPT_INSERT_COLUMNS =
  "message_id, recipient_member_id, mesh_id, sender_member_id, state, state_at, notified";

/** (message id, recipient member id) pairs as a row source with those two column names. */
function pairsSource(d: Dialect): string {
  return d.name === "postgres"
    ? "SELECT * FROM unnest(?::text[], ?::text[]) AS p (message_id, recipient_member_id)"
    : "SELECT json_extract(value, '$[0]') AS message_id, json_extract(value, '$[1]') AS recipient_member_id FROM json_each(?)";
}

function pairsParams(d: Dialect, pairs: readonly (readonly [string, string])[]): unknown[] {
  return d.name === "postgres" ? [pairs.map((p) => p[0]), pairs.map((p) => p[1])] : [JSON.stringify(pairs)];
}

/** Marks the pairs' undelivered rows delivered; only the named recipient's row of each message is touched. */
function ackedUpdate(d: Dialect): string {
  // Each pair reaches its row through the (message_id, recipient) unique key, as markDelivered does.
  return `UPDATE deliveries SET delivered_at = ?, lease_until = NULL, lease_owner = NULL
    WHERE seq IN (
      SELECT dl.seq FROM (${pairsSource(d)}) AS p
      JOIN deliveries dl ON dl.message_id = p.message_id AND dl.recipient_member_id = p.recipient_member_id
    ) AND delivered_at IS NULL`;
}

const RECEIPT_RETURNING =
  "message_id, recipient_member_id, mesh_id, sender_member_id, notified, " +
  "(SELECT pubkey FROM members WHERE members.id = receipts.recipient_member_id) AS recipient_pubkey";

function text(row: RawRow, column: string): string {
  const value = row[column];
  if (typeof value !== "string") throw new TypeError(`store row: column ${column} is not text`);
  return value;
}

function isTrue(value: unknown): boolean {
  return value === true || value === 1 || value === "1" || value === "t";
}

/** Plain acks only on PostgreSQL: the whole batch is one autocommit statement (no BEGIN/COMMIT). */
export function acksInOneStatement(d: Dialect, inputs: readonly RecordReceiptsInput[]): boolean {
  return d.name === "postgres" && inputs.every((i) => i.shown.length === 0);
}

/**
 * The acks and shown reports of many recipients. Plain acks (every input's `delivered` ids not also
 * reported shown) are one set-based write for the whole batch; inputs with shown ids go through
 * recordReceipts each. Run inside one transaction (or, per acksInOneStatement, as one statement).
 * A receipt is stored notified when its sender is in that input's `pushTo`.
 */
export function* recordReceiptsMany(
  d: Dialect,
  inputs: readonly RecordReceiptsInput[],
): Op<RecordedReceipts> {
  const changes: ReceiptChange[] = [];
  const waiting = new Set<string>();
  const withShown: RecordReceiptsInput[] = [];
  // Plain acks grouped by their pushTo set: one statement per distinct set. The broker passes the
  // same set for every recipient of one mesh, so a broadcast's acks are one statement.
  const groups = new Map<string, { pushTo: string[]; pairs: Array<[string, string]> }>();
  const keys = new Map<ReadonlySet<string> | undefined, string>();
  for (const input of inputs) {
    if (input.shown.length > 0) {
      withShown.push(input);
      continue;
    }
    // The key of a set object is computed once: a broadcast's inputs share one set.
    let key = keys.get(input.pushTo);
    if (key === undefined) keys.set(input.pushTo, (key = [...new Set(input.pushTo ?? [])].sort().join(",")));
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { pushTo: key === "" ? [] : key.split(","), pairs: [] }));
    for (const id of new Set(input.delivered)) group.pairs.push([id, input.recipientMemberId]);
  }
  const now = inputs[0]?.now ?? 0;
  for (const { pushTo, pairs } of groups.values()) {
    if (pairs.length === 0) continue;
    const inserted = yield* ackPairs(d, pairs, pushTo, now);
    for (const row of inserted) {
      changes.push({
        messageId: text(row, "message_id"),
        meshId: text(row, "mesh_id"),
        senderMemberId: text(row, "sender_member_id"),
        recipientMemberId: text(row, "recipient_member_id"),
        recipientPubkey: typeof row.recipient_pubkey === "string" ? row.recipient_pubkey : "",
        state: "delivered",
        at: now,
        from: "queued",
      });
      if (!isTrue(row.notified)) waiting.add(text(row, "sender_member_id"));
    }
  }
  for (const input of withShown) {
    const recorded = yield* recordReceipts(d, input);
    changes.push(...recorded.changes);
    for (const id of recorded.waiting) waiting.add(id);
  }
  return { changes, waiting: [...waiting] };
}

/** Acks (message, recipient) pairs: delivered rows and `delivered` receipts (notified when the sender is in pushTo). */
function* ackPairs(
  d: Dialect,
  pairs: readonly (readonly [string, string])[],
  pushTo: readonly string[],
  now: number,
): Op<RawRow[]> {
  if (d.name === "postgres") {
    return yield* rows(
      `WITH acked AS (${ackedUpdate(d)} RETURNING message_id, recipient_member_id, mesh_id, sender_member_id)
       INSERT INTO receipts (${RECEIPT_INSERT_COLUMNS})
       SELECT message_id, recipient_member_id, mesh_id, sender_member_id, 'delivered', CAST(? AS BIGINT),
         ${d.anyOf("sender_member_id")}
       FROM acked
       ON CONFLICT (message_id, recipient_member_id) DO NOTHING
       RETURNING ${RECEIPT_RETURNING}`,
      [now, ...pairsParams(d, pairs), now, d.list(pushTo)],
    );
  }
  const acked = yield* rows(`${ackedUpdate(d)} RETURNING message_id, recipient_member_id`, [
    now,
    ...pairsParams(d, pairs),
  ]);
  if (acked.length === 0) return [];
  return yield* rows(
    `INSERT INTO receipts (${RECEIPT_INSERT_COLUMNS})
     SELECT dl.message_id, dl.recipient_member_id, dl.mesh_id, dl.sender_member_id, 'delivered',
       CAST(? AS BIGINT), ${d.anyOf("dl.sender_member_id")}
     FROM (${pairsSource(d)}) AS p
     JOIN deliveries dl ON dl.message_id = p.message_id AND dl.recipient_member_id = p.recipient_member_id
     WHERE true
     ON CONFLICT (message_id, recipient_member_id) DO NOTHING
     RETURNING ${RECEIPT_RETURNING}`,
    [
      now,
      d.list(pushTo),
      ...pairsParams(
        d,
        acked.map((r) => [text(r, "message_id"), text(r, "recipient_member_id")] as const),
      ),
    ],
  );
}
