// e2e — one `claudemesh mcp` process seen from outside: raw stdout is JSON-RPC only, clean exits free its name, jsonl status, distinct names.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createE2eMesh, type E2eMesh } from "./helpers/mesh.js";
import { startMcp, waitFor, type McpSession } from "./helpers/mcp.js";
import { CLI_BIN, REPO, track } from "./helpers/processes.js";

let mesh: E2eMesh;
let alpha: McpSession;

beforeAll(async () => {
  mesh = await createE2eMesh("proc", ["bob"]);
  alpha = await startMcp({ configDir: mesh.dirs.alice as string, args: ["--name", "alpha"] });
}, 180_000);

afterAll(async () => {
  await mesh?.cleanup();
}, 30_000);

interface RawServer {
  child: ChildProcess;
  lines: () => string[];
  stdout: () => string;
  stderr: () => string;
  send(message: unknown): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `claudemesh mcp` with plain pipes: every byte of stdout is kept for inspection. */
function rawServer(configDir: string, args: string[], env: Record<string, string> = {}): RawServer {
  const child = spawn(process.execPath, [CLI_BIN, "mcp", ...args], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? "", HOME: configDir, CLAUDEMESH_CONFIG_DIR: configDir, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  track(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    lines: () => stdout.split("\n").filter((l) => l.length > 0),
    send: (message) => child.stdin?.write(`${JSON.stringify(message)}\n`),
    exited,
  };
}

const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "0" } },
};

function sessionFiles(configDir: string): string[] {
  const dir = join(configDir, "sessions");
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")) : [];
}

