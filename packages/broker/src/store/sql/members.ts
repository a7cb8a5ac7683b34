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
 * suffix would push the name past MAX_DISPLAY_NAME_CHARS), against a known set of taken names: the
 * rule uniqueDisplayName applies with indexed lookups instead of a set of every name.
 */
export function pickFreeName(
  wanted: string,
  taken: ReadonlySet<string>,
  key: (name: string) => string = (name) => name,
): string {
  if (!taken.has(key(wanted))) return wanted;
  // taken is finite, so one of the first taken.size + 1 suffixes is free.
  for (const candidate of suffixedNames(wanted, 2, taken.size + 1)) {
    if (!taken.has(key(candidate))) return candidate;
  }
  throw new Error("pickFreeName: no free name found (unreachable)");
}

/** Candidate suffixes probed per indexed lookup; each further round probes twice as many. */
const FIRST_PROBE_BATCH = 64;
/** The largest batch: keeps one lookup far below either store's parameter limit. */
const MAX_PROBE_BATCH = 512;

/**
 * The candidates pickFreeName would try after `wanted`, numbered from..from+count-1 (`wanted-2`, …),
 * with the base shortened when the suffix would push the name past MAX_DISPLAY_NAME_CHARS.
 */
export function suffixedNames(wanted: string, from: number, count: number): string[] {
  // Cut by characters, not UTF-16 units, so a non-BMP letter is never split.
  const chars = [...wanted];
  const names: string[] = [];
  for (let n = from; n < from + count; n++) {
    const suffix = `-${n}`;
    names.push(`${chars.slice(0, MAX_DISPLAY_NAME_CHARS - suffix.length).join("")}${suffix}`);
  }
  return names;
}

/** Which of these name keys (skeletons) the mesh already holds: one lookup on members_mesh_name_key. */
function* takenKeys(meshId: string, keys: readonly string[]): Op<Set<string>> {
  const found = yield* rows(
    `SELECT name_key FROM members WHERE mesh_id = ? AND name_key IN (${keys.map(() => "?").join(", ")})`,
    [meshId, ...keys],
  );
  return new Set(found.map((r) => String(r.name_key)));
}

/**
 * The first name among `wanted`, `wanted-2`, … whose skeleton no member of the mesh holds (revoked
 * members keep their names). Compared by skeleton (SPEC §1 names; protocol display-name.ts): `José`,
 * `jose` and `јose` (Cyrillic ј) are one name, so a look-alike is admitted only with a suffix, never
 * as a twin. Each round is one indexed lookup of a batch of candidates (batches double), so the cost
 * follows how many members share this name, not how many the mesh has.
 */
function* uniqueDisplayName(meshId: string, wanted: string): Op<string> {
  const wantedKey = displayNameSkeleton(wanted);
  if ((yield* takenKeys(meshId, [wantedKey])).size === 0) return wanted;
  for (
    let from = 2, count = FIRST_PROBE_BATCH;
    ;
    from += count, count = Math.min(count * 2, MAX_PROBE_BATCH)
  ) {
    const candidates = suffixedNames(wanted, from, count);
    const taken = yield* takenKeys(meshId, candidates.map(displayNameSkeleton));
    const free = candidates.find((name) => !taken.has(displayNameSkeleton(name)));
    if (free !== undefined) return free;
  }
}

/**
 * Fills members.name_key for rows written before it existed (migration "display-name keys"), in
 * creation order: a row whose skeleton an earlier row of its mesh already holds keeps NULL (the
 * unique index admits any number of NULLs), so old look-alike twins survive and new names still
 * collide with the first of them.
 */
export function* backfillNameKeys(): Op<void> {
  const all = yield* rows("SELECT id, mesh_id, display_name FROM members ORDER BY created_at, id");
  const held = new Set<string>();
  for (const r of all) {
    const key = displayNameSkeleton(String(r.display_name));
    const scoped = `${String(r.mesh_id)}\n${key}`;
    if (held.has(scoped)) continue;
    held.add(scoped);
    yield* exec("UPDATE members SET name_key = ? WHERE id = ?", [key, r.id]);
  }
}

/** Name-taken retries inside one insert before the whole transaction is run again. */
const NAME_ATTEMPTS = 8;

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
 * Inserts a member under a unique display name. The unique index on (mesh_id, name_key) makes a
 * twin impossible: a name committed meanwhile by a concurrent transaction makes the insert do
 * nothing (PostgreSQL waits for that transaction first), and the next free name is probed again —
 * each statement sees what was committed before it. A lost pubkey race restarts the operation.
 */
function* insertMember(m: NewMember): Op<MemberRow> {
  for (let attempt = 0; attempt < NAME_ATTEMPTS; attempt++) {
    const displayName = yield* uniqueDisplayName(m.meshId, m.displayName);
    const row = yield* first(
      `INSERT INTO members (id, mesh_id, pubkey, display_name, name_key, role, parent_member_id, created_at, revoked_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING ${MEMBER_COLUMNS}`,
      [
        m.id,
        m.meshId,
        m.pubkey,
        displayName,
        displayNameSkeleton(displayName),
        m.role,
        m.parentMemberId,
        m.createdAt,
        m.revokedAt,
      ],
    );
    if (row) return toMember(row);
    if (yield* first("SELECT 1 AS hit FROM members WHERE mesh_id = ? AND pubkey = ?", [m.meshId, m.pubkey]))
      break;
  }
  throw new RetryTransaction(`member insert conflicted in mesh ${m.meshId}`);
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
