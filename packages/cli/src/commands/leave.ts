// `claudemesh leave [SLUG]`: forgets a mesh locally — its member key in config.json and every agent key of it.
import { loadConfig, removeMeshAgents, selectMesh, updateConfig, configPaths } from "../config/index.js";
import type { Command } from "../cli/command.js";
import { CliError, EXIT_OK } from "../cli/errors.js";
import { println } from "../cli/io.js";

export const leaveCommand: Command = {
  name: "leave",
  summary: "Forget a mesh on this machine: remove its member key and agent keys.",
  positionals: [{ name: "SLUG", optional: true }],
  options: {},
  details: [
    "The broker is not contacted: ask an admin to revoke the member if the keys may have leaked.",
    "Without SLUG, leaves the only configured mesh.",
  ],
  async run(args, { env, io }) {
    const config = loadConfig(env);
    let mesh;
    try {
      mesh = selectMesh(config, args.positionals[0], env);
    } catch (err) {
      // selectMesh's hint names --mesh, which leave does not take: it takes the slug itself.
      if ((err as { code?: string }).code === "ambiguous_mesh") {
        const slugs = config.meshes.map((m) => m.slug).join(", ");
        throw new CliError(
          `several meshes are configured (${slugs}) — name the one to leave: claudemesh leave SLUG`,
        );
      }
      throw err;
    }
    updateConfig(env, (config) => ({ ...config, meshes: config.meshes.filter((m) => m.slug !== mesh.slug) }));
    const agents = removeMeshAgents(env, mesh.slug);
    const agentText =
      agents.length === 0
        ? "no agent keys"
        : `${agents.length} agent key${agents.length === 1 ? "" : "s"} (${agents.join(", ")})`;
    println(
      io,
      `left "${mesh.slug}": removed member "${mesh.displayName}" from ${configPaths(env).configFile} and ${agentText}`,
    );
    return EXIT_OK;
  },
};
