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

/** The list_peers reply, grouped by mesh (one section per mesh, in the order given). */
export function formatPeerList(
  groups: ReadonlyArray<{ meshSlug: string; peers: readonly ListedPeer[] }>,
): string {
  if (groups.length === 0) return "No meshes are connected.";
  return groups
    .map(({ meshSlug, peers }) => {
      const noun = peers.length === 1 ? "peer" : "peers";
      const lines = peers.length > 0 ? peers.map(formatPeer).join("\n") : "  (nobody yet)";
      return `mesh ${meshSlug} — ${peers.length} ${noun}:\n${lines}`;
    })
    .join("\n\n");
}
