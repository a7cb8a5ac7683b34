// Drives the real Claude Code binary in tests: print mode over stream-json stdin/stdout, interactive mode under a private tmux server, plus its inbox socket, registry, transcript and debug log.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createConnection, createServer, type Server } from "node:net";
import { join } from "node:path";
import { CLAUDE_BIN, type ScratchHome } from "./scratch-home.js";

/** ~/.claude/sessions/<pid>.json as Claude Code 2.1.3xx writes it (fields tests use; others kept). */
export interface RegistryEntry {
  pid: number;
  sessionId: string;
  cwd: string;
  status?: "idle" | "busy" | "waiting";
  waitingFor?: string;
  messagingSocketPath?: string;
  kind?: string;
  entrypoint?: string;
  updatedAt?: number;
  statusUpdatedAt?: number;
  [key: string]: unknown;
}

/** One line of the session transcript (~/.claude/projects/<munged cwd>/<sessionId>.jsonl). */
export interface TranscriptEntry {
  type: string;
  uuid?: string;
  sessionId?: string;
  message?: { role: string; content: unknown };
  /** For a message that came in over the inbox socket: kind "peer", from, msg_id, verifiedPeerPid … */
  origin?: { kind: string; from?: string; msg_id?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface SessionOptions {
  home: ScratchHome;
  /** Base URL of the fake Messages API (FakeAnthropic.url). */
  apiUrl: string;
  /** Extra CLI arguments (e.g. ["--allowedTools", "Read"]). */
  args?: string[];
  /** Extra environment for the Claude Code process. */
  env?: Record<string, string>;
}

/** What both modes offer. */
export interface ClaudeSession {
  readonly mode: "print" | "interactive";
  /** --debug-file of this session (inside the scratch dir). */
  readonly debugFile: string;
  readDebugLog(): string;
  /** Resolves with the first debug-log line matching re (polling, bounded). */
  waitForDebugLine(re: RegExp, timeoutMs?: number): Promise<string>;
  /** The session's registry entry, once Claude Code has written it. */
  registry(timeoutMs?: number): Promise<RegistryEntry>;
  /** The claude process id (from the registry). */
  pid(timeoutMs?: number): Promise<number>;
  /** Path of the session inbox socket (from the "[uds-messaging] Listening: <path>" debug line). */
  messagingSocket(timeoutMs?: number): Promise<string>;
  /** Transcript path of the session's current sessionId (it may not exist yet). */
  transcriptPath(timeoutMs?: number): Promise<string>;
  /** Parsed transcript lines (empty when the file does not exist yet). */
  readTranscript(): Promise<TranscriptEntry[]>;
  /** Resolves when the registry reports the given status. */
  waitForStatus(status: "idle" | "busy" | "waiting", timeoutMs?: number): Promise<RegistryEntry>;
  /** Stops Claude Code (and, for interactive mode, the private tmux server). Idempotent. */
  stop(): Promise<void>;
}

export interface PrintSession extends ClaudeSession {
  readonly mode: "print";
  readonly child: ChildProcess;
  /** Every stream-json object Claude Code wrote to stdout so far (a live array). */
  readonly events: Record<string, unknown>[];
  /** Writes one user turn to stdin (`{"type":"user","message":{"role":"user","content":text}}`). */
  sendUserTurn(text: string): void;
  /** Resolves with the first stdout event (past or future) matching predicate. */
  waitForEvent(
    predicate: (event: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Collected stderr. */
  stderr(): string;
}

export interface InteractiveSession extends ClaudeSession {
  readonly mode: "interactive";
  /** The private tmux socket name (`tmux -L <name>`). */
  readonly tmuxName: string;
  /** Types text literally into the prompt and presses Enter. */
  submit(text: string): void;
  /** Sends tmux key names (e.g. "Escape", "C-c"). */
  sendKeys(...keys: string[]): void;
  /** The visible screen as text. */
  capturePane(): string;
  /** Resolves with the screen once it matches re. */
  waitForScreen(re: RegExp, timeoutMs?: number): Promise<string>;
}

const POLL_MS = 100;

/** Polls fn until it returns a value other than undefined; rejects with `what` after timeoutMs. */
export async function pollUntil<T>(
  fn: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function readIfExists(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Registry entries in a sessions dir (ignores the .key files and unparsable files). */
export function readRegistry(sessionsDir: string): RegistryEntry[] {
  if (!existsSync(sessionsDir)) return [];
  const entries: RegistryEntry[] = [];
  for (const name of readdirSync(sessionsDir)) {
    if (!/^\d+\.json$/.test(name)) continue;
    try {
      entries.push(JSON.parse(readFileSync(join(sessionsDir, name), "utf8")) as RegistryEntry);
    } catch {
      // being rewritten; the next poll reads it
    }
  }
  return entries;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function baseSession(
  mode: "print" | "interactive",
  opts: SessionOptions,
  debugFile: string,
  findPid: () => number | undefined,
): Omit<ClaudeSession, "stop"> {
  const debugLines = (): string[] => readIfExists(debugFile).split("\n");
  const registryNow = (): RegistryEntry | undefined => {
    const pid = findPid();
    const entries = readRegistry(opts.home.sessionsDir);
    return pid !== undefined
      ? entries.find((entry) => entry.pid === pid)
      : entries.length === 1
        ? entries[0]
        : undefined;
  };
  const registry = (timeoutMs = 20_000): Promise<RegistryEntry> =>
    pollUntil(registryNow, timeoutMs, `the session registry entry in ${opts.home.sessionsDir}`);
  const transcriptPath = async (timeoutMs = 20_000): Promise<string> => {
    const entry = await registry(timeoutMs);
    const projects = join(opts.home.claudeDir, "projects");
    const file = `${entry.sessionId}.jsonl`;
    if (existsSync(projects))
      for (const dir of readdirSync(projects))
        if (existsSync(join(projects, dir, file))) return join(projects, dir, file);
    return join(opts.home.transcriptsDir, file);
  };
  return {
    mode,
    debugFile,
    readDebugLog: () => readIfExists(debugFile),
    waitForDebugLine: (re, timeoutMs = 20_000) =>
      pollUntil(
        () => debugLines().find((line) => re.test(line)),
        timeoutMs,
        `a debug-log line matching ${re} in ${debugFile}`,
      ),
    registry,
    pid: async (timeoutMs = 20_000) => (await registry(timeoutMs)).pid,
    messagingSocket: async (timeoutMs = 20_000) => {
      const line = await pollUntil(
        () => debugLines().find((l) => /\[uds-messaging\] (Listening: |Skipped)/.test(l)),
        timeoutMs,
        `"[uds-messaging] Listening:" in ${debugFile}`,
      );
      const match = /\[uds-messaging\] Listening: (\S+)/.exec(line);
      if (match?.[1] === undefined) throw new Error(`Claude Code did not bind its inbox socket: ${line}`);
      return match[1];
    },
    transcriptPath,
    readTranscript: async () => {
      const text = readIfExists(await transcriptPath());
      const entries: TranscriptEntry[] = [];
      for (const line of text.split("\n")) {
        if (line.trim() === "") continue;
        try {
          entries.push(JSON.parse(line) as TranscriptEntry);
        } catch {
          // a line being written
        }
      }
      return entries;
    },
    waitForStatus: (status, timeoutMs = 20_000) =>
      pollUntil(
        () => {
          const entry = registryNow();
          return entry?.status === status ? entry : undefined;
        },
        timeoutMs,
        `registry status "${status}"`,
      ),
  };
}

/**
 * Starts `claude -p --input-format stream-json --output-format stream-json --verbose` in the
 * scratch project dir. Stdin stays open, so the session lives until stop() and answers every
 * sendUserTurn() — and lines written to its inbox socket — with a new turn.
 */
export async function startPrintSession(opts: SessionOptions): Promise<PrintSession> {
  const debugFile = join(opts.home.root, `debug-print-${randomUUID().slice(0, 8)}.log`);
  const child = spawn(
    CLAUDE_BIN,
    [
      "-p",
      "--input-format",
      "stream-json",
      "--output-format",
      "stream-json",
      "--verbose",
      "--debug-file",
      debugFile,
      ...(opts.args ?? []),
    ],
    {
      cwd: opts.home.projectDir,
      env: opts.home.env({ ANTHROPIC_BASE_URL: opts.apiUrl, ...opts.env }),
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  const events: Record<string, unknown>[] = [];
  const waiters = new Set<{
    predicate: (event: Record<string, unknown>) => boolean;
    resolve: (event: Record<string, unknown>) => void;
  }>();
  let stdoutBuffer = "";
  let stderrText = "";
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    stdoutBuffer += chunk;
    let newline: number;
    while ((newline = stdoutBuffer.indexOf("\n")) >= 0) {
      const line = stdoutBuffer.slice(0, newline).trim();
      stdoutBuffer = stdoutBuffer.slice(newline + 1);
      if (line === "") continue;
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(line) as Record<string, unknown>;
      } catch {
        event = { type: "unparsed", line };
      }
      events.push(event);
      for (const waiter of [...waiters])
        if (waiter.predicate(event)) {
          waiters.delete(waiter);
          waiter.resolve(event);
        }
    }
  });
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderrText += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", () => resolve());
    child.once("error", reject);
  });
  const base = baseSession("print", opts, debugFile, () => child.pid);
  let stopped = false;
  return {
    ...base,
    mode: "print",
    child,
    events,
    sendUserTurn(text) {
      child.stdin?.write(`${JSON.stringify({ type: "user", message: { role: "user", content: text } })}\n`);
    },
    waitForEvent(predicate, timeoutMs = 30_000) {
      const seen = events.find(predicate);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (event: Record<string, unknown>) => {
            clearTimeout(timer);
            resolve(event);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(
              `no matching stream-json event within ${timeoutMs} ms; seen types: ${events
                .map((event) => `${String(event.type)}${event.subtype ? `/${String(event.subtype)}` : ""}`)
                .join(", ")}; stderr: ${stderrText.slice(-500)}`,
            ),
          );
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    stderr: () => stderrText,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin?.end();
      child.kill("SIGTERM");
      const killTimer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(killTimer);
    },
  };
}

/** True when tmux is on PATH (interactive-mode tests skip visibly otherwise). */
export function tmuxAvailable(): boolean {
  return spawnSync("sh", ["-c", "command -v tmux"], { encoding: "utf8" }).status === 0;
}

/**
 * Starts interactive `claude` in a PRIVATE tmux server (`tmux -L cm-e2e-<random>`), 200×50, in the
 * scratch project dir, and waits until the prompt is drawn. stop() ends claude and kills that
 * tmux server (never any other).
 */
export async function startInteractiveSession(
  opts: SessionOptions & { readyTimeoutMs?: number },
): Promise<InteractiveSession> {
  const tmuxName = `cm-e2e-${randomUUID().slice(0, 12)}`;
  const debugFile = join(opts.home.root, `debug-interactive-${randomUUID().slice(0, 8)}.log`);
  const env = opts.home.env({ ANTHROPIC_BASE_URL: opts.apiUrl, ...opts.env });
  const tmux = (args: string[]): string => {
    const result = spawnSync("tmux", ["-L", tmuxName, ...args], { env, encoding: "utf8", timeout: 10_000 });
    if (result.status !== 0) throw new Error(`tmux ${args[0]} failed: ${result.stderr}`);
    return result.stdout;
  };
  // The server starts with this process's env (scratch HOME, fake API); the pane runs claude directly.
  tmux([
    "new-session",
    "-d",
    "-s",
    "main",
    "-x",
    "200",
    "-y",
    "50",
    "-c",
    opts.home.projectDir,
    CLAUDE_BIN,
    "--debug-file",
    debugFile,
    ...(opts.args ?? []),
  ]);
  // Keep the pane (and its last screen) after claude exits, for failure messages.
  tmux(["set-option", "-t", "main", "remain-on-exit", "on"]);
  let claudePid: number | undefined;
  const findPid = (): number | undefined => {
    if (claudePid !== undefined) return claudePid;
    const out = spawnSync("tmux", ["-L", tmuxName, "list-panes", "-t", "main", "-F", "#{pane_pid}"], {
      env,
      encoding: "utf8",
    });
    const pid = Number.parseInt(out.stdout.trim(), 10);
    if (Number.isInteger(pid) && pid > 0) claudePid = pid;
    return claudePid;
  };
  const base = baseSession("interactive", opts, debugFile, findPid);
  const capturePane = (): string => tmux(["capture-pane", "-p", "-t", "main"]);
  let stopped = false;
  const session: InteractiveSession = {
    ...base,
    mode: "interactive",
    tmuxName,
    submit(text) {
      tmux(["send-keys", "-t", "main", "-l", text]);
      // A short pause lets the TUI take the pasted text before Enter (otherwise Enter may be read as part of a paste).
      spawnSync("sleep", ["0.3"]);
      tmux(["send-keys", "-t", "main", "Enter"]);
    },
    sendKeys: (...keys) => {
      tmux(["send-keys", "-t", "main", ...keys]);
    },
    capturePane,
    waitForScreen: (re, timeoutMs = 20_000) =>
      pollUntil(
        () => {
          const screen = capturePane();
          return re.test(screen) ? screen : undefined;
        },
        timeoutMs,
        `the tmux screen to match ${re}`,
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\n--- screen ---\n${capturePane()}`);
      }),
    async stop() {
      if (stopped) return;
      stopped = true;
      const pid = findPid();
      if (pid !== undefined && isAlive(pid)) {
        process.kill(pid, "SIGTERM");
        await pollUntil(() => (isAlive(pid) ? undefined : true), 5_000, `claude ${pid} to exit`).catch(() => {
          if (isAlive(pid)) process.kill(pid, "SIGKILL");
        });
      }
      spawnSync("tmux", ["-L", tmuxName, "kill-server"], { env, encoding: "utf8" });
    },
  };
  try {
    findPid();
    // The input box (a rule line directly above the "❯" prompt) means the TUI is up and no dialog
    // blocks it; dialogs also use "❯" as their selection marker, but never right under a rule.
    await session.waitForScreen(/─{20,}\n❯/, opts.readyTimeoutMs ?? 30_000);
  } catch (error) {
    await session.stop();
    throw error;
  }
  return session;
}

/**
 * The transcript line proving an inbox message reached the model's context, or undefined. Two
 * shapes exist: a `type:"user"` entry whose `origin.msg_id` is the id (delivered as its own turn),
 * and a `type:"attachment"` entry of `attachment.type:"queued_command"` whose `attachment.origin.msg_id`
 * is the id (delivered mid-turn, beside a tool result). `queue-operation` lines are not proof.
 */
export function findInboxDelivery(entries: TranscriptEntry[], msgId: string): TranscriptEntry | undefined {
  return entries.find((entry) => {
    if (entry.type === "user") return entry.origin?.msg_id === msgId;
    if (entry.type !== "attachment") return false;
    const attachment = entry.attachment as { type?: string; origin?: { msg_id?: string } } | undefined;
    return attachment?.type === "queued_command" && attachment.origin?.msg_id === msgId;
  });
}

/** Resolves with the transcript line proving msgId reached the model (either shape), polling the session's current transcript. */
export function waitForInboxDelivery(
  session: ClaudeSession,
  msgId: string,
  timeoutMs = 20_000,
): Promise<TranscriptEntry> {
  return pollUntil(
    async () => findInboxDelivery(await session.readTranscript(), msgId),
    timeoutMs,
    `a transcript entry carrying msg_id ${msgId}`,
  );
}

/** One line for Claude Code's inbox socket, in the shape claudemesh writes (SPEC §5). */
export interface InboxUserLine {
  type: "user";
  msgV: 1;
  msg_id: string;
  from?: string;
  priority: "now" | "next" | "later";
  message: { role: "user"; content: string };
}

export function inboxUserLine(
  content: string,
  options: { from?: string; priority?: "now" | "next" | "later"; msgId?: string } = {},
): InboxUserLine {
  return {
    type: "user",
    msgV: 1,
    msg_id: options.msgId ?? randomUUID(),
    ...(options.from !== undefined && { from: options.from }),
    priority: options.priority ?? "next",
    message: { role: "user", content },
  };
}

/**
 * Connects to an inbox socket, writes the lines (an optional auth line first), half-closes and
 * resolves with whatever Claude Code wrote back on that connection (it writes nothing today).
 */
export function writeInbox(
  socketPath: string,
  lines: object[],
  options: { token?: string; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let reply = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(reply);
    }, options.timeoutMs ?? 3_000);
    socket.setEncoding("utf8");
    socket.on("connect", () => {
      const all = options.token !== undefined ? [{ type: "auth", token: options.token }, ...lines] : lines;
      socket.end(all.map((line) => `${JSON.stringify(line)}\n`).join(""));
    });
    socket.on("data", (chunk: string) => {
      reply += chunk;
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(reply);
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * A receipt listener: a Unix socket beside the session's inbox socket (same directory, ".sock"),
 * so Claude Code sends `peer_message_status` lines to `from: "uds:<path>"`. It must live in the
 * process that writes the inbox lines — Claude Code only writes a receipt to the writer's own pid.
 */
export interface ReceiptListener {
  readonly path: string;
  /** The `from` value to put in inbox lines. */
  readonly from: string;
  /** Parsed JSON lines received so far (a live array). */
  readonly received: Record<string, unknown>[];
  waitForReceipt(
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startReceiptListener(inboxSocketPath: string): Promise<ReceiptListener> {
  const dir = inboxSocketPath.slice(0, inboxSocketPath.lastIndexOf("/"));
  const path = join(dir, `cm-e2e-${randomUUID().slice(0, 12)}.sock`);
  const received: Record<string, unknown>[] = [];
  const server: Server = createServer((connection) => {
    let buffer = "";
    connection.setEncoding("utf8");
    connection.on("data", (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line === "") continue;
        try {
          received.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          received.push({ unparsed: line });
        }
      }
    });
    connection.on("error", () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve());
  });
  return {
    path,
    from: `uds:${path}`,
    received,
    waitForReceipt: (predicate, timeoutMs = 10_000) =>
      pollUntil(() => received.find(predicate), timeoutMs, `a receipt on ${path}`),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          rmSync(path, { force: true });
          resolve();
        });
      }),
  };
}
