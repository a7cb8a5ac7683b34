// Store rules of presence, pending hook statuses, channels and the audit log (SPEC §3), run by both adapters.
import { MAX_CHANNELS_PER_MEMBER } from "@claudemesh/protocol";
import type { AuditEntry, PendingHookStatus, PresenceRow } from "../types.js";
import { exec, first, rows, type Op } from "./op.js";
import {
  PENDING_HOOK_COLUMNS,
  PRESENCE_COLUMNS,
  presenceParams,
  toAudit,
  toPendingHook,
  toPresence,
} from "./rows.js";

// ---------------------------------------------------------------- presence, hooks, channels, audit

export function* getPresence(memberId: string): Op<PresenceRow | null> {
  const row = yield* first(`SELECT ${PRESENCE_COLUMNS} FROM presence WHERE member_id = ?`, [memberId]);
  return row ? toPresence(row) : null;
}

const LIST_PRESENCE_SQL =
  `SELECT ${PRESENCE_COLUMNS.split(", ")
    .map((c) => `p.${c}`)
    .join(", ")} ` +
  "FROM presence p JOIN members m ON m.id = p.member_id WHERE m.mesh_id = ? ORDER BY p.member_id";

/** Presence rows carry no mesh id: the member row scopes them. */
export function* listPresence(meshId: string): Op<PresenceRow[]> {
  const result = yield* rows(LIST_PRESENCE_SQL, [meshId]);
  return result.map(toPresence);
}

const PRESENCE_UPDATE = PRESENCE_COLUMNS.split(", ")
  .filter((c) => c !== "member_id")
  .map((c) => `${c} = excluded.${c}`)
  .join(", ");

/** Rows per presence upsert statement (14 parameters each: well under either store's parameter limit). */
export const PRESENCE_UPSERT_ROWS = 200;

export function* upsertPresence(row: PresenceRow): Op<void> {
  const params = presenceParams(row);
  yield* exec(
    `INSERT INTO presence (${PRESENCE_COLUMNS}) VALUES (${params.map(() => "?").join(", ")})
     ON CONFLICT (member_id) DO UPDATE SET ${PRESENCE_UPDATE}`,
    params,
  );
}

/**
 * Writes many presence rows with one multi-row upsert per PRESENCE_UPSERT_ROWS (the liveness
 * heartbeat of every online peer). A stored row of another connection is replaced only when that
 * connection is not newer (`connected_at`): a row a newer connection took over since (a hello on
 * any broker) is left alone and its member returned, while a late write of an older connection
 * is overwritten. A member listed twice keeps its last row: one statement may not update the same
 * row twice on PostgreSQL.
 */
export function* upsertPresences(input: readonly PresenceRow[]): Op<string[]> {
  const latest = [...new Map(input.map((row) => [row.memberId, row])).values()];
  const taken: string[] = [];
  for (let i = 0; i < latest.length; i += PRESENCE_UPSERT_ROWS) {
    const chunk = latest.slice(i, i + PRESENCE_UPSERT_ROWS);
    const params = chunk.flatMap(presenceParams);
    const tuple = `(${Array.from({ length: params.length / chunk.length }, () => "?").join(", ")})`;
    const written = yield* rows(
      `INSERT INTO presence (${PRESENCE_COLUMNS}) VALUES ${chunk.map(() => tuple).join(", ")}
       ON CONFLICT (member_id) DO UPDATE SET ${PRESENCE_UPDATE}
       WHERE presence.presence_id IS NULL OR presence.presence_id = excluded.presence_id
         OR presence.connected_at IS NULL OR presence.connected_at <= excluded.connected_at
       RETURNING member_id`,
      params,
    );
    const kept = new Set(written.map((row) => String(row.member_id)));
    for (const row of chunk) if (!kept.has(row.memberId)) taken.push(row.memberId);
  }
  return taken;
}

/** Startup recovery / shutdown: this broker's online rows go offline as of `now`. */
export function* markBrokerPresencesOffline(brokerId: string, now: number): Op<number> {
  return yield* exec(
    "UPDATE presence SET online = ?, disconnected_at = ? WHERE broker_id = ? AND online = ?",
    [0, now, brokerId, 1],
  );
}

