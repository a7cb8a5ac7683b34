// stderr logging for the MCP server: stdout carries MCP frames only (SPEC §5), so every diagnostic goes here.
import { Writable } from "node:stream";

export interface McpLog {
  info(message: string): void;
  warn(message: string): void;
}

/**
 * One prefixed line per event on `stderr` (Claude Code keeps MCP server stderr in its logs).
 * Callers pass messages that name meshes, names and codes — never keys, plaintext or ciphertext.
 */
export function createMcpLog(stderr: Writable): McpLog {
  const write = (level: string, message: string): void => {
    stderr.write(`claudemesh mcp ${level}: ${message.replace(/\s*\n\s*/g, " ")}\n`);
  };
  return { info: (m) => write("info", m), warn: (m) => write("warn", m) };
}

/**
 * Sends everything `console.*` would print to stdout to `stderr` instead, for the life of the
 * server: one stray `console.log` in any library would corrupt the JSON-RPC stream. Returns the
 * function that restores the originals.
 */
export function guardConsole(stderr: Writable): () => void {
  const original = { log: console.log, info: console.info, debug: console.debug, warn: console.warn };
  const toStderr = (...args: unknown[]): void => {
    stderr.write(`${args.map((a) => (typeof a === "string" ? a : safeInspect(a))).join(" ")}\n`);
  };
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  console.warn = toStderr;
  return () => Object.assign(console, original);
}

function safeInspect(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/**
 * When the server speaks on the real `process.stdout`, takes it over: the returned stream writes
 * MCP frames through the original `write`, while `process.stdout.write` itself is redirected to
 * stderr so that any other code writing to stdout directly cannot corrupt the JSON-RPC stream.
 * For any other stream (tests) the stream is returned as is. `restore` undoes the takeover.
 */
export function guardStdout(stdout: Writable, stderr: Writable): { frames: Writable; restore: () => void } {
  if (stdout !== process.stdout) return { frames: stdout, restore: () => undefined };
  const original = process.stdout.write;
  const realWrite = original.bind(process.stdout) as (
    chunk: string | Uint8Array,
    cb: (err?: Error | null) => void,
  ) => boolean;
  const frames = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      realWrite(chunk, (err) => callback(err ?? null));
    },
  });
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const callback = rest.find((r): r is () => void => typeof r === "function");
    return stderr.write(chunk, callback);
  }) as typeof process.stdout.write;
  return {
    frames,
    restore: () => {
      process.stdout.write = original;
    },
  };
}
