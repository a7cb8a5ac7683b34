// claudemesh hook: the tiny hook asks its session's MCP server over the local socket and prints what it answers (SPEC §5.2).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  HookServer,
  parseHookRequest,
  type HookEvent,
  type HookInput,
} from "../../src/delivery/hook-server.js";
import { parentChain, runHook, type HookReply } from "../../src/hooks/entry.js";
import {
  hookPointerPath,
  hookSocketDir,
  hookSocketPath,
  MAX_SOCKET_PATH_BYTES,
  readHookPointer,
} from "../../src/hooks/socket-path.js";

let dir: string;
let server: HookServer | null = null;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cm-hook-"));
});
afterEach(async () => {
  await server?.close();
  server = null;
  rmSync(dir, { recursive: true, force: true });
});

const CLAUDE_PID = 424242;

function io(stdin = "{}") {
  const out = { stdout: "", stderr: "" };
  return {
    out,
    io: {
      stdin: async () => stdin,
      stdout: (t: string) => void (out.stdout += t),
      stderr: (t: string) => void (out.stderr += t),
    },
  };
}

async function serve(
  answer: (event: HookEvent, input: HookInput, waitMs: number) => Promise<HookReply> | HookReply,
) {
  const seen: Array<{ event: HookEvent; input: HookInput; waitMs: number }> = [];
  server = new HookServer(hookSocketPath(dir, CLAUDE_PID), {
    handle: async (event, input, waitMs) => {
      seen.push({ event, input, waitMs });
      return answer(event, input, waitMs);
    },
  });
  expect(await server.start()).toBe(true);
  return seen;
}

