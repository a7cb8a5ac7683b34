// `claudemesh peers`: the members and agent peers of a mesh with status and summary, as a table or stable JSON.
import { DEFAULT_MAX_PEERS } from "@claudemesh/client";
import type { Peer } from "@claudemesh/protocol";
import { loadConfig, selectMesh } from "../config/index.js";
import { flag, intOption, stringOption } from "../cli/args.js";
import type { Command } from "../cli/command.js";
import { EXIT_OK } from "../cli/errors.js";
import { eprintln, println } from "../cli/io.js";
import { neutralizeLine } from "../delivery/neutralize.js";
import { withMemberClient } from "./connection.js";
import { json, table } from "./shared.js";

/** One peer in the `--json` contract: fixed key order, absent values as null. */
export function peerJson(peer: Peer, selfPubkey: string) {
  return {
    displayName: peer.displayName,
    pubkey: peer.pubkey,
    memberId: peer.memberId,
    role: peer.role,
    parent: peer.parent,
    status: peer.status,
    summary: peer.summary,
    online: peer.online,
    lastSeenAt: peer.lastSeenAt,
    channels: peer.channels,
    cwd: peer.cwd ?? null,
    self: peer.pubkey === selfPubkey,
  };
}

export const peersCommand: Command = {
  name: "peers",
  summary: "List the peers of a mesh: people and their agents, with status and summary.",
  positionals: [],
  options: {
    mesh: {
      type: "string",
      placeholder: "SLUG",
      description: "mesh to list (default: the only one configured)",
    },
    limit: {
      type: "string",
      placeholder: "N",
      description: `list at most N peers, in join order (default ${DEFAULT_MAX_PEERS})`,
    },
    json: {
      type: "boolean",
      description: "print JSON: {mesh, peers:[{displayName, pubkey, status, online, …}], truncated}",
    },
  },
  async run(args, { env, io }) {
    const mesh = selectMesh(loadConfig(env), stringOption(args, "mesh"), env);
    const limit = intOption(args, "limit", 1, 1_000_000) ?? DEFAULT_MAX_PEERS;
    const { peers, truncated } = await withMemberClient(mesh, env, io, (client) =>
      client.listPeersBounded(limit),
    );
    const rows = peers.map((p) => peerJson(p, mesh.pubkey));
    if (flag(args, "json")) {
      io.stdout(json({ mesh: mesh.slug, peers: rows, truncated }));
      return EXIT_OK;
    }
    // Names and summaries are written by peers: no control sequence of theirs reaches the terminal (SPEC §5).
    const nameOf = new Map(peers.map((p) => [p.pubkey, neutralizeLine(p.displayName)]));
    const lines = rows.map((p) => [
      p.self ? `${neutralizeLine(p.displayName)} (you)` : neutralizeLine(p.displayName),
      p.parent === null ? p.role : `agent of ${nameOf.get(p.parent) ?? p.parent.slice(0, 8)}`,
      p.online ? p.status : "offline",
      p.pubkey.slice(0, 12),
      neutralizeLine(p.summary ?? ""),
    ]);
    println(io, table(["NAME", "KIND", "STATUS", "PUBKEY", "SUMMARY"], lines));
    if (truncated)
      eprintln(io, `showing the first ${peers.length} peers of "${mesh.slug}"; --limit N lists more`);
    return EXIT_OK;
  },
};
