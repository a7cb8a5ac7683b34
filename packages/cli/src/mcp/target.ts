// Resolves send_message's `to` across every mesh this session is in (SPEC §5), on top of the client's per-mesh resolveTarget.
import { ClientError, isClientError, resolveTarget, type ResolvedTarget } from "@claudemesh/client";
import type { Peer } from "@claudemesh/protocol";

/** What resolution needs from a mesh link (MeshLink fits). */
export interface TargetLink {
  readonly meshSlug: string;
  readonly pubkey: string;
  peers(): Promise<{ peers: Peer[]; live: boolean }>;
}

export interface LinkTarget<L extends TargetLink> {
  link: L;
  targetSpec: string;
  label: string;
}

function resolveIn<L extends TargetLink>(link: L, peers: readonly Peer[], to: string): LinkTarget<L> {
  const target: ResolvedTarget = resolveTarget(to, {
    peers,
    selfPubkey: link.pubkey,
    meshSlug: link.meshSlug,
  });
  return { link, targetSpec: target.targetSpec, label: target.label };
}

/**
 * The mesh and target for `to`. With a `mesh-slug:` prefix, or when the session is in one mesh,
 * that mesh decides. Otherwise every mesh is tried: exactly one match wins; a name (or channel)
 * found in several meshes, or `*` with several meshes, is `ambiguous_target` listing the
 * `slug:`-prefixed candidates; no match is `unknown_target` listing each mesh's peers.
 */
export async function resolveAcross<L extends TargetLink>(
  links: readonly L[],
  to: string,
): Promise<LinkTarget<L>> {
  const input = to.trim();
  if (links.length === 0)
    throw new ClientError("unknown_target", "this session is in no mesh; run 'claudemesh join <link>' first");
  const colon = input.indexOf(":");
  if (colon >= 0) {
    // Display names, pubkeys and channels cannot contain ":" — so it always separates a mesh slug.
    const slug = input.slice(0, colon).trim().toLowerCase();
    const link = links.find((l) => l.meshSlug === slug);
    if (!link)
      throw new ClientError(
        "unknown_target",
        `no mesh "${slug}" — this session is in: ${links.map((l) => l.meshSlug).join(", ")}`,
      );
    return resolveIn(link, (await link.peers()).peers, input);
  }
  if (links.length === 1) {
    const only = links[0] as L;
    return resolveIn(only, (await only.peers()).peers, input);
  }
  const slugs = links.map((l) => l.meshSlug);
  if (input === "*") {
    throw new ClientError(
      "ambiguous_target",
      `"*" is ambiguous: this session is in ${slugs.length} meshes — use one of ${slugs.map((s) => `${s}:*`).join(", ")}`,
    );
  }
  const listed = await Promise.all(
    links.map(async (link) => {
      try {
        return { link, peers: (await link.peers()).peers, error: undefined };
      } catch (err) {
        return { link, peers: null, error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
  if (input.startsWith("#")) {
    const channel = input.slice(1).toLowerCase();
    const withChannel = listed.filter(
      (l) => l.peers?.some((p) => p.pubkey !== l.link.pubkey && p.channels.includes(channel)) ?? false,
    );
    if (withChannel.length === 1 && withChannel[0]?.peers)
      return resolveIn(withChannel[0].link, withChannel[0].peers, input);
    if (withChannel.length > 1)
      throw new ClientError(
        "ambiguous_target",
        `#${channel} exists in several meshes — use one of ${withChannel.map((l) => `${l.link.meshSlug}:#${channel}`).join(", ")}`,
      );
    throw new ClientError(
      "unknown_target",
      `nobody else has joined #${channel} in any of your meshes (${slugs.join(", ")})`,
    );
  }
  const found: Array<LinkTarget<L>> = [];
  const problems: string[] = [];
  let ambiguous = false;
  for (const { link, peers, error } of listed) {
    if (!peers) {
      problems.push(`mesh ${link.meshSlug}: ${error}`);
      continue;
    }
    try {
      found.push(resolveIn(link, peers, input));
    } catch (err) {
      if (isClientError(err) && err.code === "ambiguous_target") ambiguous = true;
      problems.push(`mesh ${link.meshSlug}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (found.length === 1 && !ambiguous) return found[0] as LinkTarget<L>;
  if (found.length > 0 || ambiguous) {
    const candidates = found.map((f) => `${f.link.meshSlug}:${f.label}`);
    const more = ambiguous ? problems.filter((p) => p.includes("matches")) : [];
    throw new ClientError(
      "ambiguous_target",
      `"${input}" matches in several meshes — use a mesh-slug: prefix: ${[...candidates, ...more].join("; ")}`,
    );
  }
  throw new ClientError("unknown_target", `no peer "${input}" in any mesh — ${problems.join("; ")}`);
}
