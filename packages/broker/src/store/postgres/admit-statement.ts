// The hello's admission on PostgreSQL as one statement (one round trip): the shared rules of
// sql/admit.ts composed with data-modifying CTEs, plus the takeover NOTIFY delivered at commit.
import type { AdmitHelloInput } from "../admission.js";
import { MEMBER_SELECT } from "../sql/members.js";
import {
  OTHER_LIVE_BROKER_SQL,
  PREVIOUS_OWNER_COLUMNS,
  otherBrokerParams,
  REMOTE_CONNECTIONS_SQL,
  REPLAY_SEEN_SQL,
  WAITING_DELIVERIES_SQL,
  WAITING_RECEIPTS_SQL,
  waitingParams,
  presenceValues,
  remoteParams,
  takeoverParams,
  takeoverSql,
  toPrevious,
  type AdmitOutcome,
} from "../sql/admit.js";
import { rows, type Op } from "../sql/op.js";
import { PENDING_HOOK_COLUMNS, toMember, toPendingHook, toPresence } from "../sql/rows.js";
import { notifyTakeoverSql } from "./takeover-notice.js";

/** Casts of PRESENCE_COLUMNS for a SELECT list of parameters (untyped parameters read as text). */
const PRESENCE_CASTS = [
  "",
  "",
  "",
  "",
  "::integer",
  "",
  "::boolean",
  "::bigint",
  "::bigint",
  "::bigint",
  "",
  "",
  "::bigint",
  "",
];

/**
 * Every step is gated on the one before, in the SPEC §3 order: `go` holds the member only when its
 * row matches and is not revoked, the key is not held and the mesh is below its cap; the claim is
 * made only from `go`; the hook take, the previous owner's lock and the presence write only once
 * claimed. The write reads `prev` first (FOR UPDATE: a concurrent admission's committed row), and
 * a NOTIFY tells the previous owner's broker — or, when the row was inserted meanwhile by another
 * admission, every broker — that it was replaced.
 */
const ADMIT_SQL = `WITH
  mem AS (${MEMBER_SELECT} WHERE m.mesh_id = ? AND m.pubkey = ?),
  seen AS (${REPLAY_SEEN_SQL}),
  remote AS (
    SELECT CASE WHEN EXISTS (${OTHER_LIVE_BROKER_SQL}) THEN (${REMOTE_CONNECTIONS_SQL}) ELSE 0 END AS n
  ),
  go AS (
    SELECT mem.id FROM mem WHERE mem.id = ? AND mem.revoked_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM seen) AND ? + (SELECT n FROM remote) < ?
  ),
  claim AS (
    INSERT INTO replay_keys (replay_key, expires_at) SELECT ?, ?::bigint FROM go
    ON CONFLICT (replay_key) DO UPDATE SET expires_at = excluded.expires_at WHERE replay_keys.expires_at < ?
    RETURNING 1 AS one
  ),
  hook AS (
    DELETE FROM pending_hook_status WHERE mesh_id = ? AND pubkey = ? AND EXISTS (SELECT 1 FROM claim)
    RETURNING ${PENDING_HOOK_COLUMNS}
  ),
  prev AS (
    SELECT ${PREVIOUS_OWNER_COLUMNS} FROM presence WHERE member_id = ? AND EXISTS (SELECT 1 FROM claim)
    FOR UPDATE
  ),
  written AS (
    ${takeoverSql(
      `SELECT ${PRESENCE_CASTS.map((cast) => `?${cast}`).join(", ")} FROM claim LEFT JOIN prev ON TRUE`,
      ", (xmax <> 0) AS updated",
    )}
  ),
  notice AS (
    ${notifyTakeoverSql(
      `SELECT presence_id FROM prev WHERE online AND broker_id IS DISTINCT FROM ?
       UNION ALL SELECT NULL FROM written WHERE updated AND NOT EXISTS (SELECT 1 FROM prev)`,
    )}
  )
SELECT
  (SELECT row_to_json(mem) FROM mem) AS member,
  EXISTS (SELECT 1 FROM seen) AS seen,
  (SELECT n FROM remote) AS remote,
  EXISTS (SELECT 1 FROM claim) AS claimed,
  (SELECT row_to_json(hook) FROM hook) AS hook,
  (SELECT row_to_json(prev) FROM prev) AS previous,
  (SELECT row_to_json(written) FROM written) AS written,
  (SELECT COUNT(*) FROM notice) AS notices,
  ${WAITING_DELIVERIES_SQL} AS waiting_deliveries,
  ${WAITING_RECEIPTS_SQL} AS waiting_receipts`;

/** Parameters of ADMIT_SQL, in text order. */
function admitParams(input: AdmitHelloInput, notice: { channel: string; origin: string }): unknown[] {
  return [
    input.meshId,
    input.pubkey,
    input.replayKey,
    input.now,
    ...otherBrokerParams(input),
    ...remoteParams(input),
    input.memberId,
    input.capacity.localOthers,
    input.capacity.limit,
    input.replayKey,
    input.replayExpiresAt,
    input.now,
    input.meshId,
    input.pubkey,
    input.memberId,
    ...presenceValues(input),
    ...takeoverParams(input),
    notice.channel,
    notice.origin,
    input.memberId,
    input.presence.brokerId,
    ...waitingParams(input),
  ];
}

type JsonRow = Record<string, unknown> | null;

/** The admission as one statement; the takeover NOTIFY rides in it. */
export function* admitHelloPg(
  input: AdmitHelloInput,
  notice: { channel: string; origin: string },
): Op<AdmitOutcome> {
  // Prepared: its ~5 KB text is sent, parsed and planned once per pooled connection, not per hello.
  const [row] = yield* rows(ADMIT_SQL, admitParams(input, notice), { prepare: true });
  const json = (column: string) => (row?.[column] ?? null) as JsonRow;
  const member = json("member");
  const hook = json("hook");
  const written = json("written");
  return {
    member: member ? toMember(member) : null,
    seen: row?.seen === true,
    remote: Number(row?.remote ?? 0),
    claimed: row?.claimed === true,
    hook: hook ? toPendingHook(hook) : null,
    previous: toPrevious(json("previous")),
    written: written ? toPresence(written) : null,
    racedInsert: written?.updated === true && json("previous") === null,
    waiting: { deliveries: row?.waiting_deliveries === true, receipts: row?.waiting_receipts === true },
  };
}
