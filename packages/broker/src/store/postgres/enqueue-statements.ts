// The statements of PostgresStore.enqueueMessages: the one-statement hot path (sender check, send-id
// claims, bodies, deliveries and the holders' wake-up) and the chunked inserts of a larger batch.
import type pg from "pg";
import type { NewMessage } from "../types.js";
import { DELIVERY_INSERT_COLUMNS, DELIVERY_INSERT_CONFLICT } from "../sql/rules.js";
import { bodyArrays, insertBodiesPg, isGroup } from "../sql/group-bodies.js";
import { claimSendIdsPg, isTracked, sendIdArrays } from "../sql/send-ids.js";
import { liveSenderCtesPg } from "../sql/sender-guard.js";
import { holderWakeupsSql, pushHolderParams, unheldSql } from "./holder-wakeups.js";

/** PostgreSQL allows 65,535 bind parameters per statement; stay well below. */
const MAX_PARAMS_PER_STATEMENT = 60_000;
const ROWS_PER_INSERT = Math.floor(MAX_PARAMS_PER_STATEMENT / DELIVERY_INSERT_COLUMNS.length);

/** Delivery rows cut into INSERTs that stay under the bind-parameter limit. */
export function chunked(values: readonly unknown[][]): unknown[][][] {
  const chunks: unknown[][][] = [];
  for (let i = 0; i < values.length; i += ROWS_PER_INSERT) chunks.push(values.slice(i, i + ROWS_PER_INSERT));
  return chunks;
}

/** Casts for DELIVERY_INSERT_COLUMNS in the VALUES list a SELECT reads from (text needs none). */
const DELIVERY_PG_CASTS = DELIVERY_INSERT_COLUMNS.map((c) =>
  c === "created_at" || c === "lease_until" ? "::bigint" : "",
);

/**
 * One statement storing a batch of at most one chunk of deliveries (SPEC §2, §3): checks the
 * senders (`live`: neither they nor their parent revoked; rows locked FOR SHARE, so a revocation
 * committing meanwhile either waits for this commit or is seen), claims the send ids of live
 * senders' messages, inserts the bodies and deliveries of the messages stored (`stored`: send id
 * free, or untracked, and sender live), NOTIFYs, and returns each message not stored with its
 * outcome: `revoked` (sender revoked) or `duplicate` (send id already stored) — usually no row —
 * and, in the same column, each recipient found online nowhere as `unheld` (see wakeLate).
 */
export function guardedInsertStatement(
  messages: readonly NewMessage[],
  chunk: readonly unknown[][],
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
  if (chunk.length > 0) {
    const tuples: string[] = [];
    for (const row of chunk) {
      const base = params.length;
      // Untyped parameters in a VALUES list read as text; only the bigint columns need a cast.
      tuples.push(`(${row.map((_, i) => `$${base + i + 1}${DELIVERY_PG_CASTS[i]}`).join(", ")})`);
      params.push(...row);
    }
    const columns = DELIVERY_INSERT_COLUMNS.join(", ");
    inserted = `, inserted AS (
      INSERT INTO deliveries (${columns})
      SELECT * FROM (VALUES ${tuples.join(", ")}) AS v (${columns})
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
  return {
    text:
      `WITH batch AS (SELECT * FROM unnest($6::text[], $7::text[]) AS t (message_id, sender_member_id)),
      ${liveSenderCtesPg("SELECT sender_member_id FROM batch")},
      kept AS (${claimSendIdsPg(1, `s.sender_member_id ${isLive}`)}),
      stored AS (
        SELECT message_id FROM kept
        UNION ALL
        SELECT b.message_id FROM batch b WHERE b.message_id = ANY($8::text[]) AND b.sender_member_id ${isLive}
      )${bodies}${inserted} ` +
      `SELECT b.message_id, CASE WHEN b.sender_member_id ${isLive} THEN 'duplicate' ELSE 'revoked' END AS outcome ` +
      `FROM batch b WHERE b.message_id NOT ${isStored}${notify}`,
    values: params,
  };
}

/**
 * `INSERT … VALUES ($1…$9), ($10…$18), …` for one chunk, wrapped (for the last chunk) so the same
 * statement also wakes the recipients' holders and returns the recipients online nowhere as
 * `unheld` rows (a data-modifying CTE always runs to completion even when unreferenced).
 */
export function insertStatement(chunk: readonly unknown[][], wake: HolderWake | null): pg.QueryConfig {
  const width = DELIVERY_INSERT_COLUMNS.length;
  const tuples: string[] = [];
  const params: unknown[] = [];
  for (const row of chunk) {
    const base = params.length;
    tuples.push(`(${row.map((_, i) => `$${base + i + 1}`).join(", ")})`);
    params.push(...row);
  }
  if (tuples.length * width !== params.length) throw new Error("insertStatement: ragged delivery rows");
  const insert = `INSERT INTO deliveries (${DELIVERY_INSERT_COLUMNS.join(", ")}) VALUES ${tuples.join(", ")} ${DELIVERY_INSERT_CONFLICT}`;
  if (!wake || wake.ids.length === 0) return { text: insert, values: params };
  const holder = pushHolderParams(params, wake.ids, wake.origin, wake.exclude);
  return {
    text:
      `WITH inserted AS (${insert}) SELECT NULL::text AS unheld FROM (${holderWakeupsSql(holder, "deliveries")}) AS n` +
      ` UNION ALL SELECT u.id FROM (${unheldSql(holder.ids)}) AS u`,
    values: params,
  };
}

/** Who a batch wakes: its recipients' holders, told by this store instance, minus its own brokers. */
export interface HolderWake {
  ids: readonly string[];
  origin: string;
  exclude: readonly string[];
}
