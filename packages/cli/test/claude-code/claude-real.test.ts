// The real Claude Code CLI (node_modules/.bin/claude) sees the claudemesh MCP server as connected after `claudemesh install`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunningBroker } from "@claudemesh/broker";
import { tempDirs } from "../helpers/tmp.js";
import { cli, testBroker } from "../helpers/cli.js";
import { setupMesh, type MemberEnv } from "../helpers/mesh.js";

const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
const CLAUDE_BIN_DIR = join(REPO, "node_modules", ".bin");
const CLAUDE = join(CLAUDE_BIN_DIR, "claude");
const BUILT_MCP = join(REPO, "packages", "cli", "dist", "mcp", "index.js");

const dirs = tempDirs();
let broker: RunningBroker;
let env: MemberEnv;

/** Env for the real claude: temp HOME, our config dir, no auto-update or other network chatter. */
function claudeEnv(): Record<string, string> {
  return {
    ...env,
    PATH: [CLAUDE_BIN_DIR, process.env.PATH ?? "/usr/bin:/bin"].join(delimiter),
    DISABLE_AUTOUPDATER: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
  };
}

/** Runs the package's installer once when the claude binary says it is not installed yet. */
function ensureClaudeInstalled(): void {
  let ok = false;
  try {
    ok = /Claude Code/.test(execFileSync(CLAUDE, ["--version"], { encoding: "utf8", timeout: 30_000 }));
  } catch {
    ok = false;
  }
  if (!ok) {
    execFileSync(
      process.execPath,
      [join(REPO, "node_modules", "@anthropic-ai", "claude-code", "install.cjs")],
      {
        stdio: "ignore",
        timeout: 120_000,
      },
    );
  }
}

beforeAll(async () => {
  expect(existsSync(CLAUDE), `${CLAUDE} missing — run npm install`).toBe(true);
  expect(existsSync(BUILT_MCP), `${BUILT_MCP} missing — run npm run build first`).toBe(true);
  ensureClaudeInstalled();
  const root = dirs.make("cm-claude-");
  broker = await testBroker(root);
  // bob joins alice's mesh; bob's machine is the one that installs into Claude Code.
  const envs = await setupMesh(root, broker.url, "realmesh", ["alice", "bob"]);
  env = { ...envs.bob!, HOME: join(root, "bob-home") };
}, 180_000);

afterAll(async () => {
  await broker?.close();
  dirs.cleanup();
});

describe("real Claude Code", () => {
  it("claude mcp list - reports claudemesh as connected after install, and not after uninstall", async () => {
    const install = await cli(["install"], claudeEnv());
    expect(install.stderr).toBe("");
    expect(install.stdout).toContain('registered MCP server "claudemesh"');

    const list = (): Promise<string> =>
      new Promise((resolve, reject) => {
        execFile(
          CLAUDE,
          ["mcp", "list"],
          { env: claudeEnv(), cwd: env.HOME, timeout: 90_000 },
          (error, stdout, stderr) =>
            error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
        );
      });
    const out = await list();
    expect(out).toMatch(/claudemesh: .*claudemesh\.js mcp - [✓✔] Connected/);

    const uninstall = await cli(["uninstall"], claudeEnv());
    expect(uninstall.stdout).toContain('removed MCP server "claudemesh"');
    expect(await list()).not.toContain("claudemesh");
  }, 180_000);
});
