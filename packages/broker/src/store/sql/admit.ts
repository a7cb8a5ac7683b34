// Store rules of a hello's admission (SPEC §3 checks 4–6): membership, replay claim, the mesh cap
// counted across live brokers, the pending hook status and the presence takeover, decided together.
//
// The SQL pieces here are shared: SQLite runs them as steps of one IMMEDIATE transaction
// (admitHelloSteps), PostgreSQL composes them into one statement (postgres/admit-statement.ts).
// Both produce an AdmitOutcome that decideAdmission turns into the answer, in the SPEC order.
import type { AdmitHelloInput, AdmitHelloResult, Takeover } from "../admission.js";
import type { MemberRow, PendingHookStatus, PresenceRow } from "../records.js";
import { getMember } from "./members.js";
import { exec, first, type Op, type RawRow } from "./op.js";
import { CLAIM_REPLAY_KEY_SQL } from "./replay-keys.js";
import { PENDING_HOOK_COLUMNS, PRESENCE_COLUMNS, presenceParams, toPendingHook, toPresence } from "./rows.js";
import { truthy, waitingDeliveriesSql, waitingReceiptsSql } from "./waiting.js";

/** What the admission's statements found and did, before the decision. */
export interface AdmitOutcome {
  member: MemberRow | null;
  /** A live row holds the replay key (read before anything is claimed). */
  seen: boolean;
  /** Online connections of other identities in the mesh on other live brokers (at most the cap). */
  remote: number;
  claimed: boolean;
  hook: PendingHookStatus | null;
  /** The stored presence row's owner before the write (null: no row). */
  previous: { brokerId: string | null; presenceId: string | null; online: boolean } | null;
  written: PresenceRow | null;
  /**
   * PostgreSQL only: the write updated a row that did not exist when the statement began (another
   * admission inserted it meanwhile), so the connection it replaced is unknown.
   */
  racedInsert: boolean;
  waiting: { deliveries: boolean; receipts: boolean };
}

/** The member row answers the hello: it exists, is the claimed member, and is not revoked (SPEC §3 check 4). */
function memberVerdict(member: MemberRow | null, input: AdmitHelloInput): "ok" | "unauthorized" | "revoked" {
  if (!member || member.id !== input.memberId) return "unauthorized";
  return member.revokedAt === null ? "ok" : "revoked";
}

function overCapacity(input: AdmitHelloInput, remote: number): boolean {
  return input.capacity.localOthers + remote >= input.capacity.limit;
}

/** The answer, in the SPEC §3 order: membership, replay, capacity; the claim decides a race. */
export function decideAdmission(input: AdmitHelloInput, o: AdmitOutcome): AdmitHelloResult {
  const verdict = memberVerdict(o.member, input);
  if (verdict !== "ok") return { kind: verdict };
  if (o.seen) return { kind: "replay" };
  if (overCapacity(input, o.remote)) return { kind: "capacity" };
  // A concurrent claim of the same key won between the read and the claim.
  if (!o.claimed || !o.written) return { kind: "replay" };
  const hook = o.hook && o.hook.receivedAt >= input.pendingHookSince ? o.hook : null;
  const previous = o.previous;
  return {
    kind: "admitted",
    member: o.member!,
    presence: o.written,
    pendingHook: hook,
    replaced:
      previous && previous.online ? { brokerId: previous.brokerId, presenceId: previous.presenceId } : null,
    waiting: o.waiting,
  };
}

/** The notice another broker needs: its connection was replaced (none for this broker's own or no connection). */
export function takeoverOf(input: AdmitHelloInput, result: AdmitHelloResult): Takeover | null {
  if (result.kind !== "admitted" || !result.replaced) return null;
  if (result.replaced.brokerId === input.presence.brokerId) return null;
  return { memberId: input.memberId, presenceId: result.replaced.presenceId };
}

// ---------------------------------------------------------------- shared SQL

