// Store rules of revocation (SPEC §2 POST /members/revoke, §7 agent retirement): who may revoke whom,
// the last-admin rule, and the effects in one transaction (member + agents, revoked receipts, queue deleted).
import type { RevokeResult } from "../types.js";
import type { Dialect } from "./dialect.js";
import { markRevokedReceipts } from "./receipts.js";
import { exec, first, rows, type Op, type RawRow } from "./op.js";
import { MEMBER_SELECT } from "./members.js";
import { toMember } from "./rows.js";

export interface RevokeInput {
  meshId: string;
  targetPubkey: string;
  /** Who asks: an admin, the target itself (leave), or the target's parent member. Omitted: the broker itself. */
  byPubkey?: string;
  now: number;
}

function ids(result: readonly RawRow[]): string[] {
  return result.map((r) => String(r.id));
}

/**
 * Marks `memberIds` revoked (earlier revocation times are kept), gives each undelivered copy to them
 * a `revoked` receipt and deletes those copies. Returns the ids newly revoked and the senders to wake.
 */
export function* revokeIds(
  d: Dialect,
  memberIds: readonly string[],
  now: number,
): Op<{ newly: string[]; senders: string[]; deleted: number }> {
  if (memberIds.length === 0) return { newly: [], senders: [], deleted: 0 };
  if (d.lockForUpdate)
    yield* rows(`SELECT id FROM members WHERE ${d.anyOf("id")} ORDER BY id ${d.lockForUpdate}`, [
      d.list(memberIds),
    ]);
  const newly = ids(
    yield* rows(
      `UPDATE members SET revoked_at = ? WHERE ${d.anyOf("id")} AND revoked_at IS NULL RETURNING id`,
      [now, d.list(memberIds)],
    ),
  );
  const { senders } = yield* markRevokedReceipts(d, memberIds, now);
  const deleted = yield* exec(
    `DELETE FROM deliveries WHERE ${d.anyOf("recipient_member_id")} AND delivered_at IS NULL`,
    [d.list(memberIds)],
  );
  return { newly, senders, deleted };
}

/**
 * One revocation request (SPEC §2). Serialised per mesh by a write to the mesh row (PostgreSQL row
 * lock; SQLite runs one writer anyway), so two admins leaving at once cannot both pass the
 * last-admin check. Idempotent: an already revoked target is answered `revoked` again.
 */
export function* revokeMember(d: Dialect, input: RevokeInput): Op<RevokeResult> {
  const locked = yield* exec("UPDATE meshes SET slug = slug WHERE id = ?", [input.meshId]);
  if (locked === 0) return { kind: "not_found", what: "mesh" };
  const targetRow = yield* first(`${MEMBER_SELECT} WHERE m.mesh_id = ? AND m.pubkey = ?`, [
    input.meshId,
    input.targetPubkey,
  ]);
  if (!targetRow) return { kind: "not_found", what: "target" };
  const target = toMember(targetRow);

  if (input.byPubkey !== undefined && input.byPubkey !== target.pubkey) {
    const byRow = yield* first(`${MEMBER_SELECT} WHERE m.mesh_id = ? AND m.pubkey = ?`, [
      input.meshId,
      input.byPubkey,
    ]);
    const by = byRow ? toMember(byRow) : null;
    if (!by) return { kind: "unauthorized" };
    if (by.revokedAt !== null) return { kind: "by_revoked" };
    const isAdmin = by.role === "admin" && by.parentMemberId === null;
    const isParent = target.parentMemberId === by.id;
    if (!isAdmin && !isParent) return { kind: "forbidden" };
  }

  if (target.revokedAt === null && target.parentMemberId === null && target.role === "admin") {
    const others = yield* first(
      `SELECT
         SUM(CASE WHEN role = 'admin' THEN 1 ELSE 0 END) AS admins,
         COUNT(*) AS members
       FROM members WHERE mesh_id = ? AND parent_member_id IS NULL AND revoked_at IS NULL AND id <> ?`,
      [input.meshId, target.id],
    );
    if (Number(others?.admins ?? 0) === 0 && Number(others?.members ?? 0) > 0)
      return { kind: "last_admin", otherMembers: Number(others?.members) };
  }

  // The target and, for a member, every agent enrolled under it (SPEC §1).
  const family = (yield* rows(`${MEMBER_SELECT} WHERE m.id = ? OR m.parent_member_id = ?`, [
    target.id,
    target.id,
  ])).map(toMember);
  const memberIds = family.map((m) => m.id);
  const effect = yield* revokeIds(d, memberIds, input.now);
  return {
    kind: "revoked",
    target,
    revoked: family.map((m) => ({ memberId: m.id, pubkey: m.pubkey })),
    newlyRevoked: effect.newly,
    receiptSenders: effect.senders,
    deletedDeliveries: effect.deleted,
  };
}

/**
 * Agent retirement (SPEC §7 lifecycle): active agents not seen for the idle window (last presence
 * heartbeat, or enrolment when never connected) are revoked like any revocation, `limit` at a time.
 */
export function* retireIdleAgents(
  d: Dialect,
  seenBefore: number,
  now: number,
  limit: number,
): Op<{ retired: string[]; senders: string[] }> {
  const idle = ids(
    yield* rows(
      `SELECT m.id FROM members m
       LEFT JOIN members p ON p.id = m.parent_member_id
       LEFT JOIN presence s ON s.member_id = m.id
       WHERE m.parent_member_id IS NOT NULL AND m.revoked_at IS NULL AND p.revoked_at IS NULL
         AND COALESCE(s.last_seen_at, s.connected_at, m.created_at) < ?
       ORDER BY m.id LIMIT ?`,
      [seenBefore, limit],
    ),
  );
  const effect = yield* revokeIds(d, idle, now);
  return { retired: effect.newly, senders: effect.senders };
}

/** Which of `memberIds` are revoked, directly or through their parent (one indexed read). */
export function* revokedAmong(d: Dialect, memberIds: readonly string[]): Op<string[]> {
  if (memberIds.length === 0) return [];
  return ids(
    yield* rows(
      `SELECT m.id FROM members m LEFT JOIN members p ON p.id = m.parent_member_id
       WHERE ${d.anyOf("m.id")} AND (m.revoked_at IS NOT NULL OR p.revoked_at IS NOT NULL)`,
      [d.list(memberIds)],
    ),
  );
}
