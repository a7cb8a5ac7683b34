// The statement of PostgresStore.enqueueMessages: sender check, send-id claims, bodies, deliveries and
// the holders' wake-up in one statement, whatever the batch's size.
import type pg from "pg";
import type { NewMessage } from "../types.js";
import { DELIVERY_INSERT_COLUMNS, DELIVERY_INSERT_CONFLICT, deliveryValues } from "../sql/rules.js";
import { bodyArrays, insertBodiesPg, isGroup } from "../sql/group-bodies.js";
import { claimSendIdsPg, isTracked, sendIdArrays } from "../sql/send-ids.js";
import { liveSenderCtesPg } from "../sql/sender-guard.js";
import {
  BROKER_CHANNEL_PREFIX,
  BROKER_ID_PATTERN,
  holderWakeupsSql,
  pushHolderParams,
  unheldSql,
  type HolderParams,
} from "./holder-wakeups.js";
import { fitsLeasedPayload, LEASED_RETURNING, leasedPayloadSql } from "./leased-payload.js";
import { preparedName } from "./prepared.js";
import { MAX_PAYLOAD_BYTES } from "./wakeup-payload.js";

/** Casts of DELIVERY_INSERT_COLUMNS as the arrays the statement unnests (one array per column). */
const DELIVERY_ARRAY_CASTS = DELIVERY_INSERT_COLUMNS.map((c) =>
  c === "created_at" || c === "lease_until" ? "::bigint[]" : "::text[]",
);

/**
 * The batch's delivery rows as one array per column (DELIVERY_INSERT_COLUMNS order) and one more:
 * each row's remote lease expiry (NewDelivery.remoteLeaseUntil) or null. A recipient gets remote
 * leases for all of its rows in the batch or for none, so a row pushed from its lease never
 * overtakes an earlier one of the batch waiting for a claim (per-sender order, SPEC §3).
 */
function deliveryArrays(messages: readonly NewMessage[]): { columns: unknown[][]; count: number } {
  const refused = new Set<string>();
  for (const m of messages)
    for (const d of m.deliveries)
      if (d.remoteLeaseUntil === undefined || d.lease || !fitsLeasedPayload(m, d))
        refused.add(d.recipientMemberId);
  const columns: unknown[][] = [...DELIVERY_INSERT_COLUMNS, "remote_until"].map(() => []);
  let count = 0;
  for (const m of messages) {
    for (const d of m.deliveries) {
      const row = deliveryValues(m, d);
      row.push(refused.has(d.recipientMemberId) ? null : d.remoteLeaseUntil);
      row.forEach((value, i) => columns[i]!.push(value ?? null));
      count++;
    }
  }
  return { columns, count };
}

/**
 * One statement storing a batch (SPEC §2, §3): checks the senders (`live`: neither they nor their parent revoked; rows locked FOR SHARE, so a revocation
 * committing meanwhile either waits for this commit or is seen), claims the send ids of live
 * senders' messages, inserts the bodies and deliveries of the messages stored (`stored`: send id
 * free, or untracked, and sender live), NOTIFYs, and returns each message not stored with its
 * outcome: `revoked` (sender revoked) or `duplicate` (send id already stored) — usually no row —
 * and, in the same column, each recipient found online nowhere as `unheld` (see wakeLate).
 *
 * A delivery with a remote lease time whose recipient is online and idle on a broker not attached
 * here is stored leased to that connection, and that broker is sent the row (leased-payload.ts)
 * instead of a plain wake-up for that recipient.
 *
 * Every list travels as an array parameter, so the text depends only on which parts the batch
 * needs (bodies, deliveries, wake-ups) — whatever its size — and is a prepared statement.
 */
