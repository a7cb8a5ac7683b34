// Usage errors for every command: exit 2, one line naming the command with a --help hint, no stack trace; --help everywhere.
import { afterAll, describe, expect, it } from "vitest";
import { mkdirSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { dispatch } from "../../src/cli/dispatcher.js";
import { memoryIo } from "../../src/cli/io.js";
import { COMMANDS } from "../../src/commands/index.js";
import { tempDirs } from "../helpers/tmp.js";
import { cli, isOneLine } from "../helpers/cli.js";

const dirs = tempDirs();
const env = { CLAUDEMESH_CONFIG_DIR: join(dirs.make(), "cfg") };
afterAll(() => dirs.cleanup());

const LINK = "ic://join/eyJ2IjoxfQ";

/** [argv, expected fragment of the message]: each must be a usage error (exit 2). */
const USAGE_CASES: [string[], string][] = [
  [["broker", "extra"], 'takes no arguments, got "extra"'],
  [["broker", "--port", "70000"], "--port must be a whole number from 0 to 65535"],
  [["broker", "--port"], "option --port needs a value"],
  [["broker", "--verbose"], "unknown option --verbose"],
  [["mesh", "create"], "expected <slug>"],
  [["mesh", "create", "a", "b"], "expected <slug>"],
  [["mesh", "create", "Not A Slug"], 'mesh slug "Not A Slug" must be'],
  [["mesh", "create", "team", "--as", "#bad"], '--as "#bad" is not valid'],
  [["mesh", "create", "team", "--as", "x", "--as", "y"], "option --as given more than once"],
  [["invite", "extra"], "takes no arguments"],
  [["invite", "--role", "owner"], "--role must be one of admin, member"],
  [["invite", "--uses", "0"], "--uses must be a whole number from 1"],
  [["invite", "--uses", "two"], "--uses must be a whole number"],
  [["invite", "--expires", "soon"], "--expires must be like 30m, 24h, 7d"],
  [["invite", "--expires", "400d"], "at most 365d"],
  [["join"], "expected <link>"],
  [["join", LINK, LINK], "expected <link>"],
  [["join", LINK, "--name", "a:b"], '--name "a:b" is not valid'],
  [["list", "extra"], "takes no arguments"],
  [["list", "--json=yes"], "option --json takes no value"],
  [["leave", "a", "b"], "expected [SLUG]"],
  [["send"], "expected <to> <message>"],
  [["send", "bob"], "expected <to> <message>"],
  [["send", "bob", "hello", "there"], "expected <to> <message>"],
  [["send", "bob", "   "], "message is empty"],
  [["send", "bob", "hi", "--priority", "urgent"], "--priority must be one of now, next, low"],
  [["peers", "bob"], "takes no arguments"],
  [["peers", "--all"], "unknown option --all"],
  [["inbox", "--wait", "-1"], "--wait must be a whole number"],
  [["inbox", "--wait", "soon"], "--wait must be a whole number"],
  [["status", "away"], "status must be one of idle, working, dnd"],
  [["status", "idle", "now"], "expected [idle|working|dnd]"],
  [["revoke"], "expected <peer>"],
  [["agents", "bob"], "takes no arguments"],
  [["agents", "retire"], "expected <name>"],
  [["leave", "--local"], "unknown option --local"],
  [["hook"], "expected <"],
  [["hook", "dnd"], "must be one of"],
  [["install", "extra"], "takes no arguments"],
  [["uninstall", "--force"], "unknown option --force"],
];

describe("usage errors", () => {
  it.each(USAGE_CASES)("usage - claudemesh %j exits 2 with one line", async (argv, fragment) => {
    const res = await cli(argv, env);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe("");
    expect(isOneLine(res.stderr)).toBe(true);
    expect(res.stderr).toContain(fragment);
    const name = argv[0] === "mesh" ? "mesh create" : argv[1] === "retire" ? "agents retire" : argv[0];
    expect(res.stderr.startsWith(`claudemesh ${name}: `)).toBe(true);
    expect(res.stderr.trimEnd().endsWith(`— try 'claudemesh ${name} --help'`)).toBe(true);
  });

  it("usage - the brief's example message, exactly", async () => {
    const res = await cli(["send", "bob"], env);
    expect(res.stderr).toBe("claudemesh send: expected <to> <message> — try 'claudemesh send --help'\n");
  });

  it("usage - unknown command, missing subcommand, no command", async () => {
    const unknown = await cli(["frobnicate"], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(`claudemesh: unknown command "frobnicate" — try 'claudemesh --help'\n`);
    const sub = await cli(["mesh", "delete"], env);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain("expected a subcommand (create)");
    const none = await cli([], env);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("usage: claudemesh <command>");
  });

  it("usage - `--` lets a message start with a dash", async () => {
    // Parses fine (then fails at runtime for lack of config, exit 1 — not a usage error).
    const res = await cli(["send", "bob", "--", "-1 is not a flag"], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("no claudemesh config");
  });
});

describe("help", () => {
  const commands = [
    "broker",
    "mesh create",
    "invite",
    "join",
    "list",
    "leave",
    "revoke",
    "agents",
    "agents retire",
    "send",
    "peers",
    "inbox",
    "status",
    "hook",
    "install",
    "uninstall",
    "doctor",
  ];

  it.each(commands)("help - claudemesh %s --help prints usage and exits 0", async (name) => {
    const res = await cli([...name.split(" "), "--help"], env);
    expect(res.code).toBe(0);
    expect(res.stderr).toBe("");
    expect(res.stdout.startsWith(`usage: claudemesh ${name}`)).toBe(true);
    expect(res.stdout).toContain("-h, --help");
  });

  it("help - --help wins over bad arguments", async () => {
    const res = await cli(["send", "--help", "--bogus"], env);
    expect(res.code).toBe(2); // an unknown option is still reported…
    const ok = await cli(["send", "only-one-arg", "--help"], env);
    expect(ok.code).toBe(0); // …but a wrong count is not checked when help is asked for
  });

  it("help - the global help lists every command; --version prints the version", async () => {
    const res = await cli(["--help"], env);
    expect(res.code).toBe(0);
    for (const name of [...commands, "mcp"]) expect(res.stdout).toContain(`  ${name} `);
    expect(res.stdout).toContain("CLAUDEMESH_CONFIG_DIR");
    const version = await cli(["--version"], env);
    expect(version.stdout).toMatch(/^claudemesh \d+\.\d+\.\d+\n$/);
  });
});

describe("lazy loading", () => {
  it("help - each command's summary in the global help is the one its module declares", async () => {
    for (const entry of COMMANDS) expect((await entry.load()).summary, entry.name).toBe(entry.summary);
  });

  it("help - the global help loads no command module", async () => {
    const loaded: string[] = [];
    const spied = COMMANDS.map((entry) => ({
      ...entry,
      load: () => {
        loaded.push(entry.name);
        return entry.load();
      },
    }));
    const io = memoryIo();
    expect(await dispatch({ version: "1.0.0", commands: spied }, ["--help"], {}, io)).toBe(0);
    expect(io.stdoutText).toContain("  doctor ");
    expect(loaded).toEqual([]);
    await dispatch({ version: "1.0.0", commands: spied }, ["list", "--help"], {}, memoryIo());
    expect(loaded).toEqual(["list"]);
  });

  it("help - claudemesh --help through the bin loads no crypto, zod, ws or command module", () => {
    const bin = fileURLToPath(new URL("../../bin/claudemesh.js", import.meta.url));
    // A resolve hook that reports every module the ESM loader resolves while the bin prints its help.
    const hook = `export async function resolve(s, c, n) { const r = await n(s, c); process._rawDebug("LOADED " + r.url); return r; }`;
    const register = `import { register } from "node:module"; register("data:text/javascript," + encodeURIComponent(${JSON.stringify(hook)}));`;
    const run = spawnSync(
      process.execPath,
      ["--import", `data:text/javascript,${encodeURIComponent(register)}`, bin, "--help"],
      {
        encoding: "utf8",
      },
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("  doctor ");
    const loaded = run.stderr
      .split("\n")
      .filter((l) => l.startsWith("LOADED "))
      .map((l) => l.slice(7));
    expect(loaded.length).toBeGreaterThan(3);
    expect(
      loaded.filter((url) =>
        /libsodium|[/]zod[/]|[/]ws[/]|@claudemesh|[/]protocol[/]|[/]commands[/](?!index)/.test(url),
      ),
    ).toEqual([]);
  });
});

describe("runtime errors", () => {
  it.each([["list"], ["invite"], ["peers", "--json"], ["leave"]])(
    "corrupt config - claudemesh %s exits 1 with one line naming the file, no stack trace",
    async (...argv) => {
      const cfg = join(dirs.make(), "cfg");
      mkdirSync(cfg, { recursive: true });
      writeFileSync(join(cfg, "config.json"), '{"version":1,"meshes":[{"slug":');
      const res = await cli(argv, { CLAUDEMESH_CONFIG_DIR: cfg });
      expect(res.code).toBe(1);
      expect(res.stdout).toBe("");
      expect(isOneLine(res.stderr)).toBe(true);
      expect(res.stderr).toContain(`${join(cfg, "config.json")} is not valid JSON`);
    },
  );

  it.each([
    [["invite"]],
    [["send", "bob", "hi"]],
    [["peers"]],
    [["inbox"]],
    [["status", "idle"]],
    [["leave"]],
  ])("missing config - claudemesh %j exits 1 with one line naming the config path", async (argv) => {
    const res = await cli(argv, env);
    expect(res.code).toBe(1);
    expect(isOneLine(res.stderr)).toBe(true);
    expect(res.stderr).toContain(join(env.CLAUDEMESH_CONFIG_DIR, "config.json"));
    expect(res.stderr).not.toContain("--help");
  });
});
