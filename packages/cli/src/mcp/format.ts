// Plain-text renderings of peers for list_peers: what the agent reads, peer-written fields neutralized (SPEC §5).
import type { Peer } from "@claudemesh/protocol";
import { neutralizeLine } from "../delivery/neutralize.js";

/** A peer as listed to the agent, marked "(you)" for this session's own identity. */
export interface ListedPeer extends Peer {
  meshSlug: string;
  you: boolean;
}

/** One peer line: name, you-marker, presence, status (online only), channels, short pubkey, then the summary. */
export function formatPeer(peer: ListedPeer): string {
  const presence = peer.online
    ? "online"
    : peer.lastSeenAt
      ? `offline (last seen ${neutralizeLine(peer.lastSeenAt)})`
      : "offline";
  const kind = peer.parent ? "agent" : "member";
  const channels =
    peer.channels.length > 0
      ? ` · channels ${peer.channels.map((c) => `#${neutralizeLine(c)}`).join(", ")}`
      : "";
  const you = peer.you ? " (you)" : "";
  const cwd = peer.cwd ? ` · cwd ${neutralizeLine(peer.cwd)}` : "";
  // An offline peer has no live status: its last one would read as "idle" when nobody is there.
  const status = peer.online ? ` · ${peer.status}` : "";
  const line = `- ${neutralizeLine(peer.displayName)}${you} · ${kind} · ${presence}${status}${channels} · ${peer.pubkey.slice(0, 12)}${cwd}`;
  return peer.summary ? `${line}\n    summary: ${neutralizeLine(peer.summary)}` : line;
}

/** Most peers the list_peers tool shows per mesh: its reply to the model stays a few thousand tokens. */
export const MAX_LISTED_PEERS = 100;

/**
 * At most `max` of `peers`, in order, always keeping the session's own entry ("(you)"); `omitted`
 * counts the rest.
 */
export function boundPeers<T extends { you: boolean }>(
  peers: readonly T[],
  max = MAX_LISTED_PEERS,
): { shown: T[]; omitted: number } {
  if (peers.length <= max) return { shown: [...peers], omitted: 0 };
  const you = peers.find((p) => p.you);
  const others = peers.filter((p) => p !== you).slice(0, you ? max - 1 : max);
  const shown = you ? peers.filter((p) => p === you || others.includes(p)) : others;
  return { shown, omitted: peers.length - shown.length };
}

/**
 * The list_peers reply, grouped by mesh (one section per mesh, in the order given). A mesh with
 * more than MAX_LISTED_PEERS peers is cut there, and its section says how many were left out.
 */
export function formatPeerList(
  groups: ReadonlyArray<{ meshSlug: string; peers: readonly ListedPeer[] }>,
): string {
  if (groups.length === 0) return "No meshes are connected.";
  return groups
    .map(({ meshSlug, peers }) => {
      const noun = peers.length === 1 ? "peer" : "peers";
      const { shown, omitted } = boundPeers(peers);
      const lines = shown.length > 0 ? shown.map(formatPeer).join("\n") : "  (nobody yet)";
      const more =
        omitted > 0
          ? `\n  (truncated: ${omitted} more ${omitted === 1 ? "peer" : "peers"} not shown; send_message still reaches any of them by name)`
          : "";
      return `mesh ${meshSlug} — ${peers.length} ${noun}:\n${lines}${more}`;
    })
    .join("\n\n");
}
