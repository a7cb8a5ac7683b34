// The publishable tarball: `npm run pack` output installed with `npm install -g --prefix <tmp>` from the registry cache, then the README journey run from that install alone.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { ensureCliBuilt, REPO } from "./helpers/processes.js";

/** The whole install: ~2.5 min alone (better-sqlite3 compiles from source), more beside a parallel suite. */
const INSTALL_TIMEOUT_MS = 400_000;
const npmAvailable = spawnSync("npm", ["--version"], { encoding: "utf8" }).status === 0;
if (!npmAvailable) console.warn("pack-install: npm is not on PATH — skipping the tarball install test");

const scratch = mkdtempSync(join(tmpdir(), "claudemesh-pack-e2e-"));
const prefix = join(scratch, "prefix");
const bin = join(prefix, "bin", "claudemesh");
const children = new Set<ChildProcess>();
let tarball = "";
let baseEnv: Record<string, string> = {};

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the installed `claudemesh` (through its shebang, as a shell would) to completion. */
function run(
  args: string[],
  env: Record<string, string>,
  options: { stdin?: string; timeoutMs?: number } = {},
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      cwd: scratch,
      env: { ...baseEnv, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    children.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.stdin.end(options.stdin ?? "");
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`claudemesh ${args.join(" ")} timed out; stderr: ${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

async function ok(args: string[], env: Record<string, string>): Promise<string> {
  const res = await run(args, env);
  expect(res.code, `claudemesh ${args.join(" ")}: ${res.stderr}`).toBe(0);
  return res.stdout;
}

/** Starts a long-running installed command and resolves with the child once `ready` matches its stdout. */
function startUntil(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      cwd: scratch,
      env: { ...baseEnv, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    children.add(child);
    child.once("exit", () => children.delete(child));
    let out = "";
    let err = "";
    const timer = setTimeout(() => reject(new Error(`${args.join(" ")} not ready; stderr: ${err}`)), 20_000);
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      const match = ready.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match });
      }
    });
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited ${code}; stderr: ${err}`)));
  });
}

beforeAll(async () => {
  if (!npmAvailable) return;
  ensureCliBuilt();
  const packed = spawnSync(
    process.execPath,
    [join(REPO, "scripts", "pack.mjs"), "--no-build", "--out", scratch],
    {
      encoding: "utf8",
      timeout: 60_000,
    },
  );
  expect(packed.status, packed.stderr).toBe(0);
  tarball = packed.stdout.trim().split("\n").pop()!;
  // Only the registry (here: its local cache), no workspace: what a user without the clone gets.
  const installed = spawnSync(
    "npm",
    [
      "install",
      "-g",
      "--prefix",
      prefix,
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      "--allow-scripts=better-sqlite3",
      tarball,
    ],
    { cwd: scratch, encoding: "utf8", timeout: INSTALL_TIMEOUT_MS - 20_000 },
  );
  expect(installed.status, `${installed.stdout}\n${installed.stderr}`).toBe(0);
  const home = join(scratch, "home");
  baseEnv = {
    PATH: [join(prefix, "bin"), process.env.PATH ?? "/usr/bin:/bin"].join(delimiter),
    HOME: home,
    CLAUDEMESH_LOG_LEVEL: "warn",
  };
}, INSTALL_TIMEOUT_MS);

afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
  rmSync(scratch, { recursive: true, force: true });
});

