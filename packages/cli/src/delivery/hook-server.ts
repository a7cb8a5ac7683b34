// The MCP server's end of the hook socket (SPEC §5): one 0600 Unix socket per session that its hooks ask for status changes and pending messages.
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
import { dirname } from "node:path";
import type { HookReply } from "../hooks/entry.js";

/** Claude Code's hook input fields claudemesh reads; every other field is ignored. */
export interface HookInput {
  session_id?: string;
  transcript_path?: string;
  cwd?: string;
  stop_hook_active?: boolean;
  source?: string;
}

/** The events a hook reports ("Rewake" is the background Stop hook that waits for a message). */
export type HookEvent = "SessionStart" | "UserPromptSubmit" | "PostToolUse" | "Stop" | "Rewake";
const EVENTS: readonly HookEvent[] = ["SessionStart", "UserPromptSubmit", "PostToolUse", "Stop", "Rewake"];

export interface HookHandler {
  /** Answers one hook. `waitMs` is how long the hook waits; `signal` aborts when it gave up. */
  handle(event: HookEvent, input: HookInput, waitMs: number, signal: AbortSignal): Promise<HookReply>;
}

/** A request line larger than this is refused (hook inputs are a few hundred bytes). */
export const MAX_HOOK_REQUEST_BYTES = 256 * 1024;
/** Hooks served at once; more wait for the kernel's accept queue. */
export const MAX_HOOK_CONNECTIONS = 32;
/** The longest a hook may ask to wait (the rewake hook). */
const MAX_WAIT_MS = 3_600_000;

function str(value: unknown, max: number): string | undefined {
  return typeof value === "string" && value.length <= max ? value : undefined;
}

/** The request line, checked field by field; null when it is not a hook request. */
export function parseHookRequest(
  line: string,
): { event: HookEvent; input: HookInput; waitMs: number } | null {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof raw !== "object" || raw === null) return null;
  const r = raw as Record<string, unknown>;
  if (r.v !== 1 || !EVENTS.includes(r.event as HookEvent)) return null;
  const waitMs = typeof r.waitMs === "number" && r.waitMs > 0 ? Math.min(r.waitMs, MAX_WAIT_MS) : 1_000;
  const given = (typeof r.input === "object" && r.input !== null ? r.input : {}) as Record<string, unknown>;
  const input: HookInput = {};
  const sessionId = str(given.session_id, 256);
  if (sessionId !== undefined) input.session_id = sessionId;
  const transcript = str(given.transcript_path, 4096);
  if (transcript !== undefined) input.transcript_path = transcript;
  const cwd = str(given.cwd, 4096);
  if (cwd !== undefined) input.cwd = cwd;
  const source = str(given.source, 64);
  if (source !== undefined) input.source = source;
  if (given.stop_hook_active === true) input.stop_hook_active = true;
  return { event: r.event as HookEvent, input, waitMs };
}

/** True when something answers on `path` (a live server of another process), false for a stale file. */
function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect({ path });
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

export class HookServer {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly path: string,
    private readonly handler: HookHandler,
    private readonly onError: (message: string) => void = () => undefined,
    /** A file to leave the socket's path in, for hooks that do not know this server's config dir. */
    private readonly pointer?: string,
  ) {}

  /** Starts listening; false (with a reason to onError) when another live server holds the path. */
  async start(): Promise<boolean> {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    chmodSync(dirname(this.path), 0o700);
    if (await isLive(this.path)) {
      this.onError(`hook socket ${this.path} is held by another live process; hooks go there`);
      return false;
    }
    rmSync(this.path, { force: true });
    const server = createServer((socket) => this.serve(socket));
    server.maxConnections = MAX_HOOK_CONNECTIONS;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.path, () => {
        server.off("error", reject);
        resolve();
      });
    });
    chmodSync(this.path, 0o600);
    server.on("error", (err) => this.onError(`hook socket: ${err.message}`));
    server.unref();
    this.server = server;
    if (this.pointer) this.writePointer(this.pointer);
    return true;
  }

  private writePointer(pointer: string): void {
    try {
      for (const dir of [dirname(dirname(pointer)), dirname(pointer)]) {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        chmodSync(dir, 0o700);
      }
      writeFileSync(pointer, this.path, { mode: 0o600 });
    } catch (err) {
      this.onError(`hook pointer ${pointer} not written: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(this.path, { force: true });
    if (this.pointer) {
      try {
        if (readFileSync(this.pointer, "utf8") === this.path) rmSync(this.pointer, { force: true });
      } catch {
        // already gone
      }
    }
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    const abort = new AbortController();
    let buffer = "";
    let handled = false;
    socket.setEncoding("utf8");
    socket.on("close", () => {
      this.sockets.delete(socket);
      abort.abort();
    });
    socket.on("error", () => socket.destroy());
    socket.on("data", (chunk: string) => {
      if (handled) return;
      buffer += chunk;
      if (buffer.length > MAX_HOOK_REQUEST_BYTES) {
        handled = true;
        socket.end(`${JSON.stringify({})}\n`);
        return;
      }
      const end = buffer.indexOf("\n");
      if (end === -1) return;
      handled = true;
      const request = parseHookRequest(buffer.slice(0, end));
      if (!request) {
        socket.end(`${JSON.stringify({})}\n`);
        return;
      }
      this.handler
        .handle(request.event, request.input, request.waitMs, abort.signal)
        .catch((err: unknown) => {
          this.onError(`hook ${request.event}: ${err instanceof Error ? err.message : String(err)}`);
          return {} as HookReply;
        })
        .then((reply) => {
          if (!socket.destroyed) socket.end(`${JSON.stringify(reply)}\n`);
        });
    });
  }
}
