// `claudemesh revoke <peer>`: removes a member (and its agents) or an agent from a mesh on the broker (SPEC §2 POST /members/revoke).
import type { Peer } from "@claudemesh/protocol";
import { loadConfig, selectMesh } from "../config/index.js";
import { flag, stringOption } from "../cli/args.js";
import type { Command } from "../cli/command.js";
import { CliError, EXIT_OK } from "../cli/errors.js";
import { println } from "../cli/io.js";
import { neutralizeLine } from "../delivery/neutralize.js";
import { withMemberClient } from "./connection.js";
import { findOnePeer, meshFromPrefix } from "./peer-lookup.js";
import { revokeAsMember } from "./revocation.js";
import { json } from "./shared.js";

/** One revoked identity in the `--json` contract (names as listed just before the call; null when unknown). */
export function revokedJson(pubkey: string, peers: readonly Peer[]) {
  const peer = peers.find((p) => p.pubkey === pubkey);
  return {
    pubkey,
    displayName: peer?.displayName ?? null,
    kind: peer === undefined ? null : peer.parent === null ? "member" : "agent",
  };
}

/** `bob (1a2b3c4d)` with the peer-written name neutralized for the terminal. */
export function peerLabel(peer: Pick<Peer, "displayName" | "pubkey">): string {
  return `"${neutralizeLine(peer.displayName)}" (${peer.pubkey.slice(0, 8)})`;
}

/** The one-line summary of what a revocation removed: the target, then its agents. */
export function describeRevoked(target: Peer, revoked: readonly string[], peers: readonly Peer[]): string {
  const agents = revoked
    .filter((k) => k !== target.pubkey)
    .map((k) => {
      const peer = peers.find((p) => p.pubkey === k);
      return peer ? neutralizeLine(peer.displayName) : k.slice(0, 8);
    });
  const kind = target.parent === null ? "member" : "agent";
  const withAgents =
    agents.length === 0
      ? ""
      : ` and ${agents.length} agent${agents.length === 1 ? "" : "s"} of it (${agents.join(", ")})`;
  return `revoked ${kind} ${peerLabel(target)}${withAgents}`;
}

export const revokeCommand: Command = {
  name: "revoke",
  summary: "Remove a member (with its agents) or an agent from a mesh on the broker, at once.",
  positionals: [{ name: "peer" }],
  options: {
    mesh: {
      type: "string",
      placeholder: "SLUG",
      description: "mesh to revoke in (default: the only one, or a slug: prefix on <peer>)",
    },
    json: { type: "boolean", description: "print JSON: {mesh, revoked:[{pubkey, displayName, kind}]}" },
  },
  details: [
    "<peer> is a display name, a pubkey or unique hex prefix (≥ 8), as 'claudemesh peers' lists them.",
    "An admin may revoke anyone; a person may revoke their own agents (see 'claudemesh agents retire').",
    "From the moment this returns the broker refuses the peer's sends, hooks and hellos, closes its",
    "connections and deletes the messages queued to it. To remove yourself, use 'claudemesh leave'.",
  ],
  async run(args, { env, io }) {
    const input = args.positionals[0] as string;
    const config = loadConfig(env);
    const mesh = selectMesh(config, stringOption(args, "mesh") ?? meshFromPrefix(config, input), env);
    const peers = await withMemberClient(mesh, env, io, (client) => client.listPeers());
    const me = peers.find((p) => p.pubkey === mesh.pubkey);
    const bare = input
      .replace(/^[^:]*:/, "")
      .trim()
      .toLowerCase();
    if (me && (me.displayName.toLowerCase() === bare || (bare.length >= 8 && me.pubkey.startsWith(bare))))
      throw new CliError(`"${input}" is you — to remove yourself from "${mesh.slug}" use 'claudemesh leave'`);
    const target = await findOnePeer(input, { peers, selfPubkey: mesh.pubkey, meshSlug: mesh.slug });
    const revoked = await revokeAsMember(mesh, { pubkey: target.pubkey, label: peerLabel(target) });
    if (flag(args, "json")) {
      io.stdout(json({ mesh: mesh.slug, revoked: revoked.map((k) => revokedJson(k, peers)) }));
      return EXIT_OK;
    }
    println(
      io,
      `${describeRevoked(target, revoked, peers)} from "${mesh.slug}": the broker refuses them from now on and deleted the messages queued to them`,
    );
    return EXIT_OK;
  },
};
