// NOTIFY payloads that carry a delivery row stored leased to a connection on the receiving broker
// (NewDelivery.remoteLeaseUntil): `{o: origin, k: "leased", d: {column: value, …}}`, built in the
// enqueue statement's SQL (leasedPayloadSql) and read back by decodeLeased.
import { MAX_DISPLAY_NAME_CHARS } from "../sql/members.js";
import { toDelivery } from "../sql/rows.js";
import type { LeasedDelivery, NewDelivery, NewMessage } from "../types.js";
import { MAX_PAYLOAD_BYTES, parsePayloadObject } from "./wakeup-payload.js";

/**
 * A delivery is stored leased to another broker's connection only when its own variable parts (the
 * nonce, ciphertext, target spec and message id) take at most this many bytes: the rest of the
 * payload — column names, ids the broker makes, numbers, the sender's key and a display name of at
 * most MAX_DISPLAY_NAME_CHARS characters — stays far below the remaining room.
 */
export const REMOTE_LEASE_MAX_BYTES = 6_000;
const OTHER_PAYLOAD_BYTES = 1_000 + 4 * MAX_DISPLAY_NAME_CHARS;
if (REMOTE_LEASE_MAX_BYTES + OTHER_PAYLOAD_BYTES > MAX_PAYLOAD_BYTES)
  throw new Error("leased-payload: REMOTE_LEASE_MAX_BYTES leaves no room for the rest of the payload");

/** True when this delivery's row fits one leased payload (see REMOTE_LEASE_MAX_BYTES). */
export function fitsLeasedPayload(message: NewMessage, delivery: NewDelivery): boolean {
  const bytes =
    Buffer.byteLength(delivery.nonce) +
    Buffer.byteLength(delivery.ciphertext) +
    Buffer.byteLength(message.targetSpec) +
    Buffer.byteLength(message.messageId);
  return message.body === undefined && bytes <= REMOTE_LEASE_MAX_BYTES;
}

/** The columns of an inserted delivery row the payload carries (its INSERT's RETURNING list). */
export const LEASED_RETURNING =
  "seq, message_id, mesh_id, sender_member_id, recipient_member_id, target_spec, priority, nonce, ciphertext, " +
  "created_at, lease_until, lease_owner";

/** The payload text for the inserted row `i` (LEASED_RETURNING), told by the store instance at `$originParam`. */
export function leasedPayloadSql(originParam: number): string {
  const columns = LEASED_RETURNING.split(", ").map((c) => `'${c}', i.${c}`);
  return `json_build_object('o', $${originParam}::text, 'k', 'leased', 'd', json_build_object(
      ${columns.join(", ")},
      'sender_pubkey', (SELECT pubkey FROM members WHERE members.id = i.sender_member_id),
      'sender_name', (SELECT display_name FROM members WHERE members.id = i.sender_member_id)))::text`;
}

/** A leased payload's origin and row; null for anything else (another kind, or malformed). */
export function decodeLeased(payload: string): { origin: string; delivery: LeasedDelivery } | null {
  const value = parsePayloadObject(payload);
  if (!value) return null;
  const { o, k, d } = value;
  if (k !== "leased" || typeof o !== "string" || d === null || typeof d !== "object") return null;
  const row = d as Record<string, unknown>;
  const { lease_owner: leaseOwner, lease_until: leaseUntil } = row;
  if (typeof leaseOwner !== "string" || typeof leaseUntil !== "number") return null;
  try {
    return { origin: o, delivery: { ...toDelivery(row), leaseOwner, leaseUntil } };
  } catch {
    return null;
  }
}
