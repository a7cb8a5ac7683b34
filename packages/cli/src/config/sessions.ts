// Session registry (`sessions/<pid>.json`): maps a running `claudemesh mcp` to its Claude Code process, so `claudemesh hook` finds its agent.
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { errnoCode } from "./errors.js";
import { readJsonFile, writeJsonFile, type JsonFileKind } from "./json-file.js";
import { configPaths, ensurePrivateDir, type Env } from "./paths.js";
import { ancestorPids, isSameProcessAlive, processStartTime } from "./process-info.js";
import { SessionRecordSchema, type SessionAgent, type SessionRecord } from "./schema.js";

const SESSION_KIND: JsonFileKind = {
  what: "session record",
  remedy: "delete it; it is rewritten when the session restarts",
};

export interface RegisterSessionOptions {
  env: Env;
  /** The agent identities this session speaks as (one per mesh it serves). */
  agents: SessionAgent[];
  cwd: string;
  /** The MCP server process (default: this one). */
  pid?: number;
  /** The Claude Code process that started it (default: this process's parent). */
  claudePid?: number;
  /** Claude Code's session id, when known. */
  sessionId?: string;
}

export interface SessionRegistration {
  file: string;
  record: SessionRecord;
  /** Rewrites the record with other agents or a newly learned session id. */
  update(changes: Partial<Pick<SessionRecord, "agents" | "sessionId">>): void;
  /** Removes the record (on shutdown). Idempotent. */
  unregister(): void;
}

function sessionFile(env: Env, pid: number): string {
  return join(configPaths(env).sessionsDir, `${pid}.json`);
}

/** Every readable session record whose process is still alive; records of dead processes are deleted. */
export function listLiveSessions(env: Env): SessionRecord[] {
  const dir = configPaths(env).sessionsDir;
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /^\d+\.json$/.test(f));
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return [];
    throw err;
  }
  const live: SessionRecord[] = [];
  for (const file of files) {
    let record: SessionRecord | undefined;
    try {
      record = readJsonFile(join(dir, file), SessionRecordSchema, SESSION_KIND);
    } catch {
      // A torn or foreign file is not a session; skip it rather than fail the hook.
      continue;
    }
    if (record === undefined) continue;
    if (isSameProcessAlive(record.pid, record.startTime)) live.push(record);
    else rmSync(join(dir, file), { force: true });
  }
  return live;
}

/** Records a running session (mode 0600) and returns a handle to update or remove it. */
export function registerSession(options: RegisterSessionOptions): SessionRegistration {
  const { env } = options;
  const pid = options.pid ?? process.pid;
  const paths = configPaths(env);
  ensurePrivateDir(paths.dir);
  ensurePrivateDir(paths.sessionsDir);
  listLiveSessions(env); // prunes records of crashed sessions
  const file = sessionFile(env, pid);
  let record: SessionRecord = {
    version: 1,
    pid,
    startTime: processStartTime(pid),
    claudePid: options.claudePid ?? process.ppid,
    cwd: options.cwd,
    ...(options.sessionId !== undefined ? { sessionId: options.sessionId } : {}),
    startedAt: new Date().toISOString(),
    agents: options.agents,
  };
  writeJsonFile(file, SessionRecordSchema, record, SESSION_KIND);
  let active = true;
  return {
    file,
    get record() {
      return record;
    },
    update(changes) {
      if (!active) return;
      record = { ...record, ...changes };
      writeJsonFile(file, SessionRecordSchema, record, SESSION_KIND);
    },
    unregister() {
      if (!active) return;
      active = false;
      rmSync(file, { force: true });
    },
  };
}

export interface FindSessionOptions {
  env: Env;
  /** The hook process (default: this one); its ancestors are searched for a registered Claude Code pid. */
  pid?: number;
  /** Claude Code's session id from the hook's stdin JSON. */
  sessionId?: string;
  /** Working directory from the hook's stdin JSON (or process.cwd()), the last resort. */
  cwd?: string;
  /** Parent-pid lookup, injectable for tests (default: /proc). */
  getParent?: (pid: number) => number | undefined;
}

/**
 * The live session(s) a Claude Code hook belongs to, tried in order of certainty:
 * 1. a session that recorded the same Claude Code `session_id`;
 * 2. a session whose `claudePid` is an ancestor of the hook process (Claude Code spawns both);
 * 3. the single session started in the same `cwd`. Several sessions in one directory with no
 *    better evidence match nothing: a hook must never flip the status of someone else's session.
 */
export function findSessionsForHook(options: FindSessionOptions): SessionRecord[] {
  const sessions = listLiveSessions(options.env);
  if (sessions.length === 0) return [];
  if (options.sessionId !== undefined) {
    const bySession = sessions.filter((s) => s.sessionId === options.sessionId);
    if (bySession.length > 0) return bySession;
  }
  const ancestors = ancestorPids(options.pid ?? process.pid, options.getParent);
  for (const ancestor of ancestors) {
    const byParent = sessions.filter((s) => s.claudePid === ancestor);
    if (byParent.length > 0) return byParent;
  }
  if (options.cwd !== undefined) {
    const byCwd = sessions.filter((s) => s.cwd === options.cwd);
    if (byCwd.length === 1) return byCwd;
  }
  return [];
}
