// Store rules of the members aggregate (SPEC §1–§2), run by both adapters: meshes, members and agents,
// display-name suffixing, invite-use claims, idempotent redeem/enroll, the agents-per-member cap.
import { displayNameSkeleton } from "@claudemesh/protocol";
import { AgentLimitError, type MemberRow, type MeshRow, type RedeemResult, type Store } from "../types.js";
import { exec, first, rows, RetryTransaction, type Op } from "./op.js";
import { MEMBER_COLUMNS, MESH_COLUMNS, toMember, toMesh } from "./rows.js";

/**
 * Member rows with their effective revocation: an agent counts as revoked when its parent member
 * is (SPEC §1: revoking a member revokes its agents), even if its own row was never updated.
 */
export const MEMBER_SELECT =
  "SELECT m.id, m.mesh_id, m.pubkey, m.display_name, m.role, m.parent_member_id, m.created_at, " +
  "COALESCE(m.revoked_at, p.revoked_at) AS revoked_at " +
  "FROM members m LEFT JOIN members p ON p.id = m.parent_member_id";

/**
 * Longest display name; equals MAX_NAME_CHARS of @claudemesh/protocol (asserted by the store tests),
 * duplicated so the store has no runtime dependency on the protocol package.
 */
export const MAX_DISPLAY_NAME_CHARS = 64;

type Input<K extends keyof Store> = Store[K] extends (input: infer I, ...rest: never[]) => unknown
  ? I
  : never;

// ---------------------------------------------------------------- meshes and members

export function* getMesh(meshId: string): Op<MeshRow | null> {
  const row = yield* first(`SELECT ${MESH_COLUMNS} FROM meshes WHERE id = ?`, [meshId]);
  return row ? toMesh(row) : null;
}

export function* getMember(meshId: string, pubkey: string): Op<MemberRow | null> {
  const row = yield* first(`${MEMBER_SELECT} WHERE m.mesh_id = ? AND m.pubkey = ?`, [meshId, pubkey]);
  return row ? toMember(row) : null;
}

export function* getMemberById(memberId: string): Op<MemberRow | null> {
  const row = yield* first(`${MEMBER_SELECT} WHERE m.id = ?`, [memberId]);
  return row ? toMember(row) : null;
}

export function* listMembers(meshId: string): Op<MemberRow[]> {
  const result = yield* rows(`${MEMBER_SELECT} WHERE m.mesh_id = ? ORDER BY m.created_at, m.id`, [meshId]);
  return result.map(toMember);
}

/**
 * The first free name among `wanted`, `wanted-2`, `wanted-3`, … (the base is shortened when the
 * suffix would push the name past MAX_DISPLAY_NAME_CHARS).
 */
export function pickFreeName(
  wanted: string,
  taken: ReadonlySet<string>,
  key: (name: string) => string = (name) => name,
): string {
  if (!taken.has(key(wanted))) return wanted;
  // taken is finite, so one of the first taken.size + 2 suffixes is free.
  const chars = [...wanted];
  for (let n = 2; n <= taken.size + 2; n++) {
    const suffix = `-${n}`;
    // Cut by characters, not UTF-16 units, so a non-BMP letter is never split.
    const candidate = `${chars.slice(0, MAX_DISPLAY_NAME_CHARS - suffix.length).join("")}${suffix}`;
    if (!taken.has(key(candidate))) return candidate;
  }
  throw new Error("pickFreeName: no free name found (unreachable)");
}

function* uniqueDisplayName(meshId: string, wanted: string): Op<string> {
  // An index-only range scan of (mesh_id, display_name); meshes hold at most thousands of members.
  const taken = yield* rows("SELECT display_name FROM members WHERE mesh_id = ?", [meshId]);
  // Compared by skeleton (SPEC §1 names; protocol display-name.ts): `José`, `jose` and `јose`
  // (Cyrillic ј) are one name, so a look-alike is admitted only with a suffix, never as a twin.
  return pickFreeName(
    wanted,
    new Set(taken.map((r) => displayNameSkeleton(String(r.display_name)))),
    displayNameSkeleton,
  );
}

interface NewMember {
  id: string;
  meshId: string;
  pubkey: string;
  displayName: string;
  role: MemberRow["role"];
  parentMemberId: string | null;
  createdAt: number;
  revokedAt: number | null;
}

/**
 * Inserts a member under a unique display name. A unique-key race lost to a concurrent transaction
 * (same pubkey or same name committed meanwhile) restarts the whole operation.
 */
function* insertMember(m: NewMember): Op<MemberRow> {
  const displayName = yield* uniqueDisplayName(m.meshId, m.displayName);
  const row = yield* first(
    `INSERT INTO members (id, mesh_id, pubkey, display_name, role, parent_member_id, created_at, revoked_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING ${MEMBER_COLUMNS}`,
    [m.id, m.meshId, m.pubkey, displayName, m.role, m.parentMemberId, m.createdAt, m.revokedAt],
  );
  if (!row) throw new RetryTransaction(`member insert conflicted in mesh ${m.meshId}`);
  return toMember(row);
}

