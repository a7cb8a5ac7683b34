// `claudemesh leave [SLUG]`: revokes this machine's member on the broker (SPEC §2, self-revoke), then forgets the mesh locally.
import {
  configPaths,
  loadConfig,
  removeMeshAgents,
  selectMesh,
  updateConfig,
  type Config,
  type Env,
  type MeshEntry,
} from "../config/index.js";
import { flag } from "../cli/args.js";
import type { Command } from "../cli/command.js";
import { CliError, EXIT_OK } from "../cli/errors.js";
import { eprintln, println, type Io } from "../cli/io.js";
import { isLastAdmin, isUnreachable, revokeAsMember } from "./revocation.js";

/** The mesh `leave` acts on: the slug itself (leave takes no --mesh), or the only configured one. */
function meshToLeave(config: Config, slug: string | undefined, env: Env): MeshEntry {
  try {
    return selectMesh(config, slug, env);
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
}

/** Tells the broker first; nothing changes locally when it refuses or cannot be reached. */
async function revokeSelf(mesh: MeshEntry, io: Io): Promise<void> {
  let revoked: string[];
  try {
    revoked = await revokeAsMember(
      mesh,
      { pubkey: mesh.pubkey, label: `your member "${mesh.displayName}"` },
      { goneIsDone: true },
    );
  } catch (err) {
    if (isLastAdmin(err)) {
      throw new CliError(
        `you are the last admin of "${mesh.slug}" and other members remain, so the broker refused (last_admin); nothing was changed here — make someone else an admin first ('claudemesh invite --mesh ${mesh.slug} --role admin' and have them join), or revoke the others ('claudemesh revoke <peer>'), then leave`,
      );
    }
    if (isUnreachable(err)) {
      throw new CliError(
        `${(err as Error).message}; nothing was changed — try again when the broker is up, or 'claudemesh leave ${mesh.slug} --local-only' to forget it here only (the identity then stays valid on the broker)`,
      );
    }
    throw err;
  }
  if (revoked.length === 0) {
    println(
      io,
      `the broker at ${mesh.brokerUrl} no longer knows "${mesh.displayName}": nothing to revoke there`,
    );
    return;
  }
  const agents = revoked.length - 1;
  const agentText = agents > 0 ? ` and its ${agents} agent${agents === 1 ? "" : "s"}` : "";
  println(
    io,
    `revoked "${mesh.displayName}"${agentText} on ${mesh.brokerUrl}: the broker refuses this identity from now on`,
  );
}

export const leaveCommand: Command = {
  name: "leave",
  summary:
    "Leave a mesh: revoke this machine's member (and its agents) on the broker, then forget its keys here.",
  positionals: [{ name: "SLUG", optional: true }],
  options: {
    "local-only": {
      type: "boolean",
      description: "do not contact the broker (it is gone for good); the identity stays valid there",
    },
  },
  details: [
    "The broker is told first (the member revokes itself): its sends, hooks and hellos are refused",
    "from then on, also with these keys. If the broker refuses, nothing is forgotten locally.",
    "The last admin of a mesh with other members cannot leave: invite another admin first",
    "('claudemesh invite --role admin'). Without SLUG, leaves the only configured mesh.",
  ],
  async run(args, { env, io }) {
    const mesh = meshToLeave(loadConfig(env), args.positionals[0], env);
    if (flag(args, "local-only")) {
      eprintln(
        io,
        `claudemesh leave: warning: the broker was not told — the member key of "${mesh.displayName}" stays valid on ${mesh.brokerUrl} until an admin runs 'claudemesh revoke ${mesh.displayName}'`,
      );
    } else {
      await revokeSelf(mesh, io);
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
