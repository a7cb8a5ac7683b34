// Where Claude Code keeps a session's transcript, mirroring its own path rules, so the jsonl status source (SPEC §3) can read it.
import { readdir, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

/** Claude Code truncates sanitised project paths longer than this and appends a hash. */
const MAX_SANITIZED_LENGTH = 200;

/**
 * Claude Code's own string hash (Java-style `h = 31*h + c`, 32-bit), used for the suffix of long
 * project directory names. Verified against the shipped CLI (`@anthropic-ai/claude-code` 2.1).
 */
function javaStringHash(value: string): number {
  let hash = 0;
  for (let i = 0; i < value.length; i++) hash = (hash * 31 + value.charCodeAt(i)) | 0;
  return hash;
}

/**
 * The directory name Claude Code uses for a project: every non-alphanumeric character becomes
 * `-` (so `/home/me/app.v2` → `-home-me-app-v2`); names over 200 chars are cut and suffixed with
 * a base-36 hash of the full path.
 */
export function sanitizeProjectPath(projectDir: string): string {
  const sanitized = projectDir.replace(/[^a-zA-Z0-9]/g, "-");
  if (sanitized.length <= MAX_SANITIZED_LENGTH) return sanitized;
  return `${sanitized.slice(0, MAX_SANITIZED_LENGTH)}-${Math.abs(javaStringHash(projectDir)).toString(36)}`;
}

/** Environment variables as the CLI passes them. */
type Env = Readonly<Record<string, string | undefined>>;

/** Claude Code's config dir: `CLAUDE_CONFIG_DIR`, else `~/.claude` (HOME from env first, like the CLI). */
export function claudeConfigDir(env: Env, home: string = env.HOME || homedir()): string {
  return (env.CLAUDE_CONFIG_DIR ?? join(home, ".claude")).normalize("NFC");
}

export interface TranscriptLocation {
  /** `<claude config>/projects/<sanitised project dir>` */
  projectDir: string;
  /** The exact transcript when Claude Code told us its session id, else undefined (pick the newest). */
  sessionFile: string | undefined;
}

/**
 * Where to look for this session's transcript. Claude Code starts stdio MCP servers with
 * `CLAUDE_PROJECT_DIR` (its original cwd) and `CLAUDE_CODE_SESSION_ID` in the environment; when
 * they are missing (another MCP client, an older Claude Code) we fall back to the process cwd and
 * the newest transcript in that project directory.
 */
export function locateTranscript(env: Env, cwd: string, home?: string): TranscriptLocation {
  const project = env.CLAUDE_PROJECT_DIR && env.CLAUDE_PROJECT_DIR !== "" ? env.CLAUDE_PROJECT_DIR : cwd;
  const projectDir = join(claudeConfigDir(env, home), "projects", sanitizeProjectPath(project));
  const sessionId = env.CLAUDE_CODE_SESSION_ID;
  // A session id is a path component here: accept only a plain file-name shape.
  const sessionFile =
    sessionId && /^[A-Za-z0-9_-]{1,128}$/.test(sessionId)
      ? join(projectDir, `${sessionId}.jsonl`)
      : undefined;
  return { projectDir, sessionFile };
}

/**
 * The most recently modified `*.jsonl` in `dir` whose mtime is at or after `notBeforeMs`, or null.
 * The lower bound keeps an old, finished session from being mistaken for this one.
 */
export async function newestTranscript(dir: string, notBeforeMs: number): Promise<string | null> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return null;
  }
  let best: { path: string; mtimeMs: number } | null = null;
  for (const name of names) {
    if (!name.endsWith(".jsonl")) continue;
    const path = join(dir, name);
    try {
      const info = await stat(path);
      if (!info.isFile() || info.mtimeMs < notBeforeMs) continue;
      if (!best || info.mtimeMs > best.mtimeMs) best = { path, mtimeMs: info.mtimeMs };
    } catch {
      // Removed between readdir and stat: not a candidate.
    }
  }
  return best?.path ?? null;
}
