// Facts about local processes: liveness (kill 0), start time and parent pid from /proc/<pid>/stat (Linux).
import { readFileSync } from "node:fs";
import { errnoCode } from "./errors.js";

/** True when a process with `pid` exists (EPERM means it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === "EPERM";
  }
}

/** The fields of /proc/<pid>/stat after the `(comm)` field, which may itself contain spaces and `)`. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    if (close < 0) return undefined;
    // fields[0] is field 3 (state) of proc(5).
    return stat
      .slice(close + 2)
      .trim()
      .split(" ");
  } catch {
    return undefined;
  }
}

/** Field 22 of proc(5) (start time in clock ticks since boot), or null where /proc is unavailable. */
export function processStartTime(pid: number): string | null {
  return statFields(pid)?.[19] ?? null;
}

/** Field 4 of proc(5) (parent pid), or undefined where /proc is unavailable. */
export function parentPid(pid: number): number | undefined {
  const raw = statFields(pid)?.[1];
  const ppid = raw === undefined ? NaN : Number(raw);
  return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
}

/**
 * True when `pid` is alive and, if a start time was recorded, still the same process: a pid
 * reused by an unrelated process after a crash must not keep a name or session alive.
 */
export function isSameProcessAlive(pid: number, startTime: string | null): boolean {
  if (!isProcessAlive(pid)) return false;
  if (startTime === null) return true;
  const now = processStartTime(pid);
  return now === null || now === startTime;
}

/**
 * The ancestors of `pid`, nearest first (parent, grandparent, …), up to `max` levels or pid 1.
 * `getParent` is injectable for tests; the default reads /proc, falling back to process.ppid for
 * the current process where /proc does not exist.
 */
export function ancestorPids(
  pid: number = process.pid,
  getParent: (pid: number) => number | undefined = defaultParent,
  max = 32,
): number[] {
  const out: number[] = [];
  let current = pid;
  for (let i = 0; i < max; i++) {
    const parent = getParent(current);
    if (parent === undefined || parent <= 1 || out.includes(parent)) break;
    out.push(parent);
    current = parent;
  }
  return out;
}

function defaultParent(pid: number): number | undefined {
  return parentPid(pid) ?? (pid === process.pid ? process.ppid : undefined);
}
