// transcript watcher — finds this session's Claude Code transcript and reports status changes from appended bytes only.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TRANSCRIPT_TAIL_BYTES, TranscriptWatcher } from "../../src/mcp/transcript/watcher.js";
import {
  claudeConfigDir,
  locateTranscript,
  newestTranscript,
  sanitizeProjectPath,
} from "../../src/mcp/transcript/path.js";

const NOW = Date.parse("2025-06-01T12:00:00.000Z");
const at = (offsetMs: number): string => new Date(NOW + offsetMs).toISOString();
const prompt = (offsetMs: number): string =>
  JSON.stringify({ type: "user", timestamp: at(offsetMs), message: { role: "user", content: "go" } }) + "\n";
const endTurn = (offsetMs: number): string =>
  JSON.stringify({
    type: "assistant",
    timestamp: at(offsetMs),
    message: { role: "assistant", stop_reason: "end_turn", content: [{ type: "text", text: "done ✓" }] },
  }) + "\n";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cm-transcript-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("transcript path - Claude Code conventions", () => {
  it("replaces every non-alphanumeric character with a dash", () => {
    expect(sanitizeProjectPath("/home/me/my.app_v2")).toBe("-home-me-my-app-v2");
  });

  it("cuts names over 200 chars and appends Claude Code's base-36 hash", () => {
    const long = "/" + "a".repeat(250);
    const name = sanitizeProjectPath(long);
    expect(name.startsWith("-" + "a".repeat(199) + "-")).toBe(true);
    // Value computed with Claude Code's own hash ((h<<5)-h+c|0) on the same input.
    let h = 0;
    for (let i = 0; i < long.length; i++) h = ((h << 5) - h + long.charCodeAt(i)) | 0;
    expect(name).toBe(`${"-" + "a".repeat(199)}-${Math.abs(h).toString(36)}`);
  });

  it("uses CLAUDE_CONFIG_DIR, else ~/.claude", () => {
    expect(claudeConfigDir({ CLAUDE_CONFIG_DIR: "/x/cfg" }, "/home/me")).toBe("/x/cfg");
    expect(claudeConfigDir({}, "/home/me")).toBe("/home/me/.claude");
  });

  it("uses CLAUDE_PROJECT_DIR and CLAUDE_CODE_SESSION_ID when Claude Code provides them", () => {
    const loc = locateTranscript(
      { CLAUDE_PROJECT_DIR: "/w/app", CLAUDE_CODE_SESSION_ID: "abc-123" },
      "/elsewhere",
      "/home/me",
    );
    expect(loc).toEqual({
      projectDir: "/home/me/.claude/projects/-w-app",
      sessionFile: "/home/me/.claude/projects/-w-app/abc-123.jsonl",
    });
  });

  it("falls back to the cwd and ignores a session id that is not a plain file name", () => {
    const loc = locateTranscript({ CLAUDE_CODE_SESSION_ID: "../../etc/passwd" }, "/w/app", "/home/me");
    expect(loc).toEqual({ projectDir: "/home/me/.claude/projects/-w-app", sessionFile: undefined });
  });

  it("picks the newest transcript modified no earlier than the bound", async () => {
    const old = join(dir, "old.jsonl");
    const fresh = join(dir, "fresh.jsonl");
    writeFileSync(old, prompt(0));
    writeFileSync(fresh, prompt(0));
    writeFileSync(join(dir, "notes.txt"), "x");
    utimesSync(old, new Date(NOW - 60_000), new Date(NOW - 60_000));
    utimesSync(fresh, new Date(NOW), new Date(NOW));
    expect(await newestTranscript(dir, NOW - 120_000)).toBe(fresh);
    utimesSync(fresh, new Date(NOW - 90_000), new Date(NOW - 90_000));
    expect(await newestTranscript(dir, NOW - 30_000)).toBeNull();
    expect(await newestTranscript(join(dir, "missing"), 0)).toBeNull();
  });
});