/** The newest hook status per (mesh, pubkey) wins (SPEC §3: kept until the session connects). */
export const STASH_PENDING_HOOK_SQL = `INSERT INTO pending_hook_status (${PENDING_HOOK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (mesh_id, pubkey) DO UPDATE SET status = excluded.status, cwd = excluded.cwd, pid = excluded.pid,
       session_id = excluded.session_id, received_at = excluded.received_at`;

/** STASH_PENDING_HOOK_SQL's parameters. */
export function pendingHookParams(e: PendingHookStatus): unknown[] {
  return [e.meshId, e.pubkey, e.status, e.cwd, e.pid, e.sessionId, e.receivedAt];
}

export function* stashPendingHook(e: PendingHookStatus): Op<void> {
  yield* exec(STASH_PENDING_HOOK_SQL, pendingHookParams(e));
}

/** Stashes a hook and reads the member's presence row (relayHookStatus without a NOTIFY). */
export function* stashHookAndReadPresence(e: PendingHookStatus, memberId: string): Op<PresenceRow | null> {
  yield* stashPendingHook(e);
  return yield* getPresence(memberId);
}

/** Removes the stashed entry either way (a stale one is useless); returns it only when fresh. */
export function* takePendingHook(
  meshId: string,
  pubkey: string,
  notBefore: number,
): Op<PendingHookStatus | null> {
  const row = yield* first(
    `DELETE FROM pending_hook_status WHERE mesh_id = ? AND pubkey = ? RETURNING ${PENDING_HOOK_COLUMNS}`,
    [meshId, pubkey],
  );
  if (!row) return null;
  const entry = toPendingHook(row);
  return entry.receivedAt >= notBefore ? entry : null;
}

/**
 * Joins unless the member is already in `maxChannels` channels (SPEC §7: 64); the count and the
 * insert are one statement. True when the member is in the channel afterwards (joined now or
 * before), false when the cap refused it.
 */
export function* joinChannel(
  meshId: string,
  channel: string,
  memberId: string,
  maxChannels: number = MAX_CHANNELS_PER_MEMBER,
): Op<boolean> {
  const inserted = yield* exec(
    `INSERT INTO channel_members (mesh_id, channel, member_id)
     SELECT ?, ?, ? WHERE (SELECT COUNT(*) FROM channel_members WHERE mesh_id = ? AND member_id = ?) < ?
     ON CONFLICT DO NOTHING`,
    [meshId, channel, memberId, meshId, memberId, maxChannels],
  );
  if (inserted > 0) return true;
  const already = yield* first(
    "SELECT 1 AS one FROM channel_members WHERE mesh_id = ? AND channel = ? AND member_id = ?",
    [meshId, channel, memberId],
  );
  return already !== null;
}

export function* leaveChannel(meshId: string, channel: string, memberId: string): Op<void> {
  yield* exec("DELETE FROM channel_members WHERE mesh_id = ? AND channel = ? AND member_id = ?", [
    meshId,
    channel,
    memberId,
  ]);
}

export function* listChannelMembers(meshId: string, channel: string): Op<string[]> {
  const result = yield* rows(
    "SELECT member_id FROM channel_members WHERE mesh_id = ? AND channel = ? ORDER BY member_id",
    [meshId, channel],
  );
  return result.map((r) => String(r.member_id));
}

export function* listChannelsByMember(meshId: string): Op<Map<string, string[]>> {
  const result = yield* rows(
    "SELECT member_id, channel FROM channel_members WHERE mesh_id = ? ORDER BY member_id, channel",
    [meshId],
  );
  const byMember = new Map<string, string[]>();
  for (const r of result) {
    const memberId = String(r.member_id);
    const list = byMember.get(memberId);
    if (list) list.push(String(r.channel));
    else byMember.set(memberId, [String(r.channel)]);
  }
  return byMember;
}

export function* appendAudit(e: AuditEntry): Op<void> {
  yield* exec("INSERT INTO audit_log (mesh_id, action, actor_pubkey, detail, at) VALUES (?, ?, ?, ?, ?)", [
    e.meshId,
    e.action,
    e.actorPubkey,
    JSON.stringify(e.detail),
    e.at,
  ]);
}

/** Newest first. */
export function* listAudit(meshId: string, limit: number): Op<AuditEntry[]> {
  const result = yield* rows(
    "SELECT mesh_id, action, actor_pubkey, detail, at FROM audit_log WHERE mesh_id = ? ORDER BY id DESC LIMIT ?",
    [meshId, Math.max(0, Math.floor(limit))],
  );
  return result.map(toAudit);
}
