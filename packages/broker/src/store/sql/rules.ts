// The store's business rules, written once as SQL operations both adapters run (SPEC §1–§3):
// display-name suffixing, invite-use claims, idempotent redeem/enroll, claim order, sweeps.
import type {
  AuditEntry,
  ClaimOptions,
  DeliveryRow,
  MemberRow,
  MeshRow,
  NewDelivery,
  NewMessage,
  PendingHookStatus,
  PresenceRow,
  RedeemResult,
  Store,
} from "../types.js";
import type { Dialect } from "./dialect.js";
import { exec, first, rows, RetryTransaction, type Op } from "./op.js";
import {
  DELIVERY_COLUMNS,
  MEMBER_COLUMNS,
  MESH_COLUMNS,
  PENDING_HOOK_COLUMNS,
  PRESENCE_COLUMNS,
  presenceParams,
  toAudit,
  toDelivery,
  toMember,
  toMesh,
  toPendingHook,
  toPresence,
} from "./rows.js";

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
  const row = yield* first(`SELECT ${MEMBER_COLUMNS} FROM members WHERE mesh_id = ? AND pubkey = ?`, [
    meshId,
    pubkey,
  ]);
  return row ? toMember(row) : null;
}

export function* getMemberById(memberId: string): Op<MemberRow | null> {
  const row = yield* first(`SELECT ${MEMBER_COLUMNS} FROM members WHERE id = ?`, [memberId]);
  return row ? toMember(row) : null;
}

export function* listMembers(meshId: string): Op<MemberRow[]> {
  const result = yield* rows(
    `SELECT ${MEMBER_COLUMNS} FROM members WHERE mesh_id = ? ORDER BY created_at, id`,
    [meshId],
  );
  return result.map(toMember);
}

/**
 * The first free name among `wanted`, `wanted-2`, `wanted-3`, … (the base is shortened when the
 * suffix would push the name past MAX_DISPLAY_NAME_CHARS).
 */
export function pickFreeName(wanted: string, taken: ReadonlySet<string>): string {
  if (!taken.has(wanted)) return wanted;
  // taken is finite, so one of the first taken.size + 2 suffixes is free.
  for (let n = 2; n <= taken.size + 2; n++) {
    const suffix = `-${n}`;
    const candidate = `${wanted.slice(0, MAX_DISPLAY_NAME_CHARS - suffix.length)}${suffix}`;
    if (!taken.has(candidate)) return candidate;
  }
  throw new Error("pickFreeName: no free name found (unreachable)");
}