export function guardedInsertStatement(messages: readonly NewMessage[], wake: HolderWake): pg.QueryConfig {
  const tracked = messages.filter(isTracked);
  const groups = messages.filter(isGroup);
  // $1–$5 send ids, $6–$7 the batch (message id, sender), $8 untracked message ids.
  const params: unknown[] = [
    ...sendIdArrays(tracked),
    messages.map((m) => m.messageId),
    messages.map((m) => m.senderMemberId),
    messages.filter((m) => !isTracked(m)).map((m) => m.messageId),
  ];
  const isStored = "IN (SELECT message_id FROM stored)";
  let bodies = "";
  if (groups.length > 0) {
    // Group bodies once per message (SPEC §4), under the same condition as the deliveries.
    const first = params.length + 1;
    params.push(...bodyArrays(groups));
    bodies = `, bodies AS (${insertBodiesPg(first, `b.message_id ${isStored}`)})`;
  }
  const deliveries = deliveryArrays(messages);
  let inserted = "";
  const holder =
    wake.ids.length > 0 || deliveries.count > 0
      ? pushHolderParams(params, wake.ids, wake.origin, wake.exclude)
      : null;
  if (holder && deliveries.count > 0) {
    const base = params.length;
    const arrays = [...DELIVERY_ARRAY_CASTS, "::bigint[]"].map((cast, i) => `$${base + i + 1}${cast}`);
    params.push(...deliveries.columns);
    const columns = DELIVERY_INSERT_COLUMNS.join(", ");
    const values = DELIVERY_INSERT_COLUMNS.map((c) =>
      c === "lease_until"
        ? "CASE WHEN h.presence_id IS NULL THEN v.lease_until ELSE v.remote_until END"
        : c === "lease_owner"
          ? "COALESCE(h.presence_id, v.lease_owner)"
          : `v.${c}`,
    );
    // The recipient's connection on another broker, when it may be leased the row (see above).
    const remoteHolder = `LEFT JOIN presence h ON v.remote_until IS NOT NULL AND h.member_id = v.recipient_member_id
      AND h.online AND h.status = 'idle' AND h.presence_id IS NOT NULL
      AND h.broker_id ~ '${BROKER_ID_PATTERN}' AND h.broker_id <> ALL ($${holder.exclude}::text[])`;
    // ORDER BY the rows' place in the batch: `seq` (storage order, hence per-sender order) is
    // handed out in the order the SELECT produces its rows, which a join may otherwise change.
    inserted = `, inserted AS (
      INSERT INTO deliveries (${columns})
      SELECT ${values.join(", ")}
      FROM unnest(${arrays.join(", ")}) WITH ORDINALITY AS v (${columns}, remote_until, place)
      ${remoteHolder}
      WHERE v.message_id ${isStored}
      ORDER BY v.place
      ${DELIVERY_INSERT_CONFLICT}
      RETURNING ${LEASED_RETURNING}
    )`;
  }
  let notify = "";
  if (holder) {
    // The holders' brokers are woken at commit — a recipient leased its rows is sent them instead
    // — and recipients online nowhere come back as `unheld`.
    const notLeased =
      deliveries.count > 0
        ? "NOT EXISTS (SELECT 1 FROM inserted i WHERE i.recipient_member_id = p.member_id AND i.lease_owner = p.presence_id)"
        : undefined;
    notify =
      ` UNION ALL SELECT NULL, NULL FROM (${holderWakeupsSql(holder, "deliveries", notLeased)}) AS n` +
      ` UNION ALL SELECT u.id, 'unheld' FROM (${unheldSql(holder.ids)}) AS u`;
  }
  if (holder && deliveries.count > 0)
    notify += ` UNION ALL SELECT NULL, NULL FROM (${leasedNotifySql(holder)}) AS l`;
  const isLive = "IN (SELECT id FROM live)";
  const text =
    `WITH batch AS (SELECT * FROM unnest($6::text[], $7::text[]) AS t (message_id, sender_member_id)),
      ${liveSenderCtesPg("SELECT sender_member_id FROM batch")},
      kept AS (${claimSendIdsPg(1, `s.sender_member_id ${isLive}`)}),
      stored AS (
        SELECT message_id FROM kept
        UNION ALL
        SELECT b.message_id FROM batch b WHERE b.message_id = ANY($8::text[]) AND b.sender_member_id ${isLive}
      )${bodies}${inserted} ` +
    `SELECT b.message_id, CASE WHEN b.sender_member_id ${isLive} THEN 'duplicate' ELSE 'revoked' END AS outcome ` +
    `FROM batch b WHERE b.message_id NOT ${isStored}${notify}`;
  return { name: preparedName(text), text, values: params };
}

/**
 * One NOTIFY per row the insert leased to a connection on another broker, on that broker's channel,
 * in storage order (output expressions — the payload, the NOTIFY — are evaluated after the join and
 * the ORDER BY, so only for those rows). A payload too long for NOTIFY, which fitsLeasedPayload
 * keeps from happening, is not sent rather than failing the batch: its lease runs out and the row
 * is claimed like any other.
 */
function leasedNotifySql(holder: HolderParams): string {
  return `SELECT CASE WHEN octet_length(x.payload) < ${MAX_PAYLOAD_BYTES}
      THEN pg_notify('${BROKER_CHANNEL_PREFIX}' || x.broker_id, x.payload) END
    FROM (
      SELECT p.broker_id, ${leasedPayloadSql(holder.origin)} AS payload
      FROM inserted i
      JOIN presence p ON p.member_id = i.recipient_member_id AND p.presence_id = i.lease_owner
      WHERE p.online AND p.broker_id ~ '${BROKER_ID_PATTERN}' AND p.broker_id <> ALL ($${holder.exclude}::text[])
      ORDER BY i.seq
    ) x`;
}

/** Who a batch wakes: its recipients' holders, told by this store instance, minus its own brokers. */
export interface HolderWake {
  ids: readonly string[];
  origin: string;
  exclude: readonly string[];
}