const RESTORED_COLUMNS = ["status", "status_source", "status_at", "summary"];
const CONNECTION_COLUMNS = PRESENCE_COLUMNS.split(", ").filter(
  (c) => c !== "member_id" && !RESTORED_COLUMNS.includes(c),
);

/**
 * The stored row (`presence`, before the write) is still live: online with a heartbeat at or after
 * onlineSince (or none), or dropped at or after heldSince — core/peers.ts isOnline || isHeld, the
 * rule list_peers reads rows by, as bounds. Four parameters: restore on (1/0), 1, onlineSince, heldSince.
 */
const STORED_IS_LIVE =
  "(? = 1 AND ((presence.online = ? AND (presence.last_seen_at IS NULL OR presence.last_seen_at >= ?)) " +
  "OR COALESCE(presence.disconnected_at, presence.last_seen_at) >= ?))";

function storedIsLiveParams(input: AdmitHelloInput): unknown[] {
  const r = input.restore;
  return r ? [1, 1, r.onlineSince, r.heldSince] : [0, 1, 0, 0];
}

/**
 * Writes the connection's presence row from `source` (VALUES or a SELECT of PRESENCE_COLUMNS):
 * the connection columns always; status, source, time and summary kept from a live stored row
 * when restoring, else the given ones (the status a peer starts with, or this broker's held one).
 * Parameters: the source's, then takeoverParams.
 */
export function takeoverSql(source: string, extraReturning = ""): string {
  const set = [
    ...CONNECTION_COLUMNS.map((c) => `${c} = excluded.${c}`),
    ...RESTORED_COLUMNS.map(
      (c) => `${c} = CASE WHEN ${STORED_IS_LIVE} THEN presence.${c} ELSE excluded.${c} END`,
    ),
  ];
  return `INSERT INTO presence (${PRESENCE_COLUMNS}) ${source}
    ON CONFLICT (member_id) DO UPDATE SET ${set.join(", ")}
    RETURNING ${PRESENCE_COLUMNS}${extraReturning}`;
}

export function takeoverParams(input: AdmitHelloInput): unknown[] {
  const live = storedIsLiveParams(input);
  // One set per restored column (RESTORED_COLUMNS), in SET order.
  return [...live, ...live, ...live, ...live];
}

/** takeoverSql from one VALUES row (built once: a hot statement's text is its cache key). */
const TAKEOVER_VALUES_SQL = takeoverSql(
  `VALUES (${PRESENCE_COLUMNS.split(", ")
    .map(() => "?")
    .join(", ")})`,
);

/** The presence row's values in PRESENCE_COLUMNS order. */
export function presenceValues(input: AdmitHelloInput): unknown[] {
  return presenceParams({ ...input.presence, memberId: input.memberId });
}

/** Some broker other than this one has a fresh beat. Parameters: self broker id, brokersSince. */
export const OTHER_LIVE_BROKER_SQL =
  "SELECT 1 AS one FROM brokers WHERE broker_id <> ? AND heartbeat_at >= ?";

/**
 * Online connections of other identities in the mesh on other live brokers, counted up to the cap
 * (members by mesh, presence by key). Parameters: remoteParams.
 */
export const REMOTE_CONNECTIONS_SQL = `SELECT COUNT(*) FROM (
    SELECT 1 AS one FROM members rm
    JOIN presence rp ON rp.member_id = rm.id
    JOIN brokers rb ON rb.broker_id = rp.broker_id
    WHERE rm.mesh_id = ? AND rm.revoked_at IS NULL AND rp.online = ? AND rp.member_id <> ?
      AND rp.broker_id <> ? AND rb.heartbeat_at >= ?
    LIMIT ?
  ) counted`;

export function otherBrokerParams(input: AdmitHelloInput): unknown[] {
  return [input.presence.brokerId ?? "", input.capacity.brokersSince];
}