export function* createMesh(input: Input<"createMesh">): Op<{ mesh: MeshRow; owner: MemberRow } | null> {
  const meshRow = yield* first(
    `INSERT INTO meshes (id, slug, name, owner_member_id, created_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (slug) DO NOTHING RETURNING ${MESH_COLUMNS}`,
    [input.meshId, input.slug, input.name, input.ownerMemberId, input.now],
  );
  if (!meshRow) return null;
  const owner = yield* insertMember({
    id: input.ownerMemberId,
    meshId: input.meshId,
    pubkey: input.ownerPubkey,
    displayName: input.ownerName,
    role: "admin",
    parentMemberId: null,
    createdAt: input.now,
    revokedAt: null,
  });
  return { mesh: toMesh(meshRow), owner };
}

/**
 * Invite redemption (SPEC §2): an existing active pubkey is idempotent and a revoked one is refused,
 * both without consuming a use; otherwise one use is claimed with a conditional upsert (the row
 * lock serialises concurrent claimers, so a 1-use invite admits exactly one) and the member added.
 */
export function* redeemInvite(input: Input<"redeemInvite">): Op<RedeemResult> {
  const existing = yield* getMember(input.meshId, input.pubkey);
  if (existing)
    return existing.revokedAt === null ? { kind: "existing", member: existing } : { kind: "revoked" };
  if (input.maxUses < 1) return { kind: "exhausted" };
  const claimed = yield* first(
    `INSERT INTO invite_uses (mesh_id, invite_id, uses, max_uses, first_used_at, last_used_at)
     VALUES (?, ?, 1, ?, ?, ?)
     ON CONFLICT (mesh_id, invite_id) DO UPDATE SET uses = invite_uses.uses + 1, last_used_at = excluded.last_used_at
     WHERE invite_uses.uses < ?
     RETURNING uses`,
    [input.meshId, input.inviteId, input.maxUses, input.now, input.now, input.maxUses],
  );
  if (!claimed) return { kind: "exhausted" };
  const member = yield* insertMember({
    id: input.memberId,
    meshId: input.meshId,
    pubkey: input.pubkey,
    displayName: input.displayName,
    role: input.role,
    parentMemberId: null,
    createdAt: input.now,
    revokedAt: null,
  });
  return { kind: "joined", member };
}

/**
 * Agent enrolment (SPEC §1): idempotent per (mesh, agent pubkey): an existing row is returned
 * unchanged (callers compare its parentMemberId). The parent must be a top-level member of the
 * mesh; an agent enrolled under a revoked parent is stored revoked. With `maxAgents`, a new agent
 * beyond that many active agents of the parent throws AgentLimitError (SPEC §7), inside the
 * transaction, so concurrent enrolments cannot overshoot.
 */
export function* enrollAgent(input: Input<"enrollAgent">): Op<MemberRow> {
  const existing = yield* getMember(input.meshId, input.agentPubkey);
  if (existing) return existing;
  const parent = yield* getMemberById(input.parentMemberId);
  if (!parent || parent.meshId !== input.meshId) {
    throw new Error(`enrollAgent: parent member ${input.parentMemberId} is not in mesh ${input.meshId}`);
  }
  if (parent.parentMemberId !== null) {
    throw new Error(
      `enrollAgent: parent ${input.parentMemberId} is itself an agent peer; enroll under its member`,
    );
  }
  if (input.maxAgents !== undefined) {
    // A write to the parent row serialises enrolments under one parent (PostgreSQL row lock; SQLite
    // runs one writer anyway), so concurrent enrolments cannot all pass the count below.
    yield* exec("UPDATE members SET revoked_at = revoked_at WHERE id = ?", [parent.id]);
    const active = yield* countActiveAgents(parent.id);
    if (active >= input.maxAgents) throw new AgentLimitError(input.maxAgents, active);
  }
  return yield* insertMember({
    id: input.memberId,
    meshId: input.meshId,
    pubkey: input.agentPubkey,
    displayName: input.agentName,
    // Agents act for their person but never inherit admin rights (e.g. signing invites).
    role: "member",
    parentMemberId: parent.id,
    createdAt: input.now,
    revokedAt: parent.revokedAt,
  });
}

/** Active (not revoked) agents enrolled under a member. */
export function* countActiveAgents(parentMemberId: string): Op<number> {
  const row = yield* first(
    "SELECT COUNT(*) AS n FROM members WHERE parent_member_id = ? AND revoked_at IS NULL",
    [parentMemberId],
  );
  return Number(row?.n ?? 0);
}

/** A member's id and the ids of the agents enrolled under it (an agent: just its own id). */
export function* familyIds(memberId: string): Op<string[]> {
  const result = yield* rows("SELECT id FROM members WHERE id = ? OR parent_member_id = ?", [
    memberId,
    memberId,
  ]);
  return result.map((r) => String(r.id));
}