describe("transcript watcher", () => {
  function watcher(file: string | undefined, clock: { now: number }) {
    const reports: string[] = [];
    const w = new TranscriptWatcher({
      location: { projectDir: dir, sessionFile: file },
      startedAtMs: NOW,
      freshMs: 30_000,
      now: () => clock.now,
      onStatus: (s) => reports.push(s),
    });
    return { w, reports };
  }

  it("reports working on a prompt, idle on end of turn, and only on change", async () => {
    const file = join(dir, "s1.jsonl");
    const clock = { now: NOW };
    const { w, reports } = watcher(file, clock);
    await w.tick(); // no file yet: nothing reported
    expect(reports).toEqual([]);
    writeFileSync(file, prompt(0));
    await w.tick();
    await w.tick();
    expect(reports).toEqual(["working"]);
    appendFileSync(file, endTurn(1_000));
    clock.now += 1_000;
    await w.tick();
    expect(reports).toEqual(["working", "idle"]);
    appendFileSync(file, prompt(2_000));
    clock.now += 1_000;
    await w.tick();
    expect(reports).toEqual(["working", "idle", "working"]);
  });

  it("flips a stale working reading to idle once the fresh window passes", async () => {
    const file = join(dir, "s2.jsonl");
    writeFileSync(file, prompt(0));
    const clock = { now: NOW };
    const { w, reports } = watcher(file, clock);
    await w.tick();
    clock.now = NOW + 30_001;
    await w.tick();
    expect(reports).toEqual(["working", "idle"]);
  });

  it("carries a line split across two writes and reads only appended bytes", async () => {
    const file = join(dir, "s3.jsonl");
    const line = Buffer.from(endTurn(0));
    // Cut inside the 3-byte UTF-8 encoding of "✓": the line must still be reassembled and parsed.
    const cut = line.indexOf(Buffer.from("✓")) + 1;
    writeFileSync(file, Buffer.concat([Buffer.from(prompt(0)), line.subarray(0, cut)]));
    const clock = { now: NOW };
    const { w, reports } = watcher(file, clock);
    await w.tick();
    expect(reports).toEqual(["working"]);
    appendFileSync(file, line.subarray(cut));
    await w.tick();
    expect(reports).toEqual(["working", "idle"]);
  });

  it("reads only the tail of a large transcript and ignores the cut first line", async () => {
    const file = join(dir, "s4.jsonl");
    const filler = JSON.stringify({ type: "summary", summary: "x".repeat(1000) }) + "\n";
    writeFileSync(file, prompt(0) + filler.repeat(Math.ceil((2 * TRANSCRIPT_TAIL_BYTES) / filler.length)));
    const clock = { now: NOW };
    const { w, reports } = watcher(file, clock);
    await w.tick();
    // The prompt is outside the tail window, so nothing classifies yet.
    expect(reports).toEqual([]);
    appendFileSync(file, endTurn(0));
    await w.tick();
    expect(reports).toEqual(["idle"]);
  });

  it("starts over when the transcript is truncated", async () => {
    const file = join(dir, "s5.jsonl");
    writeFileSync(file, endTurn(0) + endTurn(0));
    const clock = { now: NOW };
    const { w, reports } = watcher(file, clock);
    await w.tick();
    truncateSync(file, 0);
    appendFileSync(file, prompt(0));
    await w.tick();
    expect(reports).toEqual(["idle", "working"]);
  });

  it("without a session id follows the newest transcript in the project dir", async () => {
    mkdirSync(dir, { recursive: true });
    const a = join(dir, "a.jsonl");
    const b = join(dir, "b.jsonl");
    writeFileSync(a, endTurn(0));
    utimesSync(a, new Date(NOW), new Date(NOW));
    const clock = { now: NOW };
    const { w, reports } = watcher(undefined, clock);
    await w.tick();
    writeFileSync(b, prompt(0));
    utimesSync(b, new Date(NOW + 5_000), new Date(NOW + 5_000));
    await w.tick();
    expect(reports).toEqual(["idle", "working"]);
  });
});
