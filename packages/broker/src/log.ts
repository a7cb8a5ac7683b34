// JSON-line logger for the broker: one object per line on stderr, with a guard that drops secret-looking fields.
import type { Clock, Logger } from "./context.js";
import { stderrLineSink } from "./log-sink.js";

export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/**
 * Field names that may carry plaintext, ciphertext, keys or credentials (SPEC §4: no log line ever
 * holds them). Matching fields are dropped wherever they appear, however deep, and their names are
 * listed under `redacted` so the omission is visible. `pubkey` is public and deliberately allowed.
 */
const FORBIDDEN_FIELD =
  /ciphertext|plaintext|nonce|secret|token|signature|password|passwd|authorization|cookie|private|seed|^body$|^message_?body$/i;

export interface BrokerLogger extends Logger {
  debug(event: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line (e.g. a connection id). */
  child(fields: Record<string, unknown>): BrokerLogger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; default stderr through an asynchronous, bounded sink (log-sink.ts). */
  write?: (line: string) => void;
  clock?: Clock;
}

const MAX_DEPTH = 4;
const MAX_STRING = 2_000;

/** Copies `value` into something JSON-safe, dropping forbidden keys (collected into `redacted`). */
function sanitize(value: unknown, depth: number, redacted: Set<string>): unknown {
  if (value === null || typeof value === "number" || typeof value === "boolean") return value;
  if (typeof value === "string") return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) {
    // Only name/message/code: stacks can be long, and an error's extra properties are not vetted.
    const code = (value as { code?: unknown }).code;
    return {
      name: value.name,
      message: sanitize(value.message, depth, redacted),
      ...(code !== undefined ? { code: String(code) } : {}),
    };
  }
  if (depth >= MAX_DEPTH) return "[depth]";
  if (Array.isArray(value)) return value.slice(0, 50).map((item) => sanitize(item, depth + 1, redacted));
  if (typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      if (FORBIDDEN_FIELD.test(key)) {
        redacted.add(key);
        continue;
      }
      if (inner !== undefined) out[key] = sanitize(inner, depth + 1, redacted);
    }
    return out;
  }
  return undefined; // functions, symbols, undefined: not loggable
}

/** Builds one log line; exported for tests of the guard. */
export function formatLogLine(
  ts: number,
  level: LogLevel,
  event: string,
  fields: Record<string, unknown>,
): string {
  const redacted = new Set<string>();
  const clean = sanitize(fields, 0, redacted) as Record<string, unknown>;
  // ts/level/event come first and cannot be overridden by fields.
  delete clean.ts;
  delete clean.level;
  delete clean.event;
  const line: Record<string, unknown> = { ts: new Date(ts).toISOString(), level, event, ...clean };
  if (redacted.size > 0) line.redacted = [...redacted].sort();
  return JSON.stringify(line);
}

/** Creates a logger writing JSON lines at or above `level`. */
export function createLogger(options: LoggerOptions = {}, base: Record<string, unknown> = {}): BrokerLogger {
  const min = RANK[options.level ?? "info"];
  const write = options.write ?? stderrLineSink();
  const clock = options.clock ?? { now: () => Date.now() };
  const emit = (
    level: Exclude<LogLevel, "silent">,
    event: string,
    fields?: Record<string, unknown>,
  ): void => {
    if (RANK[level] < min) return;
    try {
      write(formatLogLine(clock.now(), level, event, { ...base, ...fields }));
    } catch {
      // A logger must never take the broker down (e.g. EPIPE on a closed stderr).
    }
  };
  return {
    debug: (event, fields) => emit("debug", event, fields),
    info: (event, fields) => emit("info", event, fields),
    warn: (event, fields) => emit("warn", event, fields),
    error: (event, fields) => emit("error", event, fields),
    child: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

/** True when `value` names a log level. */
export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}
