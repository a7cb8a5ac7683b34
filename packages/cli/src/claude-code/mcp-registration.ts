// Registers `claudemesh mcp` with Claude Code (`claude mcp add --scope user`), or says the exact command when `claude` is not installed.
import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { readFileIfExists } from "../config/atomic.js";
import type { Env } from "../config/paths.js";
import { CliError } from "../cli/errors.js";
import { claudeUserConfigPath, shellCommand } from "./paths.js";

/** The name the server is registered under. */
export const MCP_SERVER_NAME = "claudemesh";
/** `claude mcp add/remove` are local file edits; this only guards against a hung binary. */
const CLAUDE_TIMEOUT_MS = 60_000;

/** `CLAUDEMESH_CLAUDE_BIN`, else the first executable `claude` on PATH, else undefined. */
export function findClaude(env: Env): string | undefined {
  const override = env.CLAUDEMESH_CLAUDE_BIN;
  if (override) {
    if (!isExecutable(override)) {
      throw new CliError(`CLAUDEMESH_CLAUDE_BIN=${override} is not an executable file`);
    }
    return override;
  }
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "" || !isAbsolute(dir)) continue;
    const candidate = join(dir, "claude");
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The registration claudemesh wants: a stdio server running `<node> <bin> mcp`. */
export interface McpServerSpec {
  command: string;
  args: string[];
}

export function desiredServer(invocation: readonly string[]): McpServerSpec {
  const [command, ...rest] = invocation;
  return { command: command as string, args: [...rest, "mcp"] };
}

/** The `claude mcp add` arguments for `spec`. */
export function mcpAddArgs(spec: McpServerSpec): string[] {
  return ["mcp", "add", "--scope", "user", MCP_SERVER_NAME, "--", spec.command, ...spec.args];
}

/**
 * The current user-scope registration, read from Claude Code's `~/.claude.json` (undefined when
 * there is none or the file is unreadable). Reading beats `claude mcp get`, which starts the
 * server to report its health.
 */
export function currentRegistration(env: Env): McpServerSpec | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileIfExists(claudeUserConfigPath(env)) ?? "null");
  } catch {
    return undefined;
  }
  const server = (parsed as { mcpServers?: Record<string, unknown> } | null)?.mcpServers?.[MCP_SERVER_NAME];
  if (typeof server !== "object" || server === null) return undefined;
  const { command, args } = server as { command?: unknown; args?: unknown };
  if (typeof command !== "string" || !Array.isArray(args) || !args.every((a) => typeof a === "string"))
    return undefined;
  return { command, args: args as string[] };
}

function runClaude(claude: string, args: string[], env: Env): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(claude, args, { env: { ...env }, timeout: CLAUDE_TIMEOUT_MS }, (error, _stdout, stderr) => {
      if (!error) return resolve();
      const detail = String(stderr || error.message)
        .trim()
        .split("\n")[0];
      reject(new CliError(`'claude ${args.slice(0, 2).join(" ")}' failed: ${detail}`));
    });
  });
}

export type RegisterResult =
  { kind: "registered" | "replaced" | "unchanged"; command: string } | { kind: "manual"; command: string };

/**
 * Registers the MCP server with Claude Code at user scope, skipping when it is already
 * registered identically and replacing a registration that points elsewhere (e.g. an old
 * node path). Without a `claude` binary, returns the exact command for the person to run.
 */
export async function registerMcpServer(env: Env, invocation: readonly string[]): Promise<RegisterResult> {
  const spec = desiredServer(invocation);
  const command = shellCommand(["claude", ...mcpAddArgs(spec)]);
  const claude = findClaude(env);
  if (!claude) return { kind: "manual", command };
  const current = currentRegistration(env);
  if (current && current.command === spec.command && current.args.join("\0") === spec.args.join("\0")) {
    return { kind: "unchanged", command };
  }
  if (current) await runClaude(claude, ["mcp", "remove", "--scope", "user", MCP_SERVER_NAME], env);
  await runClaude(claude, mcpAddArgs(spec), env);
  return { kind: current ? "replaced" : "registered", command };
}

export type UnregisterResult = { kind: "removed" } | { kind: "absent" } | { kind: "manual"; command: string };

/** Removes the user-scope registration (only ours, by name); says the command when `claude` is missing. */
export async function unregisterMcpServer(env: Env): Promise<UnregisterResult> {
  const removeArgs = ["mcp", "remove", "--scope", "user", MCP_SERVER_NAME];
  const claude = findClaude(env);
  const current = currentRegistration(env);
  // Only a registration that runs claudemesh is ours to remove.
  if (!current || ![current.command, ...current.args].some((w) => w.includes("claudemesh")))
    return { kind: "absent" };
  if (!claude) return { kind: "manual", command: shellCommand(["claude", ...removeArgs]) };
  await runClaude(claude, removeArgs, env);
  return { kind: "removed" };
}
