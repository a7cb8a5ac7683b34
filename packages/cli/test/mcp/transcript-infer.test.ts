// transcript inference — which Claude Code jsonl entries mean working vs idle (SPEC §3 jsonl source).
import { describe, expect, it } from "vitest";
import { classifyEntry, entryTime, inferStatus, lastReading } from "../../src/mcp/transcript/infer.js";

const T = "2025-06-01T12:00:00.000Z";
const T_MS = Date.parse(T);

/** Sample lines in the shape Claude Code writes them. */
const lines = {
  prompt: { type: "user", timestamp: T, message: { role: "user", content: "fix the failing test" } },
  promptBlocks: {
    type: "user",
    timestamp: T,
    message: { role: "user", content: [{ type: "text", text: "and then run lint" }] },
  },
  toolResult: {
    type: "user",
    timestamp: T,
    message: { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "ok" }] },
  },
  toolUse: {
    type: "assistant",
    timestamp: T,
    message: {
      role: "assistant",
      stop_reason: "tool_use",
      content: [{ type: "tool_use", id: "t1", name: "Bash" }],
    },
  },
  streaming: {
    type: "assistant",
    timestamp: T,
    message: { role: "assistant", stop_reason: null, content: [{ type: "text", text: "Looking" }] },
  },
  endTurn: {
    type: "assistant",
    timestamp: T,
    message: { role: "assistant", stop_reason: "end_turn", content: [{ type: "text", text: "Done." }] },
  },
  interrupted: {
    type: "user",
    timestamp: T,
    message: { role: "user", content: [{ type: "text", text: "[Request interrupted by user]" }] },
  },
  turnDuration: { type: "system", subtype: "turn_duration", durationMs: 1200, timestamp: T },
  stopHook: { type: "system", subtype: "stop_hook_summary", timestamp: T },
  otherSystem: { type: "system", subtype: "informational", timestamp: T },
  meta: { type: "user", isMeta: true, timestamp: T, message: { role: "user", content: "<caveat>" } },
  summary: { type: "summary", summary: "Fixing tests", leafUuid: "x" },
  snapshot: { type: "file-history-snapshot", messageId: "m" },
  sidechainEnd: {
    type: "assistant",
    isSidechain: true,
    timestamp: T,
    message: { role: "assistant", stop_reason: "end_turn", content: [] },
  },
};

describe("transcript - classifyEntry", () => {
  it.each([
    ["a user prompt (string content)", lines.prompt, "working"],
    ["a user prompt (text blocks)", lines.promptBlocks, "working"],
    ["a tool result", lines.toolResult, "working"],
    ["an assistant tool_use stop", lines.toolUse, "working"],
    ["a streaming assistant entry without stop reason", lines.streaming, "working"],
    ["an assistant end_turn", lines.endTurn, "idle"],
    ["an interrupted request", lines.interrupted, "idle"],
    ["the turn_duration system entry", lines.turnDuration, "idle"],
    ["the stop hook summary", lines.stopHook, "idle"],
    ["a sidechain (sub-agent) entry, even when it ends its own turn", lines.sidechainEnd, "working"],
  ] as const)("%s → %s", (_name, entry, expected) => {
    expect(classifyEntry(entry)).toBe(expected);
  });

  it.each([
    ["other system entries", lines.otherSystem],
    ["meta user lines", lines.meta],
    ["summaries", lines.summary],
    ["file history snapshots", lines.snapshot],
    ["non-objects", "user"],
    ["null", null],
    ["arrays", [lines.prompt]],
    ["a user entry without a message", { type: "user" }],
  ])("ignores %s", (_name, entry) => {
    expect(classifyEntry(entry)).toBeNull();
  });
});

describe("transcript - lastReading", () => {
  it("takes the latest classifying line, skipping metadata after it", () => {
    const text = [lines.prompt, lines.endTurn, lines.summary, lines.snapshot].map((l) => JSON.stringify(l));
    expect(lastReading(text, 0)).toEqual({ signal: "idle", atMs: T_MS });
  });

  it("skips torn or non-JSON lines instead of throwing", () => {
    const text = [JSON.stringify(lines.toolUse), '{"type":"assistant","mess', "", "not json"];
    expect(lastReading(text, 0)).toEqual({ signal: "working", atMs: T_MS });
  });

  it("falls back to the given time when an entry has no timestamp", () => {
    const { timestamp: _drop, ...noTime } = lines.prompt;
    expect(lastReading([JSON.stringify(noTime)], 42)).toEqual({ signal: "working", atMs: 42 });
    expect(entryTime({ timestamp: "not a date" }, 7)).toBe(7);
  });

  it("returns null when nothing classifies", () => {
    expect(lastReading([JSON.stringify(lines.summary)], 0)).toBeNull();
  });
});

describe("transcript - inferStatus", () => {
  it("is working only while the working entry is inside the fresh window", () => {
    const reading = { signal: "working" as const, atMs: 1_000 };
    expect(inferStatus(reading, 1_000 + 30_000, 30_000)).toBe("working");
    expect(inferStatus(reading, 1_000 + 30_001, 30_000)).toBe("idle");
  });

  it("is idle after a turn-ending entry however fresh", () => {
    expect(inferStatus({ signal: "idle", atMs: 1_000 }, 1_000, 30_000)).toBe("idle");
  });

  it("reports nothing without a reading", () => {
    expect(inferStatus(null, 0)).toBeNull();
  });
});
