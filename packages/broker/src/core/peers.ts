// The `list_peers` view (SPEC §3): members joined with presence, status and channels, as one viewer may see them.
import type { Peer } from "@claudemesh/protocol";
import type { MemberRow, PresenceRow } from "../store/types.js";
import { effectiveStatus, type StatusTimings } from "./status.js";

export interface PeerViewTimings extends StatusTimings {
  /** A dropped peer is held (status and summary kept) this long before it counts as left. */
  presenceGraceMs: number;
  /**
   * An `online` row whose heartbeat is older than this belongs to a broker that died without
   * marking its presences offline; it is shown offline instead of as a ghost.
   */
  staleOnlineMs: number;
}

/** The member a row answers to: its parent for an agent peer, itself for a member. */
function familyOf(member: MemberRow): string {
  return member.parentMemberId ?? member.id;
}

/**
 * True when `viewer` may see `peer`'s working directory: SPEC §3 shows cwd "only to agents of the
 * same member" — a person's own agents, i.e. the member and the agents enrolled under it.
 */
export function maySeeCwd(viewer: MemberRow, peer: MemberRow): boolean {
  return familyOf(viewer) === familyOf(peer);
}

/** Whether a presence row counts as connected at `now`. */
export function isOnline(row: PresenceRow | undefined, now: number, timings: PeerViewTimings): boolean {
  if (!row || !row.online) return false;
  return row.lastSeenAt === null || now - row.lastSeenAt <= timings.staleOnlineMs;
}

/**
 * True while an offline peer is within its grace: it keeps its status and summary so that a quick
 * reconnect is seamless (SPEC §3 Liveness). After the grace it has left and reads as a fresh idle peer.
 */
export function isHeld(row: PresenceRow, now: number, timings: PeerViewTimings): boolean {
  const since = row.disconnectedAt ?? row.lastSeenAt;
  return since !== null && now - since <= timings.presenceGraceMs;
}

/**
 * Builds the peers list for `viewer`: every non-revoked member and agent of the mesh (the viewer
 * included, so a client can show its own state; it filters itself by pubkey if it wants).
 */
export function buildPeerList(input: {
  viewer: MemberRow;
  members: readonly MemberRow[];
  presence: ReadonlyMap<string, PresenceRow>;
  channelsByMember: ReadonlyMap<string, readonly string[]>;
  /** Parent member id → pubkey when `members` is one page (a parent may be on another); default: looked up in `members`. */
  parentPubkeys?: ReadonlyMap<string, string>;
  now: number;
  timings: PeerViewTimings;
}): Peer[] {
  const { viewer, members, presence, channelsByMember, now, timings } = input;
  const pubkeyById = input.parentPubkeys ?? new Map(members.map((member) => [member.id, member.pubkey]));
  const peers: Peer[] = [];
  for (const member of members) {
    if (member.revokedAt !== null) continue;
    const row = presence.get(member.id);
    const online = isOnline(row, now, timings);
    const held = row !== undefined && !online && isHeld(row, now, timings);
    const live = row !== undefined && (online || held);
    const status = live
      ? effectiveStatus({ status: row.status, source: row.statusSource, at: row.statusAt }, now, timings)
          .status
      : "idle";
    const peer: Peer = {
      memberId: member.id,
      pubkey: member.pubkey,
      displayName: member.displayName,
      role: member.role,
      parent: member.parentMemberId === null ? null : (pubkeyById.get(member.parentMemberId) ?? null),
      status,
      summary: live ? row.summary : null,
      online,
      lastSeenAt:
        row !== undefined && row.lastSeenAt !== null ? new Date(row.lastSeenAt).toISOString() : null,
      channels: [...(channelsByMember.get(member.id) ?? [])].sort(),
    };
    if (live && row.cwd !== null && maySeeCwd(viewer, member)) peer.cwd = row.cwd;
    peers.push(peer);
  }
  return peers;
}
