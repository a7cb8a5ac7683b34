// The "messages held" notice: what the own list_peers entry's `held` says, worded once for the CLI and the MCP tools.
import type { Peer } from "@claudemesh/protocol";

/** The own entry's `held` (claudemesh extension of list_peers, docs/PROTOCOL.md). */
export type Held = NonNullable<Peer["held"]>;

/** Who set a status, in words: `hook` (Claude Code's hooks), `hand` (claudemesh status / set_status), `transcript`. */
export function statusSourceText(source: Held["source"]): string {
  return source === "manual" ? "hand" : source === "jsonl" ? "transcript" : "hook";
}

/**
 * `2 messages held until you are idle (status working, set by hook)`, or null when nothing is held.
 * `release` is the caller's advice for a status only a manual change ends (dnd, or a manual working).
 */
export function heldNotice(held: Held | undefined, release?: string): string | null {
  if (!held || held.count === 0) return null;
  const noun = held.count === 1 ? "message" : "messages";
  const text = `${held.count} ${noun} held until you are idle (status ${held.status}, set by ${statusSourceText(held.source)})`;
  const manual = held.status === "dnd" || held.source === "manual";
  return manual && release ? `${text} — ${release}` : text;
}

/** The `held` of the viewer's own entry in a peer list, if the broker sent one. */
export function ownHeld(peers: readonly Peer[], selfPubkey: string): Held | undefined {
  return peers.find((p) => p.pubkey === selfPubkey)?.held;
}
