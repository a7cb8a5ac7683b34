// Finds one peer of a mesh by name, pubkey or unique prefix (SPEC §5 resolution), for commands that act on a person or agent.
import type { Peer } from "@claudemesh/protocol";
import { findMesh, type Config } from "../config/index.js";
import { UsageError } from "../cli/errors.js";

/** The mesh a `slug:target` names, when that slug is configured (display names cannot contain `:`). */
export function meshFromPrefix(config: Config, to: string): string | undefined {
  const colon = to.indexOf(":");
  if (colon <= 0) return undefined;
  const slug = to.slice(0, colon).trim().toLowerCase();
  return findMesh(config, slug) ? slug : undefined;
}

/**
 * The one peer among `peers` that `input` names, by the same rules as `send` (exact name, full
 * pubkey or unique ≥ 8-hex prefix, optional `mesh-slug:` prefix); never `selfPubkey`. `*` and
 * `#channel` name groups, not one peer: a usage error. Unknown or ambiguous input throws the
 * client's ClientError listing the candidates.
 */
export async function findOnePeer(
  input: string,
  ctx: { peers: readonly Peer[]; selfPubkey: string; meshSlug: string },
): Promise<Peer> {
  const { resolveTarget } = await import("@claudemesh/client");
  const target = resolveTarget(input, ctx);
  if (target.meshSlug !== undefined && target.meshSlug !== ctx.meshSlug)
    throw new UsageError(`"${input}" names mesh "${target.meshSlug}" but --mesh is "${ctx.meshSlug}"`);
  const peer = ctx.peers.find((p) => p.pubkey === target.targetSpec);
  if (!peer) throw new UsageError(`"${input}" is not one peer — name a person or agent, not * or a #channel`);
  return peer;
}
