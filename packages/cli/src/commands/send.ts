// `claudemesh send <to> <message>`: connects as the member, resolves the target (SPEC §5) and waits for the broker's ack.
import { PrioritySchema, type Priority } from "@claudemesh/protocol";
import { loadConfig, selectMesh, findMesh, type Config } from "../config/index.js";
import { choiceOption, stringOption } from "../cli/args.js";
import type { Command } from "../cli/command.js";
import { CliError, EXIT_OK, UsageError } from "../cli/errors.js";
import { println } from "../cli/io.js";
import { withMemberClient } from "./connection.js";

/** The mesh a `slug:target` names, when that slug is configured (display names cannot contain `:`). */
function meshFromPrefix(config: Config, to: string): string | undefined {
  const colon = to.indexOf(":");
  if (colon <= 0) return undefined;
  const slug = to.slice(0, colon).trim().toLowerCase();
  return findMesh(config, slug) ? slug : undefined;
}

export const sendCommand: Command = {
  name: "send",
  summary: "Send an end-to-end encrypted message to a peer, #channel or * (everyone).",
  positionals: [{ name: "to" }, { name: "message" }],
  options: {
    priority: {
      type: "string",
      placeholder: "now|next|low",
      description: "now interrupts busy peers; next waits until they are idle (default); low likewise",
    },
    mesh: {
      type: "string",
      placeholder: "SLUG",
      description: "mesh to send in (default: the only one, or a slug: prefix on <to>)",
    },
  },
  details: [
    "<to> is a display name, a pubkey or unique hex prefix (≥ 8), #channel or *, optionally prefixed mesh-slug:.",
    "Quote a message with spaces: claudemesh send backend 'tests are green'",
  ],
  async run(args, { env, io }) {
    const [to, message] = args.positionals as [string, string];
    if (message.trim() === "") throw new UsageError("message is empty");
    const priority: Priority = choiceOption(args, "priority", PrioritySchema.options) ?? "next";
    const config = loadConfig(env);
    const mesh = selectMesh(config, stringOption(args, "mesh") ?? meshFromPrefix(config, to), env);
    const { resolveTarget } = await import("@claudemesh/client");
    const sent = await withMemberClient(mesh, env, io, async (client) => {
      const peers = await client.listPeers();
      const target = resolveTarget(to, { peers, selfPubkey: mesh.pubkey, meshSlug: mesh.slug });
      if (target.meshSlug !== undefined && target.meshSlug !== mesh.slug) {
        throw new CliError(`"${to}" names mesh "${target.meshSlug}" but --mesh is "${mesh.slug}"`);
      }
      const result = await client.send(target.targetSpec, message, priority);
      return { ...result, label: target.label };
    });
    const state = sent.queued
      ? "queued — a recipient is offline or busy; delivered when it can be"
      : "delivered";
    println(io, `sent to ${sent.label} in "${mesh.slug}" (${priority}): ${state} [${sent.messageId}]`);
    return EXIT_OK;
  },
};
