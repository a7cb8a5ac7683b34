// Where a session's MCP server listens for its hooks (SPEC §5): one 0600 socket per Claude Code process, found by pid. Node built-ins only (hooks load this).
import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { homedir, tmpdir } from "node:os";

/** The longest Unix socket path every platform takes (sun_path is 104 bytes on macOS, 108 on Linux, with the NUL). */
export const MAX_SOCKET_PATH_BYTES = 103;

type Env = Readonly<Record<string, string | undefined>>;

/** The claudemesh config dir, resolved exactly as the CLI resolves it (`CLAUDEMESH_CONFIG_DIR`, else `~/.claudemesh`). */
export function hookConfigDir(env: Env): string {
  const override = env.CLAUDEMESH_CONFIG_DIR;
  if (override !== undefined && override !== "") return resolve(override);
  const home = env.HOME !== undefined && env.HOME !== "" ? env.HOME : homedir();
  return join(home, ".claudemesh");
}

/** 32-bit FNV-1a of `text` in base 36: names a config dir in a short fallback path without loading node:crypto. */
function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36);
}

/** This user's private directory under the temp dir (created 0700 by the MCP server). */
export function userRunDir(): string {
  const uid = typeof process.getuid === "function" ? process.getuid() : 0;
  return join(tmpdir(), `claudemesh-${uid}`);
}

/**
 * Where the MCP server under Claude Code process `claudePid` leaves the path of its hook socket.
 * Hooks run with Claude Code's environment, not the MCP server's: a `CLAUDEMESH_CONFIG_DIR` given
 * only to the server (`claude mcp add -e …`) is unknown to them, and the pointer finds the socket anyway.
 */
export function hookPointerPath(claudePid: number, base: string = userRunDir()): string {
  return join(base, "sessions", String(claudePid));
}

/**
 * The socket path a pointer names, or undefined. Trusted only in a directory that is this user's
 * and writable by nobody else (the temp dir is shared).
 */
export function readHookPointer(claudePid: number, base: string = userRunDir()): string | undefined {
  const path = hookPointerPath(claudePid, base);
  try {
    const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
    for (const dir of [base, join(base, "sessions")]) {
      const info = statSync(dir);
      if (!info.isDirectory() || (uid !== undefined && info.uid !== uid) || (info.mode & 0o022) !== 0)
        return undefined;
    }
    const target = readFileSync(path, "utf8").trim();
    return target.startsWith("/") && target.endsWith(".sock") ? target : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The directory of hook sockets for `configDir`: `<configDir>/run`, or — when that would make a
 * socket path too long — `<tmp>/claudemesh-<uid>/<hash of configDir>` (created 0700 by the server).
 */
export function hookSocketDir(configDir: string): string {
  const preferred = join(configDir, "run");
  if (Buffer.byteLength(join(preferred, "4194304.sock")) <= MAX_SOCKET_PATH_BYTES) return preferred;
  return join(userRunDir(), shortHash(configDir));
}

/** The socket of the MCP server that runs under the Claude Code process `claudePid`. */
export function hookSocketPath(configDir: string, claudePid: number): string {
  return join(hookSocketDir(configDir), `${claudePid}.sock`);
}
