// Client-side fan-out (SPEC §4): who a `*` or `#name` send must be sealed for, from the current peer list.
import type { Peer } from "@claudemesh/protocol";
import { ClientError } from "./errors.js";

/**
 * The pubkeys a fan-out must address: `*` → every other listed peer (the broker lists only
 * non-revoked members); `#name` → every other peer whose channels include `name`.
 * Throws `unknown_target` when nobody else would receive it (the broker requires ≥ 1 envelope).
 */
export function fanoutRecipients(
  targetSpec: string,
  peers: readonly Peer[],
  selfPubkey: string,
  meshSlug: string,
): string[] {
  const others = peers.filter((p) => p.pubkey !== selfPubkey);
  if (targetSpec === "*") {
    if (others.length === 0) {
      throw new ClientError("unknown_target", `no other peers in mesh "${meshSlug}" to broadcast to`);
    }
    return others.map((p) => p.pubkey);
  }
  const channel = targetSpec.slice(1);
  const members = others.filter((p) => p.channels.includes(channel));
  if (members.length === 0) {
    throw new ClientError(
      "unknown_target",
      `nobody else has joined #${channel} in mesh "${meshSlug}", so the message would reach no one`,
    );
  }
  return members.map((p) => p.pubkey);
}
