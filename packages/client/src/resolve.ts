// Target name resolution for send_message / `claudemesh send` (SPEC §5): names, pubkeys, prefixes, #channel, *, mesh: prefix.
import { ChannelNameSchema, MIN_PUBKEY_PREFIX, type Peer } from "@claudemesh/protocol";
import { ClientError } from "./errors.js";

/** The peer fields resolution needs (a full protocol Peer fits). */
export type ResolvablePeer = Pick<Peer, "pubkey" | "displayName">;

/** Another mesh the caller is in, selectable with a `slug:` prefix. */
export interface ResolveMesh {
  slug: string;
  peers: readonly ResolvablePeer[];
  /** This session's pubkey in that mesh (defaults to the context's selfPubkey). */
  selfPubkey?: string;
}

export interface ResolveContext {
  /** Peers of the default mesh (the one used without a prefix). */
  peers: readonly ResolvablePeer[];
  /** This session's pubkey in the default mesh; never a valid direct target. */
  selfPubkey: string;
  /** Slug of the default mesh, so `slug:name` also works for it without `meshes`. */
  meshSlug?: string;
  /** Every mesh that a `slug:` prefix may select. */
  meshes?: readonly ResolveMesh[];
}

export interface ResolvedTarget {
  /** Set when the input carried a `mesh-slug:` prefix: the mesh to send in. */
  meshSlug?: string;
  /** What BrokerClient.send takes: a pubkey, `*` or `#channel`. */
  targetSpec: string;
  /** For people: `bob (1a2b3c4d)`, `#dev`, `everyone`. */
  label: string;
}

/** Candidates listed in an error before "and N more". */
const MAX_LISTED = 20;
const HEX_RE = /^[0-9a-f]+$/i;
const PUBKEY_LENGTH = 64;

function describePeer(p: ResolvablePeer, length = MIN_PUBKEY_PREFIX): string {
  return `${p.displayName} (${p.pubkey.slice(0, length)})`;
}

/** Shortest prefix (≥ 8 hex) of `peer` that no other listed pubkey shares, so a person can copy it. */
function distinguishingLength(peer: ResolvablePeer, peers: readonly ResolvablePeer[]): number {
  let length = MIN_PUBKEY_PREFIX;
  for (const other of peers) {
    if (other === peer) continue;
    while (length < PUBKEY_LENGTH && other.pubkey.startsWith(peer.pubkey.slice(0, length))) length++;
  }
  return length;
}

function listCandidates(peers: readonly ResolvablePeer[]): string {
  if (peers.length === 0) return "no other peers in this mesh yet";
  const listed = peers.slice(0, MAX_LISTED);
  const shown = listed.map((p) => describePeer(p, distinguishingLength(p, listed))).join(", ");
  return peers.length > MAX_LISTED ? `${shown} and ${peers.length - MAX_LISTED} more` : shown;
}

function selectMesh(
  input: string,
  ctx: ResolveContext,
): { meshSlug?: string; peers: readonly ResolvablePeer[]; selfPubkey: string; rest: string } {
  const colon = input.indexOf(":");
  // Display names cannot contain ":" (protocol DisplayNameSchema), so a colon always means a mesh prefix.
  if (colon < 0) return { peers: ctx.peers, selfPubkey: ctx.selfPubkey, rest: input };
  const slug = input.slice(0, colon).trim().toLowerCase();
  const rest = input.slice(colon + 1).trim();
  const mesh = ctx.meshes?.find((m) => m.slug === slug);
  if (mesh)
    return { meshSlug: mesh.slug, peers: mesh.peers, selfPubkey: mesh.selfPubkey ?? ctx.selfPubkey, rest };
  if (ctx.meshSlug !== undefined && ctx.meshSlug === slug) {
    return { meshSlug: slug, peers: ctx.peers, selfPubkey: ctx.selfPubkey, rest };
  }
  const known = [
    ...new Set([...(ctx.meshes ?? []).map((m) => m.slug), ...(ctx.meshSlug ? [ctx.meshSlug] : [])]),
  ];
  throw new ClientError(
    "unknown_target",
    `no mesh "${slug}" — ${known.length > 0 ? `known meshes: ${known.join(", ")}` : "this session is in no other mesh"}`,
  );
}