describe.skipIf(!npmAvailable)("npm tarball", () => {
  it("pack - one tarball with compiled JavaScript, the four workspace packages bundled, no sources or maps", () => {
    const list = spawnSync("tar", ["tzf", tarball], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
    expect(list).toContain("package/bin/claudemesh.js");
    expect(list).toContain("package/dist/main.js");
    for (const pkg of ["protocol", "crypto", "broker", "client"])
      expect(list).toContain(`package/node_modules/@claudemesh/${pkg}/dist/index.js`);
    expect(list.filter((f) => /\.map$|\.tsbuildinfo$|\/src\/|\/test\/|\.ts$(?<!\.d\.ts)/.test(f))).toEqual(
      [],
    );
    const manifest = JSON.parse(
      readFileSync(join(prefix, "lib", "node_modules", "claudemesh", "package.json"), "utf8"),
    ) as Record<string, unknown>;
    expect(manifest.private).toBeUndefined();
    expect(manifest.bundleDependencies).toHaveLength(4);
  });

  it("installed - the README journey from the install alone: broker, mesh create, invite, join, send/inbox, mcp, hook, install, doctor, demo", async () => {
    expect(await ok(["--version"], {})).toMatch(/^claudemesh \d+\.\d+\.\d+\n$/);
    const alice = { CLAUDEMESH_CONFIG_DIR: join(scratch, "alice") };
    const bob = { CLAUDEMESH_CONFIG_DIR: join(scratch, "bob") };

    const broker = await startUntil(
      ["broker", "--port", "0", "--db", join(scratch, "broker.db")],
      alice,
      /listening on (http:\/\/127\.0\.0\.1:\d+)/,
    );
    const url = broker.match[1]!;
    try {
      await ok(["mesh", "create", "team", "--broker", url, "--as", "alice"], alice);
      const link = (await ok(["invite", "--uses", "1"], alice)).trim();
      expect(link).toMatch(/^ic:\/\/join\//);
      await ok(["join", link, "--name", "bob"], bob);
      await ok(["send", "bob", "hello from the tarball"], alice);
      const inbox = JSON.parse(await ok(["inbox", "--json", "--wait", "10"], bob)) as unknown;
      expect(JSON.stringify(inbox)).toContain("hello from the tarball");

      // The MCP server answers initialize over stdio.
      const initialize = `${JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: {
          protocolVersion: "2025-06-18",
          capabilities: {},
          clientInfo: { name: "pack-e2e", version: "1" },
        },
      })}\n`;
      const mcp = spawn(bin, ["mcp"], {
        cwd: scratch,
        env: { ...baseEnv, ...bob },
        stdio: ["pipe", "pipe", "pipe"],
      });
      children.add(mcp);
      const reply = await new Promise<string>((resolve, reject) => {
        let out = "";
        const timer = setTimeout(() => reject(new Error("mcp: no initialize reply in 20 s")), 20_000);
        mcp.stdout.on("data", (c: Buffer) => {
          out += c.toString();
          if (out.includes("\n")) {
            clearTimeout(timer);
            resolve(out.split("\n")[0]!);
          }
        });
        mcp.stdin.write(initialize);
      });
      mcp.kill("SIGTERM");
      expect((JSON.parse(reply) as { result: { serverInfo: { name: string } } }).result.serverInfo.name).toBe(
        "claudemesh",
      );

      // A hook with no session behind it exits 0 at once (it never holds up Claude Code).
      const hook = await run(["hook", "prompt"], bob, { stdin: "{}", timeoutMs: 10_000 });
      expect(hook.code).toBe(0);

      // install registers the installed command on PATH, not a path into a build tree.
      const claude = join(scratch, "claude");
      const log = join(scratch, "claude.log");
      writeFileSync(claude, `#!/bin/sh\necho "$*" >> '${log}'\n`);
      chmodSync(claude, 0o755);
      await ok(["install"], { ...bob, CLAUDEMESH_CLAUDE_BIN: claude });
      expect(readFileSync(log, "utf8")).toBe(
        `mcp add --scope user claudemesh -e CLAUDEMESH_CONFIG_DIR=${bob.CLAUDEMESH_CONFIG_DIR} -- ${bin} mcp\n`,
      );
      // What `claude mcp add` records, so doctor can read it back.
      writeFileSync(
        join(baseEnv.HOME!, ".claude.json"),
        JSON.stringify({
          mcpServers: { claudemesh: { type: "stdio", command: bin, args: ["mcp"], env: bob } },
        }),
      );
      const doctor = await run(
        ["doctor", "--json"],
        { ...bob, CLAUDEMESH_CLAUDE_BIN: claude },
        { timeoutMs: 30_000 },
      );
      const report = JSON.parse(doctor.stdout) as {
        ok: boolean;
        checks: { id: string; ok: boolean; detail: string }[];
      };
      expect(report.checks.filter((c) => !c.ok)).toEqual([]);
      expect(doctor.code).toBe(0);
    } finally {
      broker.child.kill("SIGTERM");
    }

    const demo = await run(["demo"], { CLAUDEMESH_CONFIG_DIR: join(scratch, "demo") }, { timeoutMs: 60_000 });
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).toContain("ciphertext");
  }, 120_000);
});
