// Registers `claudemesh mcp` with Claude Code (`claude mcp add --scope user|project|local`): which command to register, with which environment, and where Claude Code records it.
import { execFile } from "node:child_process";
import { accessSync, constants, realpathSync } from "node:fs";
import { basename, delimiter, dirname, isAbsolute, join, resolve, sep } from "node:path";
import { readFileIfExists } from "../config/atomic.js";
import type { Env } from "../config/paths.js";
import { CliError } from "../cli/errors.js";
import { claudeSettingsPath, claudeUserConfigPath, cliBinPath, shellCommand } from "./paths.js";

/** The name the server is registered under. */
export const MCP_SERVER_NAME = "claudemesh";
/** `claude mcp add/remove` are local file edits; this only guards against a hung binary. */
const CLAUDE_TIMEOUT_MS = 60_000;

/** Claude Code's MCP scopes: user (every project), project (`.mcp.json`, shared), local (this project, private). */
export const SCOPES = ["user", "project", "local"] as const;
export type Scope = (typeof SCOPES)[number];

/** Environment variables the MCP server and the hooks must see to use the same identity as this shell. */
export const FORWARDED_ENV = ["CLAUDEMESH_CONFIG_DIR"] as const;

/** The command to tell a person who has no `claude` binary. */
export const CLAUDE_INSTALL_HINT =
  "install Claude Code (npm install -g @anthropic-ai/claude-code) or set CLAUDEMESH_CLAUDE_BIN=/path/to/claude";

/** `CLAUDEMESH_CLAUDE_BIN`, else the first executable `claude` on PATH, else undefined. */
export function findClaude(env: Env): string | undefined {
  const override = env.CLAUDEMESH_CLAUDE_BIN;
  if (override) {
    if (!isExecutable(override)) {
      throw new CliError(`CLAUDEMESH_CLAUDE_BIN=${override} is not an executable file — fix or unset it`);
    }
    return override;
  }
  return findOnPath(env, "claude");
}

function findOnPath(env: Env, name: string): string | undefined {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "" || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
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

function realpathOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The program and arguments that run this CLI, for Claude Code to start. When a `claudemesh` on
 * PATH is this very package (a global or prefix install: `<prefix>/bin/claudemesh`), that command,
 * by absolute path: it survives upgrades of the package and does not point into a build tree.
 * Otherwise (a clone, or a project-local `node_modules/.bin`), the absolute node and the absolute
 * bin of this package, immune to PATH differences.
 */
export function cliInvocation(env: Env, bin: string = cliBinPath()): string[] {
  const ours = realpathOrUndefined(bin);
  const onPath = findOnPath(env, "claudemesh");
  if (
    ours !== undefined &&
    onPath !== undefined &&
    !onPath.includes(`${sep}node_modules${sep}.bin${sep}`) &&
    realpathOrUndefined(onPath) === ours
  ) {
    return [onPath];
  }
  return [process.execPath, bin];
}

/** The registration claudemesh wants: a stdio server running `<invocation> mcp` with `env`. */
export interface McpServerSpec {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** The variables of FORWARDED_ENV that are set here, to pass to the MCP server (and hooks). */
export function forwardedEnv(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_ENV) {
    const value = env[name];
    if (value) out[name] = isAbsolute(value) ? value : resolve(value);
  }
  return out;
}

export function desiredServer(invocation: readonly string[], env: Env): McpServerSpec {
  const [command, ...rest] = invocation;
  return { command: command as string, args: [...rest, "mcp"], env: forwardedEnv(env) };
}

/** The `claude mcp add` arguments for `spec` (name before `-e`: `-e` takes several values). */
export function mcpAddArgs(spec: McpServerSpec, scope: Scope): string[] {
  const envArgs = Object.entries(spec.env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
  return ["mcp", "add", "--scope", scope, MCP_SERVER_NAME, ...envArgs, "--", spec.command, ...spec.args];
}

export function mcpRemoveArgs(scope: Scope): string[] {
  return ["mcp", "remove", "--scope", scope, MCP_SERVER_NAME];
}

/** The hook command prefix: the same program, with the forwarded environment in front (hooks run through a shell). */
export function hookCommandPrefix(invocation: readonly string[], env: Env): string {
  const vars = Object.entries(forwardedEnv(env)).map(([k, v]) => `${k}=${shellCommand([v])}`);
  return [...vars, shellCommand(invocation)].join(" ");
}

/** Where Claude Code keeps the hooks that belong with a registration of `scope`. */
export function settingsPathFor(scope: Scope, env: Env, cwd: string): string {
  if (scope === "user") return claudeSettingsPath(env);
  return join(cwd, ".claude", scope === "project" ? "settings.json" : "settings.local.json");
}

/** The file Claude Code records a `scope` registration in. */
export function registryPathFor(scope: Scope, env: Env, cwd: string): string {
  return scope === "project" ? join(cwd, ".mcp.json") : claudeUserConfigPath(env);
}

function asSpec(server: unknown): McpServerSpec | undefined {
  if (typeof server !== "object" || server === null) return undefined;
  const { command, args, env } = server as { command?: unknown; args?: unknown; env?: unknown };
  if (typeof command !== "string" || !Array.isArray(args) || !args.every((a) => typeof a === "string"))
    return undefined;
  const vars: Record<string, string> = {};
  if (typeof env === "object" && env !== null) {
    for (const [k, v] of Object.entries(env)) if (typeof v === "string") vars[k] = v;
  }
  return { command, args: args as string[], env: vars };
}

/**
 * The current registration at `scope`, read from Claude Code's own files (`~/.claude.json` for
 * user and local — local under `projects[<cwd>]` — and `<cwd>/.mcp.json` for project); undefined
 * when there is none or the file is unreadable. Reading beats `claude mcp get`, which starts the
 * server to report its health.
 */
export function currentRegistration(
  env: Env,
  scope: Scope = "user",
  cwd = process.cwd(),
): McpServerSpec | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileIfExists(registryPathFor(scope, env, cwd)) ?? "null");
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const root = parsed as { mcpServers?: Record<string, unknown>; projects?: Record<string, unknown> };
  if (scope !== "local") return asSpec(root.mcpServers?.[MCP_SERVER_NAME]);
  const project = root.projects?.[cwd] as { mcpServers?: Record<string, unknown> } | undefined;
  return asSpec(project?.mcpServers?.[MCP_SERVER_NAME]);
}

