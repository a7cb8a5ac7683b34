// `claudemesh send <to> <message>`: connects as the member, resolves the target (SPEC §5) and waits for the broker's ack.
import type { BrokerClient, MessageStatus } from "@claudemesh/client";
import { PrioritySchema, type Priority } from "@claudemesh/protocol";
import { loadConfig, selectMesh } from "../config/index.js";
import { choiceOption, intOption, stringOption } from "../cli/args.js";
import type { Command } from "../cli/command.js";
import { CliError, EXIT_FAILURE, EXIT_OK, UsageError } from "../cli/errors.js";
import { println } from "../cli/io.js";
import { withMemberClient } from "./connection.js";
import { meshFromPrefix } from "./peer-lookup.js";

/** The longest `--wait-shown` may wait. */
export const MAX_WAIT_SHOWN_SECONDS = 3_600;
/** States after which a recipient's copy will not change any more. */
const FINAL = new Set(["shown", "expired", "revoked"]);

/** Polls message_status (receipts wake it early) until every recipient is final or `ms` pass; returns the last statuses. */
async function waitShown(
  client: BrokerClient,
  messageId: string,
  ms: number,
  signal: AbortSignal,
): Promise<MessageStatus["recipients"]> {
  const until = Date.now() + ms;
  let last: MessageStatus["recipients"] = [];
  let wake: () => void = () => undefined;
  const onReceipt = (r: { messageId: string }): void => {
    if (r.messageId === messageId) wake();
  };
  client.on("receipt", onReceipt);
  try {
    while (!signal.aborted) {
      const [status] = await client.messageStatus([messageId]);
      last = status?.recipients ?? [];
      if (last.length > 0 && last.every((r) => FINAL.has(r.state))) return last;
      const left = until - Date.now();
      if (left <= 0) return last;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1_000));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return last;
  } finally {
    client.off("receipt", onReceipt);
  }
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
    "wait-shown": {
      type: "string",
      placeholder: "SECONDS",
      description:
        "wait up to SECONDS until every recipient's agent has the message in its context; exit 1 if not",
    },
  },
  details: [
    "<to> is a display name, a pubkey or unique hex prefix (≥ 8), #channel or *, optionally prefixed mesh-slug:.",
    "Quote a message with spaces: claudemesh send backend 'tests are green'",
  ],
  async run(args, { env, io }) {
    const [to, message] = args.positionals as [string, string];
    if (message.trim() === "") throw new UsageError("message is empty");
    const waitSeconds = intOption(args, "wait-shown", 1, MAX_WAIT_SHOWN_SECONDS);
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
      const recipients =
        waitSeconds === undefined
          ? undefined
          : await waitShown(client, result.messageId, waitSeconds * 1000, io.interrupted());
      return { ...result, label: target.label, recipients };
    });
    const state = sent.queued
      ? "queued — a recipient is offline or busy; delivered when it can be"
      : "pushed to the recipient(s)";
    println(io, `sent to ${sent.label} in "${mesh.slug}" (${priority}): ${state} [${sent.messageId}]`);
    if (sent.recipients === undefined) return EXIT_OK;
    const shown = sent.recipients.filter((r) => r.state === "shown").length;
    const total = sent.recipients.length;
    if (total > 0 && shown === total) {
      println(io, total === 1 ? `shown to ${sent.label}` : `shown to all ${total} recipients`);
      return EXIT_OK;
    }
    const states = [...new Set(sent.recipients.map((r) => r.state))]
      .map((st) => `${sent.recipients!.filter((r) => r.state === st).length} ${st}`)
      .join(", ");
    println(io, `not shown within ${waitSeconds}s: ${states || "no recipient recorded yet"}`);
    return EXIT_FAILURE;
  },
};
