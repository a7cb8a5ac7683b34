// `claudemesh status <idle|working|dnd>`: sets your member's manual status (SPEC §3 status model; hooks never clear dnd).
import { StatusSchema } from "@claudemesh/protocol";
import { loadConfig, selectMesh } from "../config/index.js";
import { choicePositional, stringOption } from "../cli/args.js";
import type { Command } from "../cli/command.js";
import { EXIT_OK } from "../cli/errors.js";
import { println } from "../cli/io.js";
import { withMemberClient } from "./connection.js";

export const statusCommand: Command = {
  name: "status",
  summary: "Set your manual status: idle, working or dnd (do not disturb: only 'now' messages get through).",
  positionals: [{ name: "idle|working|dnd" }],
  options: {
    mesh: {
      type: "string",
      placeholder: "SLUG",
      description: "mesh to set it in (default: the only one configured)",
    },
  },
  async run(args, { env, io }) {
    const status = choicePositional(args.positionals[0] as string, "status", StatusSchema.options);
    const mesh = selectMesh(loadConfig(env), stringOption(args, "mesh"), env);
    await withMemberClient(mesh, env, io, async (client) => {
      await client.setStatus(status, "manual");
      // A round trip after the status frame: when the answer comes, the broker has applied it.
      await client.listPeers();
    });
    println(io, `status in "${mesh.slug}" set to ${status} for "${mesh.displayName}"`);
    return EXIT_OK;
  },
};
