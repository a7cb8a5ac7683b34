// `claudemesh agents` lists your agent peers (name, presence, last seen); `agents retire <name>` revokes one (SPEC §2, parent revoke).
import type { Peer } from "@claudemesh/protocol";
import {
  listAgentNames,
  loadConfig,
  loadAgentKey,
  removeAgentKeyByPubkey,
  selectMesh,
  type Env,
  type MeshEntry,
} from "../config/index.js";
import { flag, stringOption } from "../cli/args.js";
import type { Command } from "../cli/command.js";
import { CliError, EXIT_OK } from "../cli/errors.js";
import { println } from "../cli/io.js";
import { neutralizeLine } from "../delivery/neutralize.js";
import { withMemberClient } from "./connection.js";
import { findOnePeer } from "./peer-lookup.js";
import { peerLabel } from "./revoke.js";
import { revokeAsMember } from "./revocation.js";
import { json, table } from "./shared.js";

const MESH_OPTION = {
  type: "string",
  placeholder: "SLUG",
  description: "mesh to look in (default: the only one configured)",
} as const;

/** Your agents in `peers`: the peers enrolled under your member. */
export function agentsOf(peers: readonly Peer[], memberPubkey: string): Peer[] {
  return peers.filter((p) => p.parent === memberPubkey);
}

/** Pubkeys of the agents whose key file is on this machine. */
function localAgentKeys(env: Env, mesh: MeshEntry): Set<string> {
  const keys = listAgentNames(env, mesh.slug).map((n) => loadAgentKey(env, mesh.slug, n)?.pubkey);
  return new Set(keys.filter((k): k is string => k !== undefined));
}

/** One agent in the `--json` contract. */
export function agentJson(agent: Peer, onThisMachine: boolean) {
  return {
    displayName: agent.displayName,
    pubkey: agent.pubkey,
    online: agent.online,
    status: agent.online ? agent.status : null,
    lastSeenAt: agent.lastSeenAt,
    summary: agent.summary,
    onThisMachine,
  };
}

export const agentsCommand: Command = {
  name: "agents",
  summary: "List your agents in a mesh (one per Claude Code session name): online or offline, last seen.",
  positionals: [],
  options: {
    mesh: MESH_OPTION,
    json: {
      type: "boolean",
      description: "print JSON: {mesh, agents:[{displayName, pubkey, online, status, lastSeenAt, …}]}",
    },
  },
  details: [
    "The broker retires an agent that has not connected for 14 days (agentIdleRetireMs, docs/CONFIG.md)",
    "and enrolls at most 32 per person; 'claudemesh agents retire <name>' retires one now.",
  ],
  async run(args, { env, io }) {
    const mesh = selectMesh(loadConfig(env), stringOption(args, "mesh"), env);
    const peers = await withMemberClient(mesh, env, io, (client) => client.listPeers());
    const local = localAgentKeys(env, mesh);
    const agents = agentsOf(peers, mesh.pubkey).map((a) => agentJson(a, local.has(a.pubkey)));
    if (flag(args, "json")) {
      io.stdout(json({ mesh: mesh.slug, agents }));
      return EXIT_OK;
    }
    if (agents.length === 0) {
      println(
        io,
        `no agents of "${mesh.displayName}" in "${mesh.slug}" — 'claudemesh install' enrolls one per Claude Code session`,
      );
      return EXIT_OK;
    }
    const rows = agents.map((a) => [
      neutralizeLine(a.displayName),
      a.online ? `online, ${a.status ?? "idle"}` : "offline",
      a.online ? "now" : (a.lastSeenAt ?? "never"),
      a.onThisMachine ? "here" : "elsewhere",
      a.pubkey.slice(0, 12),
    ]);
    println(io, table(["AGENT", "PRESENCE", "LAST SEEN", "KEY", "PUBKEY"], rows));
    return EXIT_OK;
  },
};

export const agentsRetireCommand: Command = {
  name: "agents retire",
  summary: "Retire one of your agents: revoke it on the broker and delete its key on this machine.",
  positionals: [{ name: "name" }],
  options: {
    mesh: MESH_OPTION,
    json: { type: "boolean", description: "print JSON: {mesh, retired:{displayName, pubkey}, keyRemoved}" },
  },
  details: [
    "<name> is the agent's display name, pubkey or unique hex prefix, as 'claudemesh agents' lists it.",
    "Messages queued to it are deleted (their senders get a 'revoked' receipt).",
  ],
  async run(args, { env, io }) {
    const input = args.positionals[0] as string;
    const mesh = selectMesh(loadConfig(env), stringOption(args, "mesh"), env);
    const peers = await withMemberClient(mesh, env, io, (client) => client.listPeers());
    const mine = agentsOf(peers, mesh.pubkey);
    if (mine.length === 0)
      throw new CliError(`you have no agents in "${mesh.slug}" — 'claudemesh agents' lists them`);
    const agent = await findOnePeer(input, { peers: mine, selfPubkey: mesh.pubkey, meshSlug: mesh.slug });
    await revokeAsMember(mesh, { pubkey: agent.pubkey, label: `agent ${peerLabel(agent)}` });
    const removed = removeAgentKeyByPubkey(env, mesh.slug, agent.pubkey);
    if (flag(args, "json")) {
      const retired = { displayName: agent.displayName, pubkey: agent.pubkey };
      io.stdout(json({ mesh: mesh.slug, retired, keyRemoved: removed !== undefined }));
      return EXIT_OK;
    }
    const key = removed === undefined ? "its key is not on this machine" : "deleted its key on this machine";
    println(
      io,
      `retired agent ${peerLabel(agent)} in "${mesh.slug}": the broker refuses it from now on; ${key}`,
    );
    return EXIT_OK;
  },
};
