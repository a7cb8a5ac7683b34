// `claudemesh status [idle|working|dnd]`: sets your member's manual status, or with no argument shows it and who set it (SPEC §3 status model).
import type { Peer } from "@claudemesh/protocol";
import { StatusSchema } from "@claudemesh/protocol";
import { loadConfig, selectMesh, type MeshEntry } from "../config/index.js";
import { choicePositional, flag, stringOption } from "../cli/args.js";
import type { Command } from "../cli/command.js";
import { EXIT_OK } from "../cli/errors.js";
import { println } from "../cli/io.js";
import { heldNotice, statusSourceText } from "../delivery/held-notice.js";
import { withMemberClient } from "./connection.js";
import { json } from "./shared.js";

/** The `--json` contract: your status, its source and how many messages it holds (null when the broker does not say). */
export function statusJson(mesh: MeshEntry, me: Peer | undefined) {
  return {
    mesh: mesh.slug,
    displayName: me?.displayName ?? mesh.displayName,
    status: me?.held?.status ?? me?.status ?? null,
    source: me?.held?.source ?? null,
    held: me?.held?.count ?? null,
  };
}

export const statusCommand: Command = {
  name: "status",
  summary:
    "Show your status and who set it, or set it by hand: idle, working or dnd (only 'now' messages get through).",
  positionals: [{ name: "idle|working|dnd", optional: true }],
  options: {
    mesh: {
      type: "string",
      placeholder: "SLUG",
      description: "mesh to show or set it in (default: the only one configured)",
    },
    json: { type: "boolean", description: "print JSON: {mesh, displayName, status, source, held}" },
  },
  details: [
    "A status set by hand outranks hooks and the transcript for 30 s; 'working' turns idle after 60 s;",
    "dnd lasts until you change it by hand. Messages your status holds back wait on the broker.",
  ],
  async run(args, { env, io }) {
    const given = args.positionals[0];
    const status = given === undefined ? undefined : choicePositional(given, "status", StatusSchema.options);
    const mesh = selectMesh(loadConfig(env), stringOption(args, "mesh"), env);
    const me = await withMemberClient(mesh, env, io, async (client) => {
      if (status !== undefined) await client.setStatus(status, "manual");
      // A round trip after the status frame: when the answer comes, the broker has applied it.
      return (await client.listPeers()).find((p) => p.pubkey === mesh.pubkey);
    });
    const out = statusJson(mesh, me);
    if (flag(args, "json")) {
      io.stdout(json(out));
      return EXIT_OK;
    }
    const by = out.source === null ? "" : ` (set by ${statusSourceText(out.source)})`;
    const verb = status === undefined ? "is" : "set to";
    println(
      io,
      `status in "${mesh.slug}" for "${out.displayName}" ${verb} ${out.status ?? status ?? "unknown"}${by}`,
    );
    const notice = heldNotice(me?.held, "'claudemesh status idle' releases them");
    if (notice) println(io, notice);
    return EXIT_OK;
  },
};