function* uniqueDisplayName(meshId: string, wanted: string): Op<string> {
  // An index-only range scan of (mesh_id, display_name); meshes hold at most thousands of members.
  const taken = yield* rows("SELECT display_name FROM members WHERE mesh_id = ?", [meshId]);
  return pickFreeName(wanted, new Set(taken.map((r) => String(r.display_name))));
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
 * mesh; an agent enrolled under a revoked parent is stored revoked.
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

/** Revokes a member and its agent peers; earlier revocation times are kept. */
export function* revokeMember(memberId: string, now: number): Op<void> {
  yield* exec(
    "UPDATE members SET revoked_at = ? WHERE (id = ? OR parent_member_id = ?) AND revoked_at IS NULL",
    [now, memberId, memberId],
  );
}

// ---------------------------------------------------------------- messages

/** Delivery table columns written by enqueueMessages, in deliveryValues order. */
export const DELIVERY_INSERT_COLUMNS = [
  "message_id",
  "mesh_id",
  "recipient_member_id",
  "sender_member_id",
  "target_spec",
  "priority",
  "nonce",
  "ciphertext",
  "created_at",
  "lease_until",
  "lease_owner",
] as const;

/** Re-enqueueing a stored (recipient, message id) is a no-op, so a retried batch never duplicates. */
export const DELIVERY_INSERT_CONFLICT = "ON CONFLICT (message_id, recipient_member_id) DO NOTHING";

/** One delivery's values in DELIVERY_INSERT_COLUMNS order. */
export function deliveryValues(m: NewMessage, d: NewDelivery): unknown[] {
  return [
    m.messageId,
    m.meshId,
    d.recipientMemberId,
    m.senderMemberId,
    m.targetSpec,
    m.priority,
    d.nonce,
    d.ciphertext,
    m.createdAt,
    d.lease?.until ?? null,
    d.lease?.owner ?? null,
  ];
}

/**
 * Distinct recipients of a batch, in first-seen order (the wake-up payload). Deliveries stored
 * already leased are being pushed by the broker that wrote them, so they wake nobody.
 */
export function recipientIds(messages: readonly NewMessage[]): string[] {
  const ids = new Set<string>();
  for (const m of messages) for (const d of m.deliveries) if (!d.lease) ids.add(d.recipientMemberId);
  return [...ids];
}

/** Unleased deliveries of one recipient at allowed priorities (index deliveries_unleased, in seq order). */
const UNLEASED_WHERE =
  "recipient_member_id = ? AND delivered_at IS NULL AND lease_until IS NULL AND priority IN (?, ?, ?)";
/** Deliveries of one recipient whose lease has run out (index deliveries_leased, a range on lease_until). */
const EXPIRED_WHERE =
  "recipient_member_id = ? AND delivered_at IS NULL AND lease_until IS NOT NULL AND lease_until <= ? AND priority IN (?, ?, ?)";

function prioritySlots(o: ClaimOptions): unknown[] {
  // Three priority slots keep one SQL text per query; unused slots repeat an allowed value.
  const allowed = [...new Set(o.priorities)];
  return [0, 1, 2].map((i) => allowed[i] ?? allowed[0]);
}

/** Claimable deliveries of one recipient: never leased, or leased and expired — two index lookups merged by seq. */
function claimableSeqs(d: Dialect): string {
  return `WITH unleased AS MATERIALIZED (
       SELECT seq FROM deliveries ${d.indexedBy("deliveries_unleased")} WHERE ${UNLEASED_WHERE} ORDER BY seq LIMIT ? ${d.skipLocked}
     ),
     expired AS MATERIALIZED (
       SELECT seq FROM deliveries ${d.indexedBy("deliveries_leased")} WHERE ${EXPIRED_WHERE} ORDER BY seq LIMIT ? ${d.skipLocked}
     ),
     picked AS (
       SELECT seq FROM (SELECT seq FROM unleased UNION ALL SELECT seq FROM expired) AS candidates
       ORDER BY seq LIMIT ?
     )`;
}

function claimableParams(o: ClaimOptions): unknown[] {
  const read = claimReadParams(o);
  return [...read.unleased, ...read.expired, Math.floor(o.limit)];
}

/**
 * The two halves of a claim as plain row reads (never-leased rows; expired leases), for an adapter
 * that merges them itself: on SQLite the UNION and its ordering cost ~80 µs per claim in temp
 * b-trees, against ~5 µs for each indexed read.
 */
export function claimReadSql(
  d: Dialect,
  columns: string = DELIVERY_COLUMNS,
): { unleased: string; expired: string } {
  return {
    unleased: `SELECT ${columns} FROM deliveries ${d.indexedBy("deliveries_unleased")} WHERE ${UNLEASED_WHERE} ORDER BY seq LIMIT ?`,
    expired: `SELECT ${columns} FROM deliveries ${d.indexedBy("deliveries_leased")} WHERE ${EXPIRED_WHERE} ORDER BY seq LIMIT ?`,
  };
}

/** Parameters of claimReadSql's two reads. */
export function claimReadParams(o: ClaimOptions): { unleased: unknown[]; expired: unknown[] } {
  const limit = Math.floor(o.limit);
  const slots = prioritySlots(o);
  return {
    unleased: [o.recipientMemberId, ...slots, limit],
    expired: [o.recipientMemberId, o.now, ...slots, limit],
  };
}

/**
 * Claims in storage order the recipient's claimable deliveries and leases them to `leaseOwner`
 * until now + leaseMs in the same statement. Rows leased to a live connection (pushes awaiting
 * client_ack) are never stepped over. On PostgreSQL each lookup skips rows another claimer holds
 * locked; on SQLite the statement runs in an IMMEDIATE transaction. Either way a delivery with a
 * live lease is never handed out twice.
 */
export function* claimDeliveries(d: Dialect, o: ClaimOptions): Op<DeliveryRow[]> {
  if (o.limit <= 0 || o.priorities.length === 0) return [];
  const claimed = yield* rows(
    `${claimableSeqs(d)}
     UPDATE deliveries SET lease_until = ?, lease_owner = ?
     WHERE seq IN (SELECT seq FROM picked)
     RETURNING ${DELIVERY_COLUMNS}`,
    [...claimableParams(o), o.now + o.leaseMs, o.leaseOwner],
  );
  // RETURNING order is unspecified in both dialects; storage order is the contract.
  return claimed.map(toDelivery).sort((a, b) => a.seq - b.seq);
}

/** Marks the recipient's rows delivered (clearing the lease); rows of other recipients are never touched. */
export function* markDelivered(
  d: Dialect,
  recipientMemberId: string,
  messageIds: readonly string[],
  now: number,
): Op<number> {
  if (messageIds.length === 0) return 0;
  // The inner lookup names no `delivered_at` condition so it can only use the (message_id,
  // recipient) unique key: with the pending index a planner short of statistics (a fresh queue
  // table on PostgreSQL) would scan the recipient's whole backlog per acknowledgement.
  return yield* exec(
    `UPDATE deliveries SET delivered_at = ?, lease_until = NULL, lease_owner = NULL
     WHERE seq IN (SELECT seq FROM deliveries WHERE ${d.anyOf("message_id")} AND recipient_member_id = ?)
       AND delivered_at IS NULL`,
    [now, d.list(messageIds), recipientMemberId],
  );
}

export function* releaseLeases(leaseOwner: string): Op<number> {
  return yield* exec(
    "UPDATE deliveries SET lease_until = NULL, lease_owner = NULL WHERE lease_owner = ? AND delivered_at IS NULL",
    [leaseOwner],
  );
}

export function* earliestForeignLease(
  recipientMemberId: string,
  exceptOwner: string,
  now: number,
): Op<number | null> {
  const row = yield* first(
    `SELECT MIN(lease_until) AS t FROM deliveries
     WHERE recipient_member_id = ? AND delivered_at IS NULL AND lease_until > ? AND lease_owner <> ?`,
    [recipientMemberId, now, exceptOwner],
  );
  return row?.t === null || row?.t === undefined ? null : Number(row.t);
}

export function* countPending(recipientMemberId: string): Op<number> {
  // Two counts, each matching one partial index's predicate (unleased / leased), instead of a scan.
  const row = yield* first(
    `SELECT
       (SELECT COUNT(*) FROM deliveries WHERE recipient_member_id = ? AND delivered_at IS NULL AND lease_until IS NULL) +
       (SELECT COUNT(*) FROM deliveries WHERE recipient_member_id = ? AND delivered_at IS NULL AND lease_until IS NOT NULL)
       AS n`,
    [recipientMemberId, recipientMemberId],
  );
  return Number(row?.n ?? 0);
}

/** Rows deleted per sweep statement, so a large sweep never holds the write lock for long. */
export const SWEEP_CHUNK_ROWS = 5_000;

/**
 * One bounded step of the retention sweep (SPEC §3): delivered rows go at once, undelivered ones
 * once created before `olderThan`. Returns how many rows it deleted; the caller repeats the step
 * until it deletes fewer than `chunk`, letting other writers in between steps.
 */
export function* sweepStep(olderThan: number, chunk: number = SWEEP_CHUNK_ROWS): Op<number> {
  return yield* exec(
    `DELETE FROM deliveries WHERE seq IN (
       SELECT seq FROM deliveries WHERE delivered_at IS NOT NULL OR created_at < ? LIMIT ?
     )`,
    [olderThan, chunk],
  );
}

/** Recipients with anything undelivered: the wake-up sent after notifications may have been missed. */
export function* pendingRecipients(): Op<string[]> {
  const result = yield* rows(
    "SELECT DISTINCT recipient_member_id FROM deliveries WHERE delivered_at IS NULL",
  );
  return result.map((r) => String(r.recipient_member_id));
}

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

export function* upsertPresence(row: PresenceRow): Op<void> {
  const params = presenceParams(row);
  yield* exec(
    `INSERT INTO presence (${PRESENCE_COLUMNS}) VALUES (${params.map(() => "?").join(", ")})
     ON CONFLICT (member_id) DO UPDATE SET ${PRESENCE_UPDATE}`,
    params,
  );
}

/** Startup recovery / shutdown: this broker's online rows go offline as of `now`. */
export function* markBrokerPresencesOffline(brokerId: string, now: number): Op<number> {
  return yield* exec(
    "UPDATE presence SET online = ?, disconnected_at = ? WHERE broker_id = ? AND online = ?",
    [0, now, brokerId, 1],
  );
}

/** The newest hook status per (mesh, pubkey) wins (SPEC §3: kept until the session connects). */
export function* stashPendingHook(e: PendingHookStatus): Op<void> {
  yield* exec(
    `INSERT INTO pending_hook_status (${PENDING_HOOK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (mesh_id, pubkey) DO UPDATE SET status = excluded.status, cwd = excluded.cwd, pid = excluded.pid,
       session_id = excluded.session_id, received_at = excluded.received_at`,
    [e.meshId, e.pubkey, e.status, e.cwd, e.pid, e.sessionId, e.receivedAt],
  );
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

export function* joinChannel(meshId: string, channel: string, memberId: string): Op<void> {
  yield* exec(
    "INSERT INTO channel_members (mesh_id, channel, member_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
    [meshId, channel, memberId],
  );
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
