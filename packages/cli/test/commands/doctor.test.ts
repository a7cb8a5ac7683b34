// `claudemesh doctor`: every check ok on a good set-up (exit 0), and each problem reported with its fix (exit 1), as text and --json.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { hookSocketPath } from "../../src/hooks/socket-path.js";
import type { RunningBroker } from "@claudemesh/broker";
import { runChecks, type DoctorCheck } from "../../src/commands/doctor/index.js";
import { configPaths } from "../../src/config/index.js";
import { tempDirs } from "../helpers/tmp.js";
import { cli, testBroker } from "../helpers/cli.js";
import { fakeClaude } from "../helpers/fake-claude.js";

const dirs = tempDirs();
let broker: RunningBroker;
let env: Record<string, string>;

interface Report {
  ok: boolean;
  checks: { id: string; title: string; ok: boolean; detail: string; fix?: string }[];
}

async function doctor(e: Record<string, string>): Promise<{ code: number; report: Report }> {
  const res = await cli(["doctor", "--json"], e);
  return { code: res.code, report: JSON.parse(res.stdout) as Report };
}
const check = (report: Report, id: string) => report.checks.find((c) => c.id === id)!;

beforeAll(async () => {
  const root = dirs.make("cm-doctor-");
  broker = await testBroker(root);
  env = {
    HOME: root,
    PATH: "/usr/bin:/bin",
    CLAUDEMESH_CONFIG_DIR: join(root, "cfg"),
    ...fakeClaude(root).env,
  };
  expect((await cli(["mesh", "create", "doc-mesh", "--broker", broker.url], env)).code).toBe(0);
  expect((await cli(["install"], env)).code).toBe(0);
}, 60_000);
afterAll(async () => {
  await broker?.close();
  dirs.cleanup();
});