export function sameSpec(a: McpServerSpec, b: McpServerSpec): boolean {
  const envKey = (e: Record<string, string>): string =>
    JSON.stringify(Object.entries(e).sort(([x], [y]) => x.localeCompare(y)));
  return (
    a.command === b.command && a.args.join("\0") === b.args.join("\0") && envKey(a.env) === envKey(b.env)
  );
}

/** True for a registration that runs claudemesh (only those are ours to replace or remove). */
export function isClaudemeshSpec(spec: McpServerSpec): boolean {
  return [spec.command, ...spec.args].some(
    (w) => basename(w).startsWith("claudemesh") || w.includes("claudemesh"),
  );
}

export function runClaude(claude: string, args: string[], env: Env, cwd: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    execFile(claude, args, { env: { ...env }, cwd, timeout: CLAUDE_TIMEOUT_MS }, (error, _stdout, stderr) => {
      if (!error) return resolvePromise();
      const detail = String(stderr || error.message)
        .trim()
        .split("\n")[0];
      reject(
        new CliError(
          `'claude ${args.slice(0, 2).join(" ")}' failed: ${detail} — run '${shellCommand(["claude", ...args])}' yourself to see why`,
        ),
      );
    });
  });
}

/** What registering would do; computed before anything is written. */
export interface RegistrationPlan {
  scope: Scope;
  spec: McpServerSpec;
  current: McpServerSpec | undefined;
  kind: "registered" | "replaced" | "unchanged";
  /** `claude mcp add …` as a shell command (for messages). */
  command: string;
}

export function planRegistration(
  env: Env,
  invocation: readonly string[],
  scope: Scope,
  cwd: string,
): RegistrationPlan {
  const spec = desiredServer(invocation, env);
  const current = currentRegistration(env, scope, cwd);
  const command = shellCommand(["claude", ...mcpAddArgs(spec, scope)]);
  const kind = current === undefined ? "registered" : sameSpec(current, spec) ? "unchanged" : "replaced";
  if (current !== undefined && kind === "replaced" && !isClaudemeshSpec(current)) {
    throw new CliError(
      `an MCP server named "${MCP_SERVER_NAME}" at ${scope} scope runs something else (${shellCommand([current.command, ...current.args])}) — remove it with 'claude mcp remove --scope ${scope} ${MCP_SERVER_NAME}', then run this again`,
    );
  }
  return { scope, spec, current, kind, command };
}

/** Applies a plan: `claude mcp remove` of a stale registration, then `claude mcp add`. */
export async function applyRegistration(
  plan: RegistrationPlan,
  claude: string,
  env: Env,
  cwd: string,
): Promise<void> {
  if (plan.kind === "unchanged") return;
  if (plan.current) await runClaude(claude, mcpRemoveArgs(plan.scope), env, cwd);
  await runClaude(claude, mcpAddArgs(plan.spec, plan.scope), env, cwd);
}

/** Undoes applyRegistration after a later step failed: the previous registration back, or none. */
export async function revertRegistration(
  plan: RegistrationPlan,
  claude: string,
  env: Env,
  cwd: string,
): Promise<void> {
  if (plan.kind === "unchanged") return;
  await runClaude(claude, mcpRemoveArgs(plan.scope), env, cwd);
  if (plan.current) await runClaude(claude, mcpAddArgs(plan.current, plan.scope), env, cwd);
}

export type UnregisterResult = { kind: "removed" } | { kind: "absent" } | { kind: "manual"; command: string };

/** Removes the registration at `scope` (only ours, by name and command); says the command when `claude` is missing. */
export async function unregisterMcpServer(
  env: Env,
  scope: Scope = "user",
  cwd = process.cwd(),
): Promise<UnregisterResult> {
  const removeArgs = mcpRemoveArgs(scope);
  const current = currentRegistration(env, scope, cwd);
  if (!current || !isClaudemeshSpec(current)) return { kind: "absent" };
  const claude = findClaude(env);
  if (!claude) return { kind: "manual", command: shellCommand(["claude", ...removeArgs]) };
  await runClaude(claude, removeArgs, env, cwd);
  return { kind: "removed" };
}

/** The directory a registered command lives in (for messages). */
export function commandDir(spec: McpServerSpec): string {
  return dirname(spec.command);
}
