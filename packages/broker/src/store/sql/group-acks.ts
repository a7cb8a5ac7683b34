// Acks and shown reports of many recipients in one transaction (SPEC §3 client_ack, receipt): one statement set for all.
//
// recordReceipts (receipts.ts) handles one recipient; here the acks and `shown` reports of every
// recipient of a batch become set-based statements keyed by (message_id, recipient) pairs: a pair
// only ever reaches the copy addressed to its recipient, and states only move forward.
import type { ReceiptChange, RecordReceiptsInput } from "../types.js";

type ReceiptState = ReceiptChange["state"];
import type { Dialect } from "./dialect.js";
import { rows, type Op, type RawRow } from "./op.js";
import type { RecordedReceipts } from "./receipts.js";

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

/** (message id, recipient member id, shown 0/1) triples as a row source: what a pair's new receipt says. */
function flaggedSource(d: Dialect): string {
  return d.name === "postgres"
    ? "SELECT * FROM unnest(?::text[], ?::text[], ?::int[]) AS p (message_id, recipient_member_id, shown)"
    : "SELECT json_extract(value, '$[0]') AS message_id, json_extract(value, '$[1]') AS recipient_member_id, " +
        "json_extract(value, '$[2]') AS shown FROM json_each(?)";
}

function flaggedParams(d: Dialect, triples: readonly (readonly [string, string, 0 | 1])[]): unknown[] {
  return d.name === "postgres"
    ? [triples.map((t) => t[0]), triples.map((t) => t[1]), triples.map((t) => t[2])]
    : [JSON.stringify(triples)];
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

interface PushGroup {
  pushTo: string[];
  /** Plain acks: (message, recipient). */
  acks: Array<[string, string]>;
  /** Copies reported shown (also acknowledged by the report): (message, recipient). */
  shown: Array<[string, string]>;
}

function change(row: RawRow, state: ReceiptState, from: "queued" | "delivered", now: number): ReceiptChange {
  return {
    messageId: text(row, "message_id"),
    meshId: text(row, "mesh_id"),
    senderMemberId: text(row, "sender_member_id"),
    recipientMemberId: text(row, "recipient_member_id"),
    recipientPubkey: typeof row.recipient_pubkey === "string" ? row.recipient_pubkey : "",
    state,
    at: now,
    from,
  };
}

/**
 * The acks and shown reports of many recipients, as set-based statements per distinct `pushTo` set
 * (the broker passes one set per mesh, so a broadcast's acks and reports are one statement set):
 * plain acks are one statement, a group with shown reports three (ack, insert receipts, move
 * `delivered` receipts to `shown`), however many recipients it holds. Run inside one transaction
 * (or, per acksInOneStatement, as one statement). A receipt is stored notified when its sender is
 * in that input's `pushTo`.
 */
export function* recordReceiptsMany(
  d: Dialect,
  inputs: readonly RecordReceiptsInput[],
): Op<RecordedReceipts> {
  const changes: ReceiptChange[] = [];
  const waiting = new Set<string>();
  const groups = new Map<string, PushGroup>();
  const keys = new Map<ReadonlySet<string> | undefined, string>();
  for (const input of inputs) {
    // The key of a set object is computed once: a broadcast's inputs share one set.
    let key = keys.get(input.pushTo);
    if (key === undefined) keys.set(input.pushTo, (key = [...new Set(input.pushTo ?? [])].sort().join(",")));
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { pushTo: key === "" ? [] : key.split(","), acks: [], shown: [] }));
    const shown = new Set(input.shown);
    for (const id of shown) group.shown.push([id, input.recipientMemberId]);
    for (const id of new Set(input.delivered))
      if (!shown.has(id)) group.acks.push([id, input.recipientMemberId]);
  }
  const now = inputs[0]?.now ?? 0;
  for (const { pushTo, acks, shown } of groups.values()) {
    if (shown.length === 0) {
      if (acks.length === 0) continue;
      for (const row of yield* ackPairs(d, acks, pushTo, now)) {
        changes.push(change(row, "delivered", "queued", now));
        if (!isTrue(row.notified)) waiting.add(text(row, "sender_member_id"));
      }
      continue;
    }
    for (const c of yield* ackAndShowPairs(d, acks, shown, pushTo, now)) {
      changes.push(c.change);
      if (!c.notified) waiting.add(c.change.senderMemberId);
    }
  }
  return { changes, waiting: [...waiting] };
}

/**
 * Acks `acks` and `shown` pairs (shown implies delivered): undelivered copies become delivered and
 * get a receipt (`shown` for the shown pairs), then the shown pairs' `delivered` receipts move to
 * `shown`. Only the named recipient's copy of each message is touched; states only move forward.
 */
function* ackAndShowPairs(
  d: Dialect,
  acks: readonly (readonly [string, string])[],
  shown: readonly (readonly [string, string])[],
  pushTo: readonly string[],
  now: number,
): Op<Array<{ change: ReceiptChange; notified: boolean }>> {
  const made: Array<{ change: ReceiptChange; notified: boolean }> = [];
  const acked = yield* rows(`${ackedUpdate(d)} RETURNING message_id, recipient_member_id`, [
    now,
    ...pairsParams(d, [...acks, ...shown]),
  ]);
  if (acked.length > 0) {
    const shownKeys = new Set(shown.map(([m, r]) => `${m}\n${r}`));
    const triples = acked.map((row) => {
      const pair = [text(row, "message_id"), text(row, "recipient_member_id")] as const;
      return [pair[0], pair[1], shownKeys.has(`${pair[0]}\n${pair[1]}`) ? 1 : 0] as const;
    });
    const inserted = yield* rows(
      `INSERT INTO receipts (${RECEIPT_INSERT_COLUMNS})
       SELECT dl.message_id, dl.recipient_member_id, dl.mesh_id, dl.sender_member_id,
         CASE WHEN p.shown = 1 THEN 'shown' ELSE 'delivered' END, CAST(? AS BIGINT),
         ${d.anyOf("dl.sender_member_id")}
       FROM (${flaggedSource(d)}) AS p
       JOIN deliveries dl ON dl.message_id = p.message_id AND dl.recipient_member_id = p.recipient_member_id
       WHERE true
       ON CONFLICT (message_id, recipient_member_id) DO NOTHING
       RETURNING ${RECEIPT_RETURNING}, state`,
      [now, d.list(pushTo), ...flaggedParams(d, triples)],
    );
    for (const row of inserted)
      made.push({
        change: change(row, text(row, "state") as ReceiptState, "queued", now),
        notified: isTrue(row.notified),
      });
  }
  const upgraded = yield* rows(
    `UPDATE receipts SET state = 'shown', state_at = ?, notified = ${d.anyOf("sender_member_id")}
     WHERE (message_id, recipient_member_id) IN (SELECT message_id, recipient_member_id FROM (${pairsSource(d)}) AS p)
       AND state = 'delivered'
     RETURNING ${RECEIPT_RETURNING}`,
    [now, d.list(pushTo), ...pairsParams(d, shown)],
  );
  for (const row of upgraded)
    made.push({ change: change(row, "shown", "delivered", now), notified: isTrue(row.notified) });
  return made;
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
      { prepare: true },
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
