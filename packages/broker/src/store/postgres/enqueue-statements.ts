// The statement of PostgresStore.enqueueMessages: sender check, send-id claims, bodies, deliveries and
// the holders' wake-up in one statement, whatever the batch's size.
import type pg from "pg";
import type { NewMessage } from "../types.js";
import { DELIVERY_INSERT_COLUMNS, DELIVERY_INSERT_CONFLICT } from "../sql/rules.js";
import { bodyArrays, insertBodiesPg, isGroup } from "../sql/group-bodies.js";
import { claimSendIdsPg, isTracked, sendIdArrays } from "../sql/send-ids.js";
import { liveSenderCtesPg } from "../sql/sender-guard.js";
import { holderWakeupsSql, pushHolderParams, unheldSql } from "./holder-wakeups.js";
import { preparedName } from "./prepared.js";

/** Casts of DELIVERY_INSERT_COLUMNS as the arrays the statement unnests (one array per column). */
const DELIVERY_ARRAY_CASTS = DELIVERY_INSERT_COLUMNS.map((c) =>
  c === "created_at" || c === "lease_until" ? "::bigint[]" : "::text[]",
);

/** Delivery rows (DELIVERY_INSERT_COLUMNS order) as one array per column. */
function columnArrays(values: readonly unknown[][]): unknown[][] {
  return DELIVERY_INSERT_COLUMNS.map((_, i) => values.map((row) => row[i] ?? null));
}

/**
 * One statement storing a batch (SPEC §2, §3): checks the
 * senders (`live`: neither they nor their parent revoked; rows locked FOR SHARE, so a revocation
 * committing meanwhile either waits for this commit or is seen), claims the send ids of live
 * senders' messages, inserts the bodies and deliveries of the messages stored (`stored`: send id
 * free, or untracked, and sender live), NOTIFYs, and returns each message not stored with its
 * outcome: `revoked` (sender revoked) or `duplicate` (send id already stored) — usually no row —
 * and, in the same column, each recipient found online nowhere as `unheld` (see wakeLate).
 *
 * Every list travels as an array parameter, so the text depends only on which parts the batch
 * needs (bodies, deliveries, wake-ups) — whatever its size — and is a prepared statement.
 */
export function guardedInsertStatement(
  messages: readonly NewMessage[],
  values: readonly unknown[][],
  wake: HolderWake,
): pg.QueryConfig {
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
  let inserted = "";
  if (values.length > 0) {
    const base = params.length;
    const arrays = DELIVERY_ARRAY_CASTS.map((cast, i) => `$${base + i + 1}${cast}`);
    params.push(...columnArrays(values));
    const columns = DELIVERY_INSERT_COLUMNS.join(", ");
    inserted = `, inserted AS (
      INSERT INTO deliveries (${columns})
      SELECT * FROM unnest(${arrays.join(", ")}) AS v (${columns})
      WHERE v.message_id ${isStored}
      ${DELIVERY_INSERT_CONFLICT}
    )`;
  }
  let notify = "";
  if (wake.ids.length > 0) {
    // The holders' brokers are woken at commit; recipients online nowhere come back as `unheld`.
    const holder = pushHolderParams(params, wake.ids, wake.origin, wake.exclude);
    notify =
      ` UNION ALL SELECT NULL, NULL FROM (${holderWakeupsSql(holder, "deliveries")}) AS n` +
      ` UNION ALL SELECT u.id, 'unheld' FROM (${unheldSql(holder.ids)}) AS u`;
  }
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

/** Who a batch wakes: its recipients' holders, told by this store instance, minus its own brokers. */
export interface HolderWake {
  ids: readonly string[];
  origin: string;
  exclude: readonly string[];
}
