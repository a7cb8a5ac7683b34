// A short-lived cross-process mutex (mkdir is atomic) guarding read-modify-write of files in the config dir.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, errnoCode } from "./errors.js";
import { isProcessAlive } from "./process-info.js";

export interface MutexOptions {
  /** Give up after this long (default 5 s). */
  timeoutMs?: number;
  /** A mutex whose owner left no pid and is older than this is taken over (default 10 s). */
  staleMs?: number;
}

const POLL_MS = 10;
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread for `ms` (the critical sections here are a few file operations long). */
function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

/** A mutex is stale when its recorded owner is dead, or it has no owner and is old (a crash mid-create). */
function isStale(dir: string, staleMs: number): boolean {
  try {
    const owner = Number(readFileSync(join(dir, "owner"), "utf8"));
    if (Number.isInteger(owner) && owner > 0) return !isProcessAlive(owner);
  } catch {
    // No owner file yet: fall back to age.
  }
  try {
    return Date.now() - statSync(dir).mtimeMs > staleMs;
  } catch {
    return false;
  }
}

/**
 * Runs `fn` while holding the mutex directory `dir`. Two processes choosing agent names or
 * updating config.json at the same moment are serialised, so neither loses the other's change
 * and no name is handed out twice.
 */
export function withMutex<T>(dir: string, fn: () => T, options: MutexOptions = {}): T {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const staleMs = options.staleMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(dir, { mode: 0o700 });
      break;
    } catch (err) {
      if (errnoCode(err) !== "EEXIST") {
        throw new ConfigError(
          "config_io",
          `cannot create lock ${dir} (${errnoCode(err) ?? "error"}) — check permissions`,
        );
      }
    }
    if (isStale(dir, staleMs)) {
      rmSync(dir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      throw new ConfigError(
        "lock_timeout",
        `another claudemesh process holds ${dir}; if none is running, remove that directory and retry`,
      );
    }
    sleepSync(POLL_MS);
  }
  try {
    writeFileSync(join(dir, "owner"), String(process.pid), { mode: 0o600 });
    return fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