function selfError(input: string): ClientError {
  return new ClientError("unknown_target", `"${input}" is this session itself — pick another peer`);
}

/**
 * Resolves `input` (SPEC §5) to a send target: `*`; `#channel`; a display name (exact,
 * case-insensitive); a full pubkey; or a unique pubkey hex prefix of at least 8 chars — each
 * optionally prefixed `mesh-slug:`. Names are tried before prefixes (a name may look like hex).
 * Throws ClientError `ambiguous_target` or `unknown_target` listing the candidates; never
 * resolves to this session itself.
 */
export function resolveTarget(rawInput: string, ctx: ResolveContext): ResolvedTarget {
  const trimmed = rawInput.trim();
  if (trimmed === "")
    throw new ClientError("unknown_target", "no target given — use a peer name, #channel or *");
  const { meshSlug, peers, selfPubkey, rest: input } = selectMesh(trimmed, ctx);
  const withMesh = (target: Omit<ResolvedTarget, "meshSlug">): ResolvedTarget =>
    meshSlug === undefined ? target : { meshSlug, ...target };
  const others = peers.filter((p) => p.pubkey !== selfPubkey);

  if (input === "*") return withMesh({ targetSpec: "*", label: "everyone" });

  if (input.startsWith("#")) {
    const name = input.slice(1).toLowerCase();
    if (!ChannelNameSchema.safeParse(name).success) {
      throw new ClientError(
        "unknown_target",
        `"${input}" is not a channel name — channels are # followed by lowercase letters, digits, . _ or -`,
      );
    }
    return withMesh({ targetSpec: `#${name}`, label: `#${name}` });
  }

  const lowered = input.toLowerCase();
  const byName = peers.filter((p) => p.displayName.toLowerCase() === lowered);
  const otherByName = byName.filter((p) => p.pubkey !== selfPubkey);
  if (otherByName.length === 1 && otherByName[0]) {
    return withMesh({ targetSpec: otherByName[0].pubkey, label: describePeer(otherByName[0]) });
  }
  if (otherByName.length > 1) {
    throw new ClientError(
      "ambiguous_target",
      `"${input}" matches ${otherByName.length} peers: ${listCandidates(otherByName)} — use a longer pubkey prefix`,
    );
  }
  if (byName.length > 0) throw selfError(input);

  if (HEX_RE.test(input)) {
    if (input.length < MIN_PUBKEY_PREFIX) {
      throw new ClientError(
        "unknown_target",
        `no peer named "${input}", and pubkey prefixes need at least ${MIN_PUBKEY_PREFIX} hex chars — peers: ${listCandidates(others)}`,
      );
    }
    if (input.length <= PUBKEY_LENGTH) {
      if (selfPubkey.startsWith(lowered) && input.length === PUBKEY_LENGTH) throw selfError(input);
      const byPrefix = others.filter((p) => p.pubkey.startsWith(lowered));
      if (byPrefix.length === 1 && byPrefix[0]) {
        return withMesh({ targetSpec: byPrefix[0].pubkey, label: describePeer(byPrefix[0]) });
      }
      if (byPrefix.length > 1) {
        throw new ClientError(
          "ambiguous_target",
          `pubkey prefix "${input}" matches ${byPrefix.length} peers: ${listCandidates(byPrefix)} — use more hex chars`,
        );
      }
      if (selfPubkey.startsWith(lowered)) throw selfError(input);
    }
  }

  throw new ClientError("unknown_target", `no peer "${input}" — peers: ${listCandidates(others)}`);
}
