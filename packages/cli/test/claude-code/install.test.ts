// install/uninstall with a temp HOME: byte-identical reversal for several starting files, idempotence, backups, MCP registration.
import { afterEach, describe, expect, it } from "vitest";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cliBinPath } from "../../src/claude-code/paths.js";
import { tempDirs } from "../helpers/tmp.js";
import { cli, isOneLine } from "../helpers/cli.js";

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

/** A temp HOME with no `claude` on PATH (registration is then printed, not run). */
function home(): { env: Record<string, string>; settings: string } {
  const dir = dirs.make("cm-home-");
  return {
    env: { HOME: dir, PATH: "/usr/bin:/bin", CLAUDEMESH_CONFIG_DIR: join(dir, ".claudemesh") },
    settings: join(dir, ".claude", "settings.json"),
  };
}

function writeSettings(path: string, text: string): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
}

const read = (path: string): string | undefined =>
  existsSync(path) ? readFileSync(path, "utf8") : undefined;

const STARTING_FILES: [string, string | undefined][] = [
  ["missing", undefined],
  ["empty file", ""],
  ["empty object", "{}"],
  ["empty object with newline", "{}\n"],
  [
    "other hooks on the same events (4-space indent, no final newline)",
    JSON.stringify(
      {
        hooks: {
          UserPromptSubmit: [{ hooks: [{ type: "command", command: "log-prompt" }] }],
          Stop: [{ matcher: "", hooks: [{ type: "command", command: "say done", timeout: 3 }] }],
        },
      },
      null,
      4,
    ),
  ],
  [
    "empty containers of our events",
    '{\n  "hooks": {\n    "Stop": [],\n    "UserPromptSubmit": []\n  }\n}\n',
  ],
  [
    "unrelated keys and odd formatting",
    '{"model":"opus","permissions":{"allow":["Bash(npm test)"],"deny":[]},\n  "env": {"FOO": "1"}, "hooks": {}}\n',
  ],
];

