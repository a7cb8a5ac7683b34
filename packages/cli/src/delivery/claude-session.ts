// Finds and follows this MCP server's Claude Code session through Claude Code's session registry (`~/.claude/sessions/<pid>.json`, SPEC §5).
import { readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parentChain } from "../hooks/entry.js";
import { claudeConfigDir, locateTranscript } from "../mcp/transcript/path.js";

type Env = Readonly<Record<string, string | undefined>>;

/** The registry fields claudemesh reads (Claude Code 2.1.3xx writes more). */
export interface ClaudeSessionInfo {
  pid: number;
  sessionId?: string;
  cwd?: string;
  /** `idle` or `busy` as Claude Code reports it (absent on older versions). */
  status?: string;
  messagingSocketPath?: string;
}

function parseRegistry(text: string, pid: number): ClaudeSessionInfo | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof raw !== "object" || raw === null) return null;
  const r = raw as Record<string, unknown>;
  if (r.pid !== pid) return null;
  const info: ClaudeSessionInfo = { pid };
  if (typeof r.sessionId === "string" && /^[A-Za-z0-9_-]{1,128}$/.test(r.sessionId))
    info.sessionId = r.sessionId;
  if (typeof r.cwd === "string") info.cwd = r.cwd;
  if (typeof r.status === "string") info.status = r.status;
  if (typeof r.messagingSocketPath === "string" && r.messagingSocketPath.startsWith("/"))
    info.messagingSocketPath = r.messagingSocketPath;
  return info;
}

/** The registry file of `pid`. */
export function registryFile(env: Env, pid: number): string {
  return join(claudeConfigDir(env), "sessions", `${pid}.json`);
}

/**
 * The Claude Code session this process runs under: the nearest ancestor with a registry entry.
 * Claude Code starts stdio MCP servers directly, but a wrapper (npx, a shell) may sit between.
 */
export function findClaudeSession(
  env: Env,
  chain: number[] = parentChain(process.ppid, 5),
): ClaudeSessionInfo | null {
  for (const pid of chain) {
    try {
      const info = parseRegistry(readFileSync(registryFile(env, pid), "utf8"), pid);
      if (info) return info;
    } catch {
      // no entry for this ancestor
    }
  }
  return null;
}

/** The transcript of `sessionId` for a session started in `cwd`. */
export function transcriptPathFor(env: Env, cwd: string, sessionId: string): string {
  return join(
    locateTranscript({ ...env, CLAUDE_CODE_SESSION_ID: sessionId, CLAUDE_PROJECT_DIR: cwd }, cwd).projectDir,
    `${sessionId}.jsonl`,
  );
}

/** Polls one session's registry entry and reports changes (a new session id after /clear, idle ↔ busy, a late-bound inbox socket). */
export class ClaudeSessionWatcher {
  private timer: NodeJS.Timeout | undefined;
  private last: string | null = null;
  private current: ClaudeSessionInfo | null = null;

  constructor(
    private readonly env: Env,
    readonly pid: number,
    private readonly onChange: (info: ClaudeSessionInfo) => void,
    private readonly intervalMs = 1_000,
  ) {}

  get info(): ClaudeSessionInfo | null {
    return this.current;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
    void this.poll();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async poll(): Promise<void> {
    let text: string;
    try {
      text = await readFile(registryFile(this.env, this.pid), "utf8");
    } catch {
      return;
    }
    const info = parseRegistry(text, this.pid);
    if (!info) return;
    const key = JSON.stringify([info.sessionId, info.status, info.messagingSocketPath, info.cwd]);
    if (key === this.last) return;
    this.last = key;
    this.current = info;
    this.onChange(info);
  }
}
