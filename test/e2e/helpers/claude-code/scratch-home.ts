// A throwaway HOME for running the real Claude Code in tests: onboarding, folder trust and the API key pre-answered, optional hooks and MCP servers.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The Claude Code binary the repo pins as a devDependency; CLAUDEMESH_E2E_CLAUDE points at another one. */
export const CLAUDE_BIN =
  process.env.CLAUDEMESH_E2E_CLAUDE ??
  fileURLToPath(new URL("../../../../node_modules/.bin/claude", import.meta.url));

/** The API key the sessions use against the fake server (any value works; it is pre-approved below). */
export const FAKE_API_KEY = "sk-ant-fake-e2e-key-0000000000";

export interface McpServerSpec {
  name: string;
  command: string;
  args?: string[];
  env?: Record<string, string>;
}

export interface ScratchHomeOptions {
  /** Contents of ~/.claude/settings.json (hooks, permissions, crossSessionInbound, …). */
  settings?: Record<string, unknown>;
  /** Registered with the real `claude mcp add` (local scope, for the project dir). */
  mcpServers?: McpServerSpec[];
  /** Base name of the project directory inside the scratch dir (default "proj"). */
  projectName?: string;
}

export interface ScratchHome {
  /** The scratch root; everything below it is removed by cleanup(). */
  root: string;
  /** HOME for Claude Code. */
  home: string;
  /** Trusted working directory for the session. */
  projectDir: string;
  /** ~/.claude */
  claudeDir: string;
  /** ~/.claude/sessions — Claude Code's session registry. */
  sessionsDir: string;
  /** Where Claude Code writes this project's transcripts (~/.claude/projects/<munged cwd>). */
  transcriptsDir: string;
  /** Environment for a Claude Code process using this home (HOME, API key; add ANTHROPIC_BASE_URL). */
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  /** Rewrites ~/.claude/settings.json (Claude Code reloads it in a running session). */
  writeSettings(settings: Record<string, unknown>): void;
  /** Registers one more MCP server with `claude mcp add`. */
  addMcpServer(spec: McpServerSpec): void;
  cleanup(): void;
}

/** How Claude Code names a project's transcript directory: every character outside [A-Za-z0-9] becomes "-". */
export function mungeProjectPath(path: string): string {
  return path.replace(/[^A-Za-z0-9]/g, "-");
}

/** Runner environment kept out of the session: a parent Claude Code's variables, claudemesh config, real credentials. */
const SCRUBBED = [
  /^CLAUDE/,
  /^ANTHROPIC_/,
  /^MCP_/,
  /^OTEL_/,
  /^TMUX/,
  /^AWS_/,
  /^GOOGLE_/,
  /^VERTEX/,
  /^CLOUD_ML/,
];

export function makeScratchHome(options: ScratchHomeOptions = {}): ScratchHome {
  const root = mkdtempSync(join(tmpdir(), "cm-cc-"));
  const home = join(root, "home");
  const projectDir = join(root, options.projectName ?? "proj");
  const claudeDir = join(home, ".claude");
  mkdirSync(projectDir, { recursive: true });
  mkdirSync(claudeDir, { recursive: true, mode: 0o700 });
  const configPath = join(home, ".claude.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      hasCompletedOnboarding: true,
      // Claude Code stores the last 20 characters of an approved custom key; without this an
      // interactive session opens a "use this API key?" dialog.
      customApiKeyResponses: { approved: [FAKE_API_KEY.trim().slice(-20)], rejected: [] },
      projects: { [projectDir]: { hasTrustDialogAccepted: true } },
    }),
  );

  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
    const base: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env))
      if (!SCRUBBED.some((pattern) => pattern.test(key))) base[key] = value;
    return {
      ...base,
      HOME: home,
      ANTHROPIC_API_KEY: FAKE_API_KEY,
      // No CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: the session should behave as a user's does
      // (feature-flag defaults decide whether the inbox socket binds).
      DISABLE_AUTOUPDATER: "1",
      ...extra,
    };
  };

  const writeSettings = (settings: Record<string, unknown>): void => {
    writeFileSync(join(claudeDir, "settings.json"), JSON.stringify(settings, null, 2));
  };

  const addMcpServer = (spec: McpServerSpec): void => {
    const envArgs = Object.entries(spec.env ?? {}).flatMap(([key, value]) => ["-e", `${key}=${value}`]);
    const result = spawnSync(
      CLAUDE_BIN,
      ["mcp", "add", "-s", "local", spec.name, ...envArgs, "--", spec.command, ...(spec.args ?? [])],
      { cwd: projectDir, env: env(), encoding: "utf8", timeout: 30_000 },
    );
    if (result.status !== 0)
      throw new Error(
        `claude mcp add ${spec.name} failed (status ${result.status}): ${result.stderr || result.stdout}`,
      );
    const config = JSON.parse(readFileSync(configPath, "utf8")) as {
      projects?: Record<string, { mcpServers?: Record<string, unknown> }>;
    };
    if (config.projects?.[projectDir]?.mcpServers?.[spec.name] === undefined)
      throw new Error(`claude mcp add ${spec.name}: the server is not in ${configPath} for ${projectDir}`);
  };

  if (options.settings !== undefined) writeSettings(options.settings);
  for (const spec of options.mcpServers ?? []) addMcpServer(spec);

  return {
    root,
    home,
    projectDir,
    claudeDir,
    sessionsDir: join(claudeDir, "sessions"),
    transcriptsDir: join(claudeDir, "projects", mungeProjectPath(projectDir)),
    env,
    writeSettings,
    addMcpServer,
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