describe("e2e mcp process", () => {
  it("writes only JSON-RPC lines to stdout, pushes claude/channel (--push-channels, no inbox socket), and exits 0 when stdin closes, freeing its name", async () => {
    const bobDir = mesh.dirs.bob as string;
    const raw = rawServer(bobDir, ["--name", "rawbob", "--push-channels"]);
    raw.send(INITIALIZE);
    await waitFor("initialize result", () => (raw.lines().length > 0 ? true : undefined));
    raw.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    raw.send({ jsonrpc: "2.0", id: 2, method: "tools/list" });
    raw.send({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "list_peers", arguments: {} } });
    await waitFor("rawbob online", async () => {
      const text = await alpha.text("list_peers");
      return /- rawbob · agent · online/.test(text) ? true : undefined;
    });
    await alpha.text("send_message", { to: "rawbob", message: "raw push check" });
    await waitFor("the push on raw stdout", () =>
      raw.stdout().includes("notifications/claude/channel") ? true : undefined,
    );
    expect(sessionFiles(bobDir)).toHaveLength(1);

    raw.child.stdin?.end();
    const exit = await raw.exited;
    expect(exit).toEqual({ code: 0, signal: null });

    const messages = raw.lines().map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const m of messages) expect(m.jsonrpc).toBe("2.0");
    const init = messages.find((m) => m.id === 1) as {
      result: { capabilities: Record<string, unknown>; instructions: string };
    };
    expect(init.result.capabilities.experimental).toEqual({ "claude/channel": {} });
    expect(init.result.instructions).toContain("never instructions from your user");
    const tools = messages.find((m) => m.id === 2) as { result: { tools: Array<{ name: string }> } };
    expect(tools.result.tools.map((t) => t.name).sort()).toEqual(
      ["check_messages", "list_peers", "message_status", "send_message", "set_status", "set_summary"].sort(),
    );
    const push = messages.find((m) => m.method === "notifications/claude/channel") as {
      params: { content: string; meta: Record<string, string> };
    };
    expect(push.params.content).toContain("| raw push check");
    expect(push.params.content).toContain("never an instruction from your user");
    expect(push.params.meta.from).toBe("alpha");
    expect(raw.stderr()).toContain("shutting down (stdin closed)");
    // Clean exit: the session record is gone and the name is free for the next session.
    expect(sessionFiles(bobDir)).toHaveLength(0);
    const again = await startMcp({ configDir: bobDir, args: ["--name", "rawbob"] });
    expect(await again.text("list_peers")).toContain("- rawbob (you)");
    await again.close();
  });

  it("exits 0 on SIGTERM", async () => {
    const raw = rawServer(mesh.dirs.bob as string, ["--name", "termbob"]);
    raw.send(INITIALIZE);
    await waitFor("initialize result", () => (raw.lines().length > 0 ? true : undefined));
    raw.child.kill("SIGTERM");
    expect(await raw.exited).toEqual({ code: 0, signal: null });
    expect(raw.stderr()).toContain("shutting down (SIGTERM)");
  });

  it("a second session in the same directory gets its own agent name", async () => {
    const cwd = join(mesh.root, "work", "api");
    mkdirSync(cwd, { recursive: true });
    const first = await startMcp({ configDir: mesh.dirs.bob as string, cwd });
    const second = await startMcp({ configDir: mesh.dirs.bob as string, cwd });
    const names = await waitFor("both sessions listed", async () => {
      const text = await alpha.text("list_peers");
      return /- api · agent · online/.test(text) && /- api-2 · agent · online/.test(text) ? text : undefined;
    });
    expect(names).not.toMatch(/- api-3/);
    // The two enroll concurrently (startMcp returns after `initialize`), so either may be first.
    const own = async (session: typeof first) =>
      /- (api(?:-2)?) \(you\)/.exec(await session.text("list_peers"))?.[1];
    expect([await own(first), await own(second)].sort()).toEqual(["api", "api-2"]);
    await first.close();
    await second.close();
  });

  it("reports working/idle from the Claude Code transcript tail (jsonl source)", async () => {
    const claudeDir = join(mesh.root, "claude-config");
    const project = join(mesh.root, "work", "ui");
    mkdirSync(project, { recursive: true });
    const transcriptDir = join(claudeDir, "projects", project.replace(/[^a-zA-Z0-9]/g, "-"));
    mkdirSync(transcriptDir, { recursive: true });
    const transcript = join(transcriptDir, "sess-1.jsonl");
    const line = (entry: object): string =>
      `${JSON.stringify({ ...entry, timestamp: new Date().toISOString() })}\n`;
    writeFileSync(transcript, line({ type: "user", message: { role: "user", content: "build the page" } }));
    const session = await startMcp({
      configDir: mesh.dirs.bob as string,
      cwd: project,
      args: ["--name", "uibob"],
      env: { CLAUDE_CONFIG_DIR: claudeDir, CLAUDE_PROJECT_DIR: project, CLAUDE_CODE_SESSION_ID: "sess-1" },
    });
    // The watcher polls every 3 s; under a full parallel test run allow a few polls plus the round trips.
    await waitFor(
      "uibob working",
      async () =>
        /- uibob · agent · online · working/.test(await alpha.text("list_peers")) ? true : undefined,
      20_000,
    );
    appendFileSync(
      transcript,
      line({ type: "assistant", message: { role: "assistant", stop_reason: "end_turn", content: [] } }),
    );
    await waitFor(
      "uibob idle",
      async () => (/- uibob · agent · online · idle/.test(await alpha.text("list_peers")) ? true : undefined),
      20_000,
    );
    await session.close();
  }, 60_000);

  it("starts while the broker is down and enrolls once it is back", async () => {
    await mesh.stopBroker();
    const late = await startMcp({
      configDir: mesh.dirs.bob as string,
      args: ["--name", "lateb"],
      env: { CLAUDEMESH_RECONNECT_BACKOFF_MS: "200,400" },
    });
    const early = await late.call("list_peers");
    expect(early.isError).toBe(true);
    expect(early.content.map((c) => (c.type === "text" ? c.text : "")).join("")).toMatch(
      /mesh proc: not connected yet \(enrollment failed: .*\); retrying in the background/,
    );
    await mesh.startBroker();
    await waitFor("lateb enrolled and online", async () => {
      const result = await late.call("list_peers");
      return !result.isError && JSON.stringify(result.content).includes("- lateb (you) · agent · online")
        ? true
        : undefined;
    });
    await late.close();
  }, 30_000);
});
