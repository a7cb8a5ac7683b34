// `claudemesh hook <event>` through the CLI dispatcher: the same tiny hook as bin's fast path (hooks/entry.ts), for in-process callers.
import { choicePositional } from "../cli/args.js";
import type { Command } from "../cli/command.js";
import { HOOK_EVENTS, runHook, type HookWord } from "../hooks/entry.js";

const WORDS = Object.keys(HOOK_EVENTS) as HookWord[];

export const hookCommand: Command = {
  name: "hook",
  summary:
    "Claude Code hook: hand this session's pending peer messages to the model and report its status (run by Claude Code; installed by 'claudemesh install').",
  positionals: [{ name: WORDS.join("|") }],
  options: {},
  details: [
    "Reads Claude Code's hook JSON from stdin and asks this session's claudemesh MCP server over its local socket",
    "(no broker connection, no keys). Exits 0 with no output when no claudemesh MCP server runs in the session.",
    "session: session start (background) · prompt: prompt submitted · tool: after a tool call · stop: reply finished",
    "(blocks once for a pending `now` message) · rewake: background Stop hook that wakes an idle session for a message.",
  ],
  async run(args, { env, io }) {
    const word = choicePositional(args.positionals[0] as string, "event", WORDS);
    return runHook(word, env, {
      stdin: async () => (await io.readStdin(200)) ?? "",
      stdout: (t) => io.stdout(t),
      stderr: (t) => io.stderr(t),
    });
  },
};