export function remoteParams(input: AdmitHelloInput): unknown[] {
  const self = input.presence.brokerId ?? "";
  const since = input.capacity.brokersSince;
  return [input.meshId, 1, input.memberId, self, since, input.capacity.limit];
}

/** What waits for the member (sql/waiting.ts). Parameters: member id three times. */
export const WAITING_DELIVERIES_SQL = waitingDeliveriesSql("?");
export const WAITING_RECEIPTS_SQL = waitingReceiptsSql("?");

export function waitingParams(input: AdmitHelloInput): unknown[] {
  return [input.memberId, input.memberId, input.memberId];
}

export const REPLAY_SEEN_SQL = "SELECT 1 AS one FROM replay_keys WHERE replay_key = ? AND expires_at >= ?";
export const TAKE_HOOK_SQL = `DELETE FROM pending_hook_status WHERE mesh_id = ? AND pubkey = ? RETURNING ${PENDING_HOOK_COLUMNS}`;
export const PREVIOUS_OWNER_COLUMNS = "broker_id, presence_id, online";

export function toPrevious(row: RawRow | null): AdmitOutcome["previous"] {
  if (!row) return null;
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    brokerId: text(row.broker_id),
    presenceId: text(row.presence_id),
    online: truthy(row.online),
  };
}

// ---------------------------------------------------------------- steps (one transaction)

const COUNT_REMOTE_SQL = `SELECT (${REMOTE_CONNECTIONS_SQL}) AS n`;
const WAITING_SQL = `SELECT ${WAITING_DELIVERIES_SQL} AS deliveries, ${WAITING_RECEIPTS_SQL} AS receipts`;

function refused(member: MemberRow | null, extra: Partial<AdmitOutcome> = {}): AdmitOutcome {
  const none = { seen: false, remote: 0, claimed: false, hook: null, previous: null, written: null };
  const waiting = { deliveries: false, receipts: false };
  return { member, ...none, racedInsert: false, waiting, ...extra };
}

/**
 * The admission as steps, for an adapter that runs them in one transaction where no other writer
 * interleaves (SQLite IMMEDIATE): each check stops the steps before anything is written.
 */
export function* admitHelloSteps(input: AdmitHelloInput): Op<AdmitOutcome> {
  const member = yield* getMember(input.meshId, input.pubkey);
  if (memberVerdict(member, input) !== "ok") return refused(member);
  if (yield* first(REPLAY_SEEN_SQL, [input.replayKey, input.now])) return refused(member, { seen: true });
  // A single broker pays one probe of the brokers table, never the count.
  const others = yield* first(OTHER_LIVE_BROKER_SQL, otherBrokerParams(input));
  const counted = others ? yield* first(COUNT_REMOTE_SQL, remoteParams(input)) : null;
  const remote = Number(counted?.n ?? 0);
  if (overCapacity(input, remote)) return refused(member, { remote });
  const claimed =
    (yield* exec(CLAIM_REPLAY_KEY_SQL, [input.replayKey, input.replayExpiresAt, input.now])) === 1;
  if (!claimed) return refused(member, { remote });
  const hook = yield* first(TAKE_HOOK_SQL, [input.meshId, input.pubkey]);
  const previous = yield* first(`SELECT ${PREVIOUS_OWNER_COLUMNS} FROM presence WHERE member_id = ?`, [
    input.memberId,
  ]);
  const written = yield* first(TAKEOVER_VALUES_SQL, [...presenceValues(input), ...takeoverParams(input)]);
  const waiting = yield* first(WAITING_SQL, waitingParams(input));
  return {
    member,
    seen: false,
    remote,
    claimed,
    hook: hook ? toPendingHook(hook) : null,
    previous: toPrevious(previous),
    written: written ? toPresence(written) : null,
    racedInsert: false,
    waiting: { deliveries: truthy(waiting?.deliveries), receipts: truthy(waiting?.receipts) },
  };
}
