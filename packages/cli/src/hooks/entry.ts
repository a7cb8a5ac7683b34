// `claudemesh hook <event>`: the tiny Claude Code hook — forwards the hook's input to its session's MCP server over a local socket and prints the answer. Node built-ins only.
import { connect } from "node:net";
import { existsSync, readFileSync } from "node:fs";
import { hookConfigDir, hookSocketPath, readHookPointer } from "./socket-path.js";

/** The hook events claudemesh installs, by the word on its command line (older installs said working / idle). */
export const HOOK_EVENTS = {
  session: "SessionStart",
  prompt: "UserPromptSubmit",
  tool: "PostToolUse",
  stop: "Stop",
  rewake: "Rewake",
  working: "UserPromptSubmit",
  idle: "Stop",
} as const;
export type HookWord = keyof typeof HOOK_EVENTS;

/** What the MCP server answers: text for the hook's stdout / stderr and its exit code (2 with stderr wakes or blocks). */
export interface HookReply {
  stdout?: string;
  stderr?: string;
  exit?: number;
}

/** A synchronous hook gives up after this long in all (Claude Code waits on it). */
export const HOOK_SYNC_BUDGET_MS = 1_000;
/** The rewake hook waits this long for a message by default (Claude Code runs it in the background). */
export const HOOK_REWAKE_WAIT_MS = 600_000;

type Env = Readonly<Record<string, string | undefined>>;

export interface HookIo {
  stdin(): Promise<string>;
  stdout(text: string): void;
  stderr(text: string): void;
}

/** The parent chain of this process, nearest first (Claude Code may run hooks through a shell). Linux reads /proc; elsewhere only the parent is known. */
export function parentChain(start: number = process.ppid, depth = 4): number[] {
  const chain: number[] = [];
  let pid = start;
  for (let i = 0; i < depth && pid > 1; i++) {
    chain.push(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // Field 4 (ppid) follows the parenthesised command name, which may itself hold spaces or ')'.
      const after = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      pid = Number(after[1]);
    } catch {
      break;
    }
  }
  return chain;
}

function readStdin(budgetMs: number): Promise<string> {
  return new Promise((resolve) => {
    if (process.stdin.isTTY) return resolve("");
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => done(), budgetMs);
    const done = (): void => {
      clearTimeout(timer);
      process.stdin.pause();
      resolve(Buffer.concat(chunks).toString("utf8"));
    };
    process.stdin.on("data", (c: Buffer) => chunks.push(c));
    process.stdin.once("end", done);
    process.stdin.once("error", done);
  });
}

/** Sends one request line to `path` and resolves with the reply line parsed, or null on any failure or timeout. */
export function ask(path: string, request: object, timeoutMs: number): Promise<HookReply | null> {
  return new Promise((resolve) => {
    let buffer = "";
    let settled = false;
    const socket = connect({ path });
    const finish = (reply: HookReply | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(reply);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      const end = buffer.indexOf("\n");
      if (end === -1) return;
      try {
        finish(JSON.parse(buffer.slice(0, end)) as HookReply);
      } catch {
        finish(null);
      }
    });
    socket.on("error", () => finish(null));
    socket.on("close", () => finish(null));
  });
}

/**
 * Runs one hook and returns its exit code. Never fails Claude Code: no MCP server (claudemesh
 * not running in this session), a slow one or a bad reply all end in exit 0 with no output.
 */
export async function runHook(
  word: string | undefined,
  env: Env = process.env,
  io: HookIo = {
    stdin: () => readStdin(200),
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
  },
  chain: number[] = parentChain(),
): Promise<number> {
  const started = Date.now();
  if (word === undefined || !(word in HOOK_EVENTS)) {
    io.stderr(`claudemesh hook: expected one of ${Object.keys(HOOK_EVENTS).join(", ")}\n`);
    return 2;
  }
  const event = HOOK_EVENTS[word as HookWord];
  let input: unknown = {};
  try {
    const text = await io.stdin();
    input = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    input = {};
  }
  const configDir = hookConfigDir(env);
  // The server's socket in this hook's config dir, else the one its pointer names (a config dir given only to the server).
  let path: string | undefined;
  for (const pid of chain) {
    const own = hookSocketPath(configDir, pid);
    const found = existsSync(own) ? own : readHookPointer(pid);
    if (found !== undefined && existsSync(found)) {
      path = found;
      break;
    }
  }
  if (path === undefined) return 0;
  const waitMs =
    event === "Rewake"
      ? Number(env.CLAUDEMESH_HOOK_REWAKE_WAIT_MS) || HOOK_REWAKE_WAIT_MS
      : Math.max(50, HOOK_SYNC_BUDGET_MS - (Date.now() - started));
  const reply = await ask(path, { v: 1, event, input, waitMs }, waitMs + 100);
  if (reply === null) return 0;
  if (reply.stdout) io.stdout(reply.stdout);
  if (reply.stderr) io.stderr(reply.stderr);
  return reply.exit === 2 ? 2 : 0;
}
