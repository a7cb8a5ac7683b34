// Recipient resolution for `send` (SPEC §3 Messages, §4): who a direct, broadcast or channel send must reach, checked against its sealed keys.
import { isFanoutTarget, type Send } from "@claudemesh/protocol";
import type { GroupBody, MemberRow, NewDelivery } from "../store/types.js";

/** The active (non-revoked) members and agents of one mesh, indexed for routing. */
export interface MeshMembership {
  readonly meshId: string;
  readonly byPubkey: ReadonlyMap<string, MemberRow>;
  readonly byId: ReadonlyMap<string, MemberRow>;
  /** Channel name → member ids (only active members). */
  readonly channels: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Builds a membership snapshot; revoked rows are dropped (SPEC §4: a revoked member gets nothing new). */
export function buildMembership(
  meshId: string,
  members: readonly MemberRow[],
  channelsByMember: ReadonlyMap<string, readonly string[]>,
): MeshMembership {
  const byPubkey = new Map<string, MemberRow>();
  const byId = new Map<string, MemberRow>();
  for (const member of members) {
    if (member.revokedAt !== null) continue;
    byPubkey.set(member.pubkey, member);
    byId.set(member.id, member);
  }
  const channels = new Map<string, Set<string>>();
  for (const [memberId, names] of channelsByMember) {
    if (!byId.has(memberId)) continue;
    for (const name of names) {
      let set = channels.get(name);
      if (!set) channels.set(name, (set = new Set()));
      set.add(memberId);
    }
  }
  return { meshId, byPubkey, byId, channels };
}

export type RouteResult =
  /** `body` is set for a group send: each delivery then carries its recipient's sealed key. */
  | { ok: true; deliveries: NewDelivery[]; body?: GroupBody }
  | { ok: false; code: "unknown_target"; message: string }
  | { ok: false; code: "recipients_mismatch"; message: string; expected: string[] };

/** The members a fan-out target must reach now: everyone else (`*`) or the channel's other members (`#name`). */
export function fanoutRecipients(
  membership: MeshMembership,
  targetSpec: string,
  senderId: string,
): MemberRow[] {
  const out: MemberRow[] = [];
  if (targetSpec === "*") {
    for (const member of membership.byId.values()) if (member.id !== senderId) out.push(member);
    return out;
  }
  const ids = membership.channels.get(targetSpec.slice(1));
  if (!ids) return out;
  for (const id of ids) {
    const member = membership.byId.get(id);
    if (member && id !== senderId) out.push(member);
  }
  return out;
}

/**
 * Resolves a validated `send` into one delivery per recipient, or the error the sender gets.
 * Direct sends must name an active member or agent of the sender's own mesh other than the sender:
 * a direct send to oneself is refused as `unknown_target` (it would only loop an agent's words
 * back to it, and fan-outs exclude the sender too). A group send's `keys` must address exactly the
 * current recipients — no more, no fewer — else nothing is stored and `expected` lists them; the
 * body is stored once and each recipient's delivery holds only its sealed key (SPEC §4).
 */
export function routeSend(membership: MeshMembership, frame: Send, senderId: string): RouteResult {
  if (!isFanoutTarget(frame.targetSpec)) {
    const target = membership.byPubkey.get(frame.targetSpec);
    if (!target) {
      return { ok: false, code: "unknown_target", message: "target is not an active member of this mesh" };
    }
    if (target.id === senderId) {
      return { ok: false, code: "unknown_target", message: "a peer cannot send a direct message to itself" };
    }
    // The schema guarantees nonce and ciphertext on a direct send.
    return {
      ok: true,
      deliveries: [{ recipientMemberId: target.id, nonce: frame.nonce!, ciphertext: frame.ciphertext! }],
    };
  }
  const recipients = fanoutRecipients(membership, frame.targetSpec, senderId);
  const keys = frame.keys ?? [];
  const expectedKeys = new Set(recipients.map((member) => member.pubkey));
  // The schema refuses a repeated `to`, so equal sizes and every key expected means the same set.
  const exact = keys.length === expectedKeys.size && keys.every((key) => expectedKeys.has(key.to));
  if (!exact || recipients.length === 0) {
    const expected = [...expectedKeys].sort();
    const what =
      frame.targetSpec === "*" ? "the other members of the mesh" : `the other members of ${frame.targetSpec}`;
    return {
      ok: false,
      code: "recipients_mismatch",
      message:
        recipients.length === 0
          ? `${frame.targetSpec} has no other members to deliver to`
          : `keys must address exactly ${what} (${expected.length}); reseal for the expected list and retry`,
      expected,
    };
  }
  // The schema guarantees body and sig on a group send.
  return {
    ok: true,
    body: { nonce: frame.body!.nonce, ciphertext: frame.body!.ciphertext, sig: frame.sig! },
    deliveries: keys.map((key) => ({
      recipientMemberId: membership.byPubkey.get(key.to)!.id,
      nonce: key.nonce,
      ciphertext: key.sealedKey,
    })),
  };
}