describe("doctor", () => {
  it("doctor - a complete set-up: every check ok, exit 0, stable --json", async () => {
    const { code, report } = await doctor(env);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(code).toBe(0);
    expect(report.checks.map((c) => c.id)).toEqual([
      "config-files",
      "broker",
      "claude-registration",
      "claude-hooks",
      "delivery-route",
      "mcp-revision",
    ]);
    expect(check(report, "delivery-route").detail).toMatch(/^route: Claude Code's session inbox socket/);
    expect(check(report, "mcp-revision").detail).toMatch(/negotiated 20\d\d-\d\d-\d\d/);
    const text = await cli(["doctor"], env);
    expect(text.stdout).toContain("everything looks right");
  }, 30_000);

  it("doctor - Claude Code refusing cross-session messages: problem naming the setting; hold is reported, not a problem", async () => {
    const settings = join(env.HOME as string, ".claude", "settings.json");
    const saved = readFileSync(settings, "utf8");
    try {
      writeFileSync(settings, JSON.stringify({ ...JSON.parse(saved), crossSessionInbound: "refuse" }));
      const refused = await doctor(env);
      expect(refused.code).toBe(1);
      expect(check(refused.report, "delivery-route")).toMatchObject({
        ok: false,
        fix: `set "crossSessionInbound": "accept" in ${settings}`,
      });
      writeFileSync(settings, JSON.stringify({ ...JSON.parse(saved), crossSessionInbound: "hold" }));
      const held = await doctor(env);
      expect(check(held.report, "delivery-route").ok).toBe(true);
      expect(check(held.report, "delivery-route").detail).toContain("wait for your approval");
    } finally {
      writeFileSync(settings, saved);
    }
  }, 30_000);

  it("doctor - a running Claude Code session here without a claudemesh server: problem, restart it; with one: ok", async () => {
    const project = dirs.make("cm-doctor-proj-");
    const sessions = join(env.HOME as string, ".claude", "sessions");
    mkdirSync(sessions, { recursive: true });
    // A sleeping child stands in for a live Claude Code (its pid is alive and used by nothing else).
    const stand = spawn("sleep", ["60"], { stdio: "ignore" });
    const pid = stand.pid as number;
    const entry = join(sessions, `${pid}.json`);
    writeFileSync(entry, JSON.stringify({ pid, cwd: project, sessionId: "s", status: "idle" }));
    try {
      const missing = await cli(["doctor", "--json"], env, { cwd: project });
      const report = JSON.parse(missing.stdout) as Report;
      expect(check(report, "delivery-route")).toMatchObject({
        ok: false,
        fix: "restart those Claude Code sessions",
      });
      expect(check(report, "delivery-route").detail).toContain(String(pid));
      const socket = hookSocketPath(configPaths(env).dir, pid);
      mkdirSync(dirname(socket), { recursive: true });
      writeFileSync(socket, "");
      const present = JSON.parse((await cli(["doctor", "--json"], env, { cwd: project })).stdout) as Report;
      expect(check(present, "delivery-route").ok).toBe(true);
      expect(check(present, "delivery-route").detail).toContain("have no inbox socket");
      rmSync(socket);
    } finally {
      stand.kill();
      rmSync(entry, { force: true });
    }
  }, 30_000);

  it("doctor - a key file readable by others: problem with the chmod that fixes it", async () => {
    const file = configPaths(env).configFile;
    chmodSync(file, 0o644);
    try {
      const { code, report } = await doctor(env);
      expect(code).toBe(1);
      expect(check(report, "config-files")).toMatchObject({ ok: false, fix: `chmod 600 ${file}` });
    } finally {
      chmodSync(file, 0o600);
    }
  }, 30_000);

  it("doctor - the broker down: problem, fix says to start it", async () => {
    const file = configPaths(env).configFile;
    const saved = readFileSync(file, "utf8");
    writeFileSync(file, saved.replace(broker.url, "http://127.0.0.1:1"), { mode: 0o600 });
    try {
      const { code, report } = await doctor(env);
      expect(code).toBe(1);
      expect(check(report, "broker").ok).toBe(false);
      expect(check(report, "broker").detail).toContain("cannot reach http://127.0.0.1:1/health");
      expect(check(report, "broker").fix).toContain("claudemesh broker");
    } finally {
      writeFileSync(file, saved, { mode: 0o600 });
    }
  }, 30_000);

  it("doctor - another config dir than the registered one, and no registration at all", async () => {
    const other = { ...env, CLAUDEMESH_CONFIG_DIR: join(env.HOME!, "cfg-other") };
    const mismatch = check((await doctor(other)).report, "claude-registration");
    expect(mismatch.ok).toBe(false);
    expect(mismatch.fix).toContain(`CLAUDEMESH_CONFIG_DIR=${other.CLAUDEMESH_CONFIG_DIR} claudemesh install`);

    const fresh = dirs.make("cm-doctor-empty-");
    const bare = {
      HOME: fresh,
      PATH: "/usr/bin:/bin",
      CLAUDEMESH_CONFIG_DIR: join(fresh, "cfg"),
      ...fakeClaude(fresh).env,
    };
    const { code, report } = await doctor(bare);
    expect(code).toBe(1);
    expect(check(report, "config-files").fix).toContain("claudemesh join <link>");
    expect(check(report, "claude-registration")).toMatchObject({ ok: false, fix: "claudemesh install" });
    expect(check(report, "claude-hooks")).toMatchObject({
      ok: false,
      fix: "claudemesh install --scope user",
    });
    const noClaude = check(
      (await doctor({ ...bare, CLAUDEMESH_CLAUDE_BIN: "" })).report,
      "claude-registration",
    );
    expect(noClaude.fix).toContain("npm install -g @anthropic-ai/claude-code");
  }, 30_000);

  it("doctor - hooks of an older version are reported", async () => {
    const settings = join(env.HOME!, ".claude", "settings.json");
    const saved = readFileSync(settings, "utf8");
    writeFileSync(
      settings,
      JSON.stringify({
        hooks: { Stop: [{ hooks: [{ type: "command", command: "claudemesh hook idle" }] }] },
      }),
    );
    try {
      expect(check((await doctor(env)).report, "claude-hooks")).toMatchObject({
        ok: false,
        fix: "claudemesh install --scope user",
      });
    } finally {
      writeFileSync(settings, saved);
    }
  }, 30_000);

  it("doctor - a check that throws is a problem, not a crash", async () => {
    const boom: DoctorCheck = { id: "boom", title: "boom", run: () => Promise.reject(new Error("kaput")) };
    const [report] = await runChecks([boom], { env: {}, cwd: "/", timeoutMs: 100 });
    expect(report).toMatchObject({ id: "boom", ok: false, detail: "the check failed: kaput" });
  });
});