describe("install / uninstall", () => {
  it.each(STARTING_FILES)(
    "install then uninstall - %s: settings byte-identical afterwards",
    async (_name, before) => {
      const { env, settings } = home();
      if (before !== undefined) writeSettings(settings, before);

      const first = await cli(["install"], env);
      expect(first.stderr).toBe("");
      expect(first.code).toBe(0);
      const installed = read(settings)!;
      const parsed = JSON.parse(installed) as { hooks: Record<string, { hooks: { command: string }[] }[]> };
      const commands = Object.values(parsed.hooks).flatMap((groups) =>
        groups.flatMap((g) => g.hooks.map((h) => h.command)),
      );
      expect(commands).toContain(`${process.execPath} ${cliBinPath()} hook working`);
      expect(commands).toContain(`${process.execPath} ${cliBinPath()} hook idle`);
      expect(read(`${settings}.claudemesh-backup`)).toBe(before);

      const second = await cli(["install"], env);
      expect(second.code).toBe(0);
      expect(second.stdout).toContain("status hooks already in");
      expect(read(settings)).toBe(installed);

      const removed = await cli(["uninstall"], env);
      expect(removed.code).toBe(0);
      expect(read(settings)).toBe(before);
      expect(existsSync(`${settings}.claudemesh-backup`)).toBe(false);

      const again = await cli(["uninstall"], env);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain("no claudemesh hooks in");
      expect(read(settings)).toBe(before);
    },
  );

  it("install - keeps the file's indentation and unrelated keys in order", async () => {
    const { env, settings } = home();
    writeSettings(settings, JSON.stringify({ model: "opus", theme: "dark" }, null, 4) + "\n");
    await cli(["install"], env);
    const text = read(settings)!;
    expect(text).toMatch(/^{\n {4}"model": "opus",\n {4}"theme": "dark",\n {4}"hooks": {/);
    expect(text.endsWith("}\n")).toBe(true);
  });

  it("uninstall - settings changed since install: removes only our entries and keeps the backup", async () => {
    const { env, settings } = home();
    writeSettings(settings, '{"model":"opus"}');
    await cli(["install"], env);
    const changed = JSON.parse(read(settings)!) as Record<string, unknown>;
    changed.theme = "light";
    writeFileSync(settings, JSON.stringify(changed, null, 2));
    const res = await cli(["uninstall"], env);
    expect(res.stdout).toContain("other settings kept");
    expect(JSON.parse(read(settings)!)).toEqual({ model: "opus", theme: "light" });
    expect(read(`${settings}.claudemesh-backup`)).toBe('{"model":"opus"}');
  });

  it("install - a settings file that is not JSON is a one-line error and is left untouched", async () => {
    const { env, settings } = home();
    writeSettings(settings, "{ // comments are not JSON\n}");
    const res = await cli(["install"], env);
    expect(res.code).toBe(1);
    expect(isOneLine(res.stderr)).toBe(true);
    expect(res.stderr).toContain(`${settings} is not valid JSON`);
    expect(read(settings)).toBe("{ // comments are not JSON\n}");
    expect(existsSync(`${settings}.claudemesh-backup`)).toBe(false);
    const shape = home();
    writeSettings(shape.settings, '{"hooks": []}');
    const bad = await cli(["install"], shape.env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('"hooks" is not an object');
  });

  it("install - says when no mesh is joined yet", async () => {
    const { env } = home();
    expect((await cli(["install"], env)).stdout).toContain("no mesh joined yet");
  });

  it("install - honours CLAUDE_CONFIG_DIR", async () => {
    const { env } = home();
    const claudeDir = join(env.HOME!, "elsewhere");
    await cli(["install"], { ...env, CLAUDE_CONFIG_DIR: claudeDir });
    expect(existsSync(join(claudeDir, "settings.json"))).toBe(true);
    expect(existsSync(join(env.HOME!, ".claude", "settings.json"))).toBe(false);
  });
});

describe("MCP registration", () => {
  it("install - without claude on PATH prints the exact command", async () => {
    const { env } = home();
    const res = await cli(["install"], env);
    expect(res.stdout).toContain("claude is not on PATH");
    expect(res.stdout).toContain(
      `claude mcp add --scope user claudemesh -- ${process.execPath} ${cliBinPath()} mcp`,
    );
  });

  /** A stand-in `claude` that logs its arguments. */
  function fakeClaude(dir: string): { bin: string; log: string } {
    const bin = join(dir, "fake-claude");
    const log = join(dir, "claude.log");
    writeFileSync(bin, `#!/bin/sh\necho "$*" >> '${log}'\n`);
    chmodSync(bin, 0o755);
    return { bin, log };
  }

  it("install - runs claude mcp add once, skips an identical registration, replaces a stale one", async () => {
    const { env } = home();
    const { bin, log } = fakeClaude(env.HOME!);
    const withClaude = { ...env, CLAUDEMESH_CLAUDE_BIN: bin };
    const added = await cli(["install"], withClaude);
    expect(added.stdout).toContain('registered MCP server "claudemesh"');
    expect(read(log)).toBe(`mcp add --scope user claudemesh -- ${process.execPath} ${cliBinPath()} mcp\n`);

    // What `claude mcp add` would have recorded: an identical registration is left alone.
    const claudeJson = join(env.HOME!, ".claude.json");
    const entry = { type: "stdio", command: process.execPath, args: [cliBinPath(), "mcp"], env: {} };
    writeFileSync(claudeJson, JSON.stringify({ mcpServers: { claudemesh: entry } }));
    writeFileSync(log, "");
    const same = await cli(["install"], withClaude);
    expect(same.stdout).toContain("already registered");
    expect(read(log)).toBe("");

    writeFileSync(
      claudeJson,
      JSON.stringify({ mcpServers: { claudemesh: { ...entry, command: "/old/node" } } }),
    );
    const stale = await cli(["install"], withClaude);
    expect(stale.stdout).toContain('updated MCP server "claudemesh"');
    expect(read(log)!.split("\n").filter(Boolean)).toEqual([
      "mcp remove --scope user claudemesh",
      `mcp add --scope user claudemesh -- ${process.execPath} ${cliBinPath()} mcp`,
    ]);
  });

  it("uninstall - removes only a claudemesh registration", async () => {
    const { env } = home();
    const { bin, log } = fakeClaude(env.HOME!);
    const withClaude = { ...env, CLAUDEMESH_CLAUDE_BIN: bin };
    const claudeJson = join(env.HOME!, ".claude.json");
    writeFileSync(
      claudeJson,
      JSON.stringify({ mcpServers: { claudemesh: { command: "/x/other-tool", args: [] } } }),
    );
    expect((await cli(["uninstall"], withClaude)).stdout).toContain("was not registered");
    expect(read(log)).toBeUndefined();
    writeFileSync(
      claudeJson,
      JSON.stringify({ mcpServers: { claudemesh: { command: "node", args: ["/a/claudemesh.js", "mcp"] } } }),
    );
    expect((await cli(["uninstall"], withClaude)).stdout).toContain('removed MCP server "claudemesh"');
    expect(read(log)).toBe("mcp remove --scope user claudemesh\n");
  });

  it("install - a failing claude binary is a one-line error", async () => {
    const { env } = home();
    const bin = join(env.HOME!, "broken-claude");
    writeFileSync(bin, "#!/bin/sh\necho 'boom: cannot write config' >&2\nexit 3\n");
    chmodSync(bin, 0o755);
    const res = await cli(["install"], { ...env, CLAUDEMESH_CLAUDE_BIN: bin });
    expect(res.code).toBe(1);
    expect(isOneLine(res.stderr)).toBe(true);
    expect(res.stderr).toContain("boom: cannot write config");
    const missing = await cli(["install"], { ...env, CLAUDEMESH_CLAUDE_BIN: join(env.HOME!, "nope") });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("is not an executable file");
  });
});
