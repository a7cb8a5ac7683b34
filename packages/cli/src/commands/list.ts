// `claudemesh list`: the meshes configured on this machine, as a table or stable JSON (no secret keys).
import { listAgentNames, loadConfig, type MeshEntry, type Env } from "../config/index.js";
import { flag } from "../cli/args.js";
import type { Command } from "../cli/command.js";
import { EXIT_OK } from "../cli/errors.js";
import { println } from "../cli/io.js";
import { json, table } from "./shared.js";

/** The public view of a configured mesh, in a fixed key order (the `--json` contract). */
export function meshSummary(env: Env, mesh: MeshEntry) {
  return {
    slug: mesh.slug,
    name: mesh.name ?? mesh.slug,
    meshId: mesh.meshId,
    brokerUrl: mesh.brokerUrl,
    memberId: mesh.memberId,
    displayName: mesh.displayName,
    role: mesh.role,
    pubkey: mesh.pubkey,
    joinedAt: mesh.joinedAt,
    agents: listAgentNames(env, mesh.slug),
  };
}

export const listCommand: Command = {
  name: "list",
  summary: "List the meshes this machine belongs to.",
  positionals: [],
  options: {
    json: { type: "boolean", description: "print JSON: {meshes:[{slug, name, meshId, brokerUrl, …}]}" },
  },
  async run(args, { env, io }) {
    const meshes = loadConfig(env, { missingOk: true }).meshes.map((m) => meshSummary(env, m));
    if (flag(args, "json")) {
      io.stdout(json({ meshes }));
      return EXIT_OK;
    }
    if (meshes.length === 0) {
      println(io, "no meshes yet — run 'claudemesh mesh create <slug>' or 'claudemesh join <link>'");
      return EXIT_OK;
    }
    const rows = meshes.map((m) => [m.slug, m.displayName, m.role, m.agents.join(",") || "-", m.brokerUrl]);
    println(io, table(["MESH", "YOU", "ROLE", "AGENTS", "BROKER"], rows));
    return EXIT_OK;
  },
};
