// `claudemesh inbox`: connects as the member and prints the messages waiting for it (decrypted locally).
import type { BrokerClient, ClientError, InboundMessage, UndecryptableMessage } from "@claudemesh/client";
import { loadConfig, selectMesh } from "../config/index.js";
import { flag, intOption, stringOption } from "../cli/args.js";
import type { Command } from "../cli/command.js";
import { EXIT_FAILURE, EXIT_OK } from "../cli/errors.js";
import { eprintln, println, type Io } from "../cli/io.js";
import { heldNotice, ownHeld } from "../delivery/held-notice.js";
import { neutralize, neutralizeLine } from "../delivery/neutralize.js";
import { withMemberClient } from "./connection.js";
import { json } from "./shared.js";

/** After the last message, this much silence means the queued backlog has been drained. */
export const QUIET_MS = 300;
/** Without --wait: the longest a backlog drain may take. */
export const DEFAULT_WAIT_MS = 3_000;
export const MAX_WAIT_SECONDS = 3_600;

/** One message in the `--json` contract. */
export function messageJson(m: InboundMessage) {
  return {
    messageId: m.messageId,
    mesh: m.meshSlug,
    from: m.from,
    fromPubkey: m.fromPubkey,
    to: m.targetSpec,
    kind: m.kind,
    priority: m.priority,
    sentAt: m.sentAt,
    text: m.text,
  };
}

/**
 * Collects messages: returns once QUIET_MS pass with no new message after at least one arrived
 * (or after the first QUIET_MS when not waiting), or at `maxMs`, on Ctrl-C, or when the connection closes.
 */
function collect(
  client: BrokerClient,
  io: Io,
  maxMs: number,
  waitForFirst: boolean,
): Promise<InboundMessage[]> {
  return new Promise((resolve) => {
    const messages: InboundMessage[] = [];
    let quiet: NodeJS.Timeout | undefined;
    const interrupted = io.interrupted();
    const onState = (state: string): void => {
      // Closed under us (e.g. replaced by a newer connection of this member): stop waiting.
      if (state === "closed") finish();
    };
    const finish = (): void => {
      clearTimeout(quiet);
      clearTimeout(hard);
      client.off("message", onMessage);
      client.off("state", onState);
      interrupted.removeEventListener("abort", finish);
      messages.push(...client.drainInbox().filter((m) => !messages.some((s) => s.messageId === m.messageId)));
      resolve(messages);
    };
    const armQuiet = (): void => {
      clearTimeout(quiet);
      quiet = setTimeout(finish, QUIET_MS);
    };
    const onMessage = (): void => {
      messages.push(...client.drainInbox());
      armQuiet();
    };
    const hard = setTimeout(finish, maxMs);
    client.on("message", onMessage);
    client.on("state", onState);
    interrupted.addEventListener("abort", finish, { once: true });
    onMessage();
    if (waitForFirst && messages.length === 0) clearTimeout(quiet);
  });
}

export const inboxCommand: Command = {
  name: "inbox",
  summary: "Print the messages waiting for you (your member identity, not your agents').",
  positionals: [],
  options: {
    mesh: {
      type: "string",
      placeholder: "SLUG",
      description: "mesh to read (default: the only one configured)",
    },
    wait: {
      type: "string",
      placeholder: "SECONDS",
      description: "wait up to SECONDS for a message when none is waiting (default: just drain the backlog)",
    },
    json: {
      type: "boolean",
      description:
        "print JSON: {mesh, messages:[{messageId, from, text, sentAt, …}], held:{count, status, source, notice}}",
    },
  },
  details: [
    "Messages shown are acknowledged to the broker and will not be shown again.",
    "Messages your status holds back (next/low while working or dnd) stay on the broker; inbox says how many.",
  ],
  async run(args, { env, io }) {
    const waitSeconds = intOption(args, "wait", 0, MAX_WAIT_SECONDS);
    const mesh = selectMesh(loadConfig(env), stringOption(args, "mesh"), env);
    const waiting = waitSeconds !== undefined && waitSeconds > 0;
    const maxMs = waiting ? waitSeconds * 1000 : DEFAULT_WAIT_MS;
    const unreadable: UndecryptableMessage[] = [];
    let fatal: ClientError | undefined;
    const { messages, held } = await withMemberClient(
      mesh,
      env,
      io,
      async (client) => {
        const messages = await collect(client, io, maxMs, waiting);
        // What the member's status still holds back on the broker (own list_peers entry), so "no messages" is never silent about it.
        const peers = await client.listPeers().catch(() => undefined);
        return { messages, held: peers ? (ownHeld(peers, mesh.pubkey) ?? null) : null };
      },
      {
        receive: true,
        // Undecryptable pushes are not buffered by the client, and the backlog arrives right after the hello.
        beforeConnect: (client) => {
          client.on("undecryptable", (notice) => void unreadable.push(notice));
          client.on("error", (err) => {
            if (err.fatal) fatal = err;
          });
        },
      },
    );
    for (const u of unreadable) {
      // Metadata only: a message that fails to decrypt was tampered with or not sealed for this key (SPEC §4).
      eprintln(
        io,
        `claudemesh inbox: message ${u.messageId} from ${neutralizeLine(u.from)} could not be decrypted and was skipped`,
      );
    }
    // Messages already received are printed either way; a lost connection is reported after them.
    const exitCode = fatal ? EXIT_FAILURE : EXIT_OK;
    if (fatal) eprintln(io, `claudemesh inbox: stopped early: ${fatal.message}`);
    const notice = heldNotice(held ?? undefined, "'claudemesh status idle' releases them");
    if (flag(args, "json")) {
      const heldJson = held === null ? null : { ...held, notice };
      io.stdout(json({ mesh: mesh.slug, messages: messages.map(messageJson), held: heldJson }));
      return exitCode;
    }
    if (messages.length === 0) {
      println(io, `no messages in "${mesh.slug}"${notice ? ` ready to show — ${notice}` : ""}`);
      return exitCode;
    }
    // Sender names and texts are peer-written: neutralized so no control sequence reaches the terminal (SPEC §5).
    for (const m of messages) {
      const where =
        m.kind === "direct" ? "" : ` → ${m.targetSpec === "*" ? "everyone" : neutralizeLine(m.targetSpec)}`;
      println(io, `[${m.sentAt}] ${neutralizeLine(m.from)}${where} (${m.priority}): ${neutralize(m.text)}`);
    }
    if (notice) println(io, `and ${notice}`);
    return exitCode;
  },
};
