// Infers working/idle from Claude Code transcript entries: the `jsonl` status source of SPEC §3, read on the peer's own machine.
import { STATUS_FRESH_MS } from "@claudemesh/protocol";

/** What one transcript line says about the session, or null when it says nothing (metadata lines). */
export type EntrySignal = "working" | "idle";

export interface TranscriptReading {
  signal: EntrySignal;
  /** When the entry was written (its `timestamp`, else the file's mtime). */
  atMs: number;
}

/** Assistant stop reasons that end the turn: the model is waiting for the user again. */
const TURN_ENDING_STOPS: ReadonlySet<string> = new Set([
  "end_turn",
  "stop_sequence",
  "max_tokens",
  "refusal",
]);
/** System entries Claude Code writes when a turn is over (`turn_duration`, the Stop hook summary). */
const TURN_ENDING_SYSTEM: ReadonlySet<string> = new Set(["turn_duration", "stop_hook_summary"]);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The text parts of a user message's content (string or content-block array). */
function userTexts(content: unknown): string[] {
  if (typeof content === "string") return [content];
  if (!Array.isArray(content)) return [];
  return content
    .filter(isObject)
    .flatMap((block) => (block.type === "text" && typeof block.text === "string" ? [block.text] : []));
}

/**
 * Classifies one parsed transcript entry:
 * - a user prompt or a tool result → working (the model is about to answer or continue);
 * - an assistant message that stopped for `tool_use`, or is still streaming (no stop reason yet) → working;
 * - an assistant message with a turn-ending stop reason, an interrupted turn, or the
 *   end-of-turn system entries → idle;
 * - sub-agent (sidechain) activity → working, whatever it says, because the main turn is still open;
 * - everything else (summaries, snapshots, meta lines, unknown types) → null.
 */
export function classifyEntry(entry: unknown): EntrySignal | null {
  if (!isObject(entry)) return null;
  const type = entry.type;
  if (type !== "user" && type !== "assistant" && type !== "system") return null;
  if (entry.isSidechain === true && type !== "system") return "working";
  if (type === "system") {
    return typeof entry.subtype === "string" && TURN_ENDING_SYSTEM.has(entry.subtype) ? "idle" : null;
  }
  const message = entry.message;
  if (!isObject(message)) return null;
  if (type === "assistant") {
    const stop = message.stop_reason;
    if (typeof stop === "string" && TURN_ENDING_STOPS.has(stop)) return "idle";
    return "working";
  }
  // type === "user"
  if (entry.isMeta === true) return null;
  if (userTexts(message.content).some((text) => text.startsWith("[Request interrupted by user")))
    return "idle";
  return "working";
}

/** Parses an entry's ISO `timestamp`, or returns the fallback. */
export function entryTime(entry: unknown, fallbackMs: number): number {
  if (isObject(entry) && typeof entry.timestamp === "string") {
    const parsed = Date.parse(entry.timestamp);
    if (Number.isFinite(parsed)) return parsed;
  }
  return fallbackMs;
}

/**
 * The latest meaningful reading in a block of complete jsonl lines, or null when none of them
 * classify. Lines that are not JSON (a torn write, a foreign file) are skipped, never thrown on.
 */
export function lastReading(lines: readonly string[], fallbackMs: number): TranscriptReading | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]?.trim();
    if (!line) continue;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    const signal = classifyEntry(entry);
    if (signal) return { signal, atMs: entryTime(entry, fallbackMs) };
  }
  return null;
}

/**
 * The status to report: `working` only while the latest reading says so and is younger than the
 * fresh window (a session that wrote nothing for that long is not visibly working, and the
 * broker's working TTL would flip it anyway); otherwise `idle`. Null when nothing was read.
 */
export function inferStatus(
  reading: TranscriptReading | null,
  nowMs: number,
  freshMs: number = STATUS_FRESH_MS,
): EntrySignal | null {
  if (!reading) return null;
  if (reading.signal === "working" && nowMs - reading.atMs <= freshMs) return "working";
  return "idle";
}