describe("claudemesh hook", () => {
  it("forwards the event and Claude Code's input to the session's MCP server and prints its answer", async () => {
    const seen = await serve(() => ({ stdout: '{"hookSpecificOutput":{}}' }));
    const { out, io: hookIo } = io(
      JSON.stringify({ session_id: "s1", transcript_path: "/t.jsonl", prompt: "x" }),
    );
    const code = await runHook("prompt", { CLAUDEMESH_CONFIG_DIR: dir }, hookIo, [111, CLAUDE_PID]);
    expect(code).toBe(0);
    expect(out.stdout).toBe('{"hookSpecificOutput":{}}');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.event).toBe("UserPromptSubmit");
    expect(seen[0]?.input).toEqual({ session_id: "s1", transcript_path: "/t.jsonl" });
    expect(seen[0]!.waitMs).toBeLessThanOrEqual(1_000);
  });

  it("the socket is 0600 in a 0700 directory", async () => {
    await serve(() => ({}));
    expect(statSync(hookSocketPath(dir, CLAUDE_PID)).mode & 0o777).toBe(0o600);
    expect(statSync(hookSocketDir(dir)).mode & 0o777).toBe(0o700);
  });

  it("exit 2 and stderr pass through (the rewake hook wakes the session this way)", async () => {
    await serve((event) => (event === "Rewake" ? { stderr: "a message", exit: 2 } : {}));
    const { out, io: hookIo } = io();
    expect(await runHook("rewake", { CLAUDEMESH_CONFIG_DIR: dir }, hookIo, [CLAUDE_PID])).toBe(2);
    expect(out.stderr).toBe("a message");
  });

  it("older hook words map to their events (hook working → UserPromptSubmit, hook idle → Stop)", async () => {
    const seen = await serve(() => ({}));
    await runHook("working", { CLAUDEMESH_CONFIG_DIR: dir }, io().io, [CLAUDE_PID]);
    await runHook("idle", { CLAUDEMESH_CONFIG_DIR: dir }, io().io, [CLAUDE_PID]);
    expect(seen.map((s) => s.event)).toEqual(["UserPromptSubmit", "Stop"]);
  });

  it("with no MCP server in the session it exits 0 silently", async () => {
    const { out, io: hookIo } = io();
    expect(await runHook("stop", { CLAUDEMESH_CONFIG_DIR: dir }, hookIo, [CLAUDE_PID])).toBe(0);
    expect(out).toEqual({ stdout: "", stderr: "" });
  });

  it("a server that does not answer in time costs at most the budget, then exit 0", async () => {
    await serve(() => new Promise(() => undefined));
    const started = Date.now();
    const { out, io: hookIo } = io();
    expect(await runHook("tool", { CLAUDEMESH_CONFIG_DIR: dir }, hookIo, [CLAUDE_PID])).toBe(0);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(out.stdout).toBe("");
  });

  it("an unknown event word is a usage error (exit 2)", async () => {
    const { out, io: hookIo } = io();
    expect(await runHook("bogus", { CLAUDEMESH_CONFIG_DIR: dir }, hookIo, [CLAUDE_PID])).toBe(2);
    expect(out.stderr).toContain("expected one of");
  });

  it("unreadable stdin counts as no input", async () => {
    const seen = await serve(() => ({}));
    await runHook("session", { CLAUDEMESH_CONFIG_DIR: dir }, io("{not json").io, [CLAUDE_PID]);
    expect(seen[0]?.input).toEqual({});
  });

  it("finds a server whose config dir only the server knows, through its pointer (hooks run with Claude Code's env)", async () => {
    const pid = 3_000_000 + Math.floor(Math.random() * 1_000_000);
    const pointer = hookPointerPath(pid);
    server = new HookServer(
      hookSocketPath(dir, pid),
      { handle: async () => ({ stdout: "via pointer" }) },
      () => undefined,
      pointer,
    );
    expect(await server.start()).toBe(true);
    const { out, io: hookIo } = io();
    expect(await runHook("prompt", { CLAUDEMESH_CONFIG_DIR: join(dir, "elsewhere") }, hookIo, [pid])).toBe(0);
    expect(out.stdout).toBe("via pointer");
    await server.close();
    server = null;
    expect(readHookPointer(pid)).toBeUndefined();
  });

  it("a pointer in a directory others can write is not trusted", () => {
    const base = join(dir, "runbase");
    mkdirSync(join(base, "sessions"), { recursive: true, mode: 0o700 });
    chmodSync(base, 0o700);
    writeFileSync(hookPointerPath(7, base), "/tmp/x.sock");
    expect(readHookPointer(7, base)).toBe("/tmp/x.sock");
    chmodSync(join(base, "sessions"), 0o777);
    expect(readHookPointer(7, base)).toBeUndefined();
    chmodSync(join(base, "sessions"), 0o700);
    chmodSync(base, 0o757);
    expect(readHookPointer(7, base)).toBeUndefined();
    chmodSync(base, 0o700);
    writeFileSync(hookPointerPath(7, base), "relative.sock");
    expect(readHookPointer(7, base)).toBeUndefined();
  });

  it("finds its own parent chain through /proc", () => {
    const chain = parentChain(process.pid, 3);
    expect(chain[0]).toBe(process.pid);
    if (process.platform === "linux") expect(chain[1]).toBe(process.ppid);
  });

  it("a long config dir moves the socket to a short private path", () => {
    const long = join("/tmp", "x".repeat(120));
    const path = hookSocketPath(long, 4194304);
    expect(Buffer.byteLength(path)).toBeLessThanOrEqual(MAX_SOCKET_PATH_BYTES);
    expect(path).not.toContain(long);
    expect(hookSocketPath(long, 1)).toBe(hookSocketPath(long, 1));
    expect(hookSocketPath(`${long}y`, 1)).not.toBe(hookSocketPath(long, 1));
  });
});

describe("hook server - request validation", () => {
  it.each([
    ["not JSON", "{"],
    ["wrong version", JSON.stringify({ v: 2, event: "Stop" })],
    ["unknown event", JSON.stringify({ v: 1, event: "Explode" })],
    ["not an object", "42"],
  ])("refuses %s", (_what, line) => {
    expect(parseHookRequest(line)).toBeNull();
  });

  it("keeps only known fields of the right type and caps the wait", () => {
    const parsed = parseHookRequest(
      JSON.stringify({
        v: 1,
        event: "Stop",
        waitMs: 99_999_999,
        input: {
          stop_hook_active: true,
          session_id: 7,
          cwd: "/w",
          transcript_path: "x".repeat(5000),
          extra: 1,
        },
      }),
    );
    expect(parsed).toEqual({
      event: "Stop",
      input: { stop_hook_active: true, cwd: "/w" },
      waitMs: 3_600_000,
    });
  });

  it("a request line over the cap gets an empty answer, not a crash", async () => {
    await serve(() => ({ stdout: "never" }));
    const { connect } = await import("node:net");
    const reply = await new Promise<string>((resolve) => {
      const s = connect({ path: hookSocketPath(dir, CLAUDE_PID) });
      let got = "";
      s.on("data", (d) => (got += d.toString()));
      s.on("close", () => resolve(got));
      s.on("connect", () => s.write("x".repeat(300 * 1024)));
    });
    expect(reply).toBe("{}\n");
  });
});
