// Column lists and row mappers shared by both adapters (PostgreSQL returns BIGINT as strings, SQLite
// returns booleans as 0/1: both are normalised here).
import type { Priority, Role, Status, StatusSource } from "@claudemesh/protocol";
import type {
  AuditEntry,
  DeliveryRow,
  GroupBody,
  MemberRow,
  MeshRow,
  PendingHookStatus,
  PresenceRow,
} from "../types.js";
import { BODY_OF_DELIVERY_COLUMNS } from "./group-bodies.js";
import type { RawRow } from "./op.js";

export const MESH_COLUMNS = "id, slug, name, owner_member_id, created_at";
export const MEMBER_COLUMNS =
  "id, mesh_id, pubkey, display_name, role, parent_member_id, created_at, revoked_at";
export const PRESENCE_COLUMNS =
  "member_id, presence_id, broker_id, session_id, pid, cwd, online, connected_at, last_seen_at, " +
  "disconnected_at, status, status_source, status_at, summary";
export const PENDING_HOOK_COLUMNS = "mesh_id, pubkey, status, cwd, pid, session_id, received_at";
/** Delivery columns plus the sender's current pubkey and name, and a group message's body (for the push frame). */
export const DELIVERY_COLUMNS =
  "seq, message_id, mesh_id, sender_member_id, recipient_member_id, target_spec, priority, nonce, ciphertext, " +
  "created_at, " +
  "(SELECT pubkey FROM members WHERE members.id = deliveries.sender_member_id) AS sender_pubkey, " +
  "(SELECT display_name FROM members WHERE members.id = deliveries.sender_member_id) AS sender_name, " +
  BODY_OF_DELIVERY_COLUMNS;

function str(row: RawRow, column: string): string {
  const value = row[column];
  if (typeof value !== "string") throw new TypeError(`store row: column ${column} is not text`);
  return value;
}

function strOrNull(row: RawRow, column: string): string | null {
  const value = row[column];
  return value === null || value === undefined ? null : str(row, column);
}

/** BIGINT/INTEGER column as a JS number (epoch ms fit in 2^53). */
function num(row: RawRow, column: string): number {
  const value = row[column];
  const n = typeof value === "bigint" ? Number(value) : typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n))
    throw new TypeError(`store row: column ${column} is not a number`);
  return n;
}

function numOrNull(row: RawRow, column: string): number | null {
  const value = row[column];
  return value === null || value === undefined ? null : num(row, column);
}

function bool(row: RawRow, column: string): boolean {
  const value = row[column];
  return value === true || value === 1 || value === "1" || value === "t";
}

export function toMesh(row: RawRow): MeshRow {
  return {
    id: str(row, "id"),
    slug: str(row, "slug"),
    name: str(row, "name"),
    ownerMemberId: str(row, "owner_member_id"),
    createdAt: num(row, "created_at"),
  };
}

export function toMember(row: RawRow): MemberRow {
  return {
    id: str(row, "id"),
    meshId: str(row, "mesh_id"),
    pubkey: str(row, "pubkey"),
    displayName: str(row, "display_name"),
    role: str(row, "role") as Role,
    parentMemberId: strOrNull(row, "parent_member_id"),
    createdAt: num(row, "created_at"),
    revokedAt: numOrNull(row, "revoked_at"),
  };
}

export function toDelivery(row: RawRow): DeliveryRow {
  return {
    seq: num(row, "seq"),
    messageId: str(row, "message_id"),
    meshId: str(row, "mesh_id"),
    senderMemberId: str(row, "sender_member_id"),
    senderPubkey: str(row, "sender_pubkey"),
    senderName: str(row, "sender_name"),
    recipientMemberId: str(row, "recipient_member_id"),
    targetSpec: str(row, "target_spec"),
    priority: str(row, "priority") as Priority,
    nonce: str(row, "nonce"),
    ciphertext: str(row, "ciphertext"),
    body: toGroupBody(row),
    createdAt: num(row, "created_at"),
  };
}

/** The body columns of BODY_OF_DELIVERY_COLUMNS / storedEnvelopes, or null for a direct copy. */
export function toGroupBody(row: RawRow): GroupBody | null {
  if (row.body_nonce === null || row.body_nonce === undefined) return null;
  return {
    nonce: str(row, "body_nonce"),
    ciphertext: str(row, "body_ciphertext"),
    sig: str(row, "body_sig"),
  };
}

export function toPresence(row: RawRow): PresenceRow {
  return {
    memberId: str(row, "member_id"),
    presenceId: strOrNull(row, "presence_id"),
    brokerId: strOrNull(row, "broker_id"),
    sessionId: strOrNull(row, "session_id"),
    pid: numOrNull(row, "pid"),
    cwd: strOrNull(row, "cwd"),
    online: bool(row, "online"),
    connectedAt: numOrNull(row, "connected_at"),
    lastSeenAt: numOrNull(row, "last_seen_at"),
    disconnectedAt: numOrNull(row, "disconnected_at"),
    status: str(row, "status") as Status,
    statusSource: str(row, "status_source") as StatusSource,
    statusAt: num(row, "status_at"),
    summary: strOrNull(row, "summary"),
  };
}

/** Parameters in PRESENCE_COLUMNS order (booleans as 0/1, accepted by both dialects). */
export function presenceParams(p: PresenceRow): unknown[] {
  return [
    p.memberId,
    p.presenceId,
    p.brokerId,
    p.sessionId,
    p.pid,
    p.cwd,
    p.online ? 1 : 0,
    p.connectedAt,
    p.lastSeenAt,
    p.disconnectedAt,
    p.status,
    p.statusSource,
    p.statusAt,
    p.summary,
  ];
}

export function toPendingHook(row: RawRow): PendingHookStatus {
  return {
    meshId: str(row, "mesh_id"),
    pubkey: str(row, "pubkey"),
    status: str(row, "status") as Status,
    cwd: str(row, "cwd"),
    pid: num(row, "pid"),
    sessionId: strOrNull(row, "session_id"),
    receivedAt: num(row, "received_at"),
  };
}

export function toAudit(row: RawRow): AuditEntry {
  const parsed: unknown = JSON.parse(str(row, "detail"));
  return {
    meshId: strOrNull(row, "mesh_id"),
    action: str(row, "action"),
    actorPubkey: strOrNull(row, "actor_pubkey"),
    detail: parsed as AuditEntry["detail"],
    at: num(row, "at"),
  };
}
