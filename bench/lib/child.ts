// Spawns a benchmark role as its own Node process and talks to it over IPC.
import { fork, type ChildProcess } from "node:child_process";
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

export interface RoleProcess {
  child: ChildProcess;
  /** Resolves with the next IPC message whose `type` matches. */
  next<T extends { type: string }>(type: T["type"], timeoutMs?: number): Promise<T>;
  send(message: object): void;
  stop(): Promise<void>;
}

/** Starts `roles/<name>.js` (compiled next to this file) with the given argv. */
export function startRole(name: string, args: string[] = []): RoleProcess {
  const script = fileURLToPath(new URL(`../roles/${name}.js`, import.meta.url));
  // BENCH_PROFILE_DIR=dir writes a V8 CPU profile of every role process there (for finding hot spots).
  const profileDir = process.env.BENCH_PROFILE_DIR;
  const execArgv = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
  const child = fork(script, args, { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv });
  const inbox: Array<{ type: string }> = [];
  const waiters: Array<{ type: string; resolve: (m: { type: string }) => void }> = [];
  child.on("message", (raw) => {
    const message = raw as { type: string };
    const index = waiters.findIndex((w) => w.type === message.type);
    if (index >= 0) waiters.splice(index, 1)[0]?.resolve(message);
    else inbox.push(message);
  });
  return {
    child,
    next<T extends { type: string }>(type: string, timeoutMs = 120_000): Promise<T> {
      const index = inbox.findIndex((m) => m.type === type);
      if (index >= 0) return Promise.resolve(inbox.splice(index, 1)[0] as T);
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`role ${name}: no '${type}' within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          type,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m as T);
          },
        });
      });
    },
    send(message: object): void {
      child.send(message);
    },
    stop(): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        // A profiled process is slower to shut down and still has its profile to write.
        const timer = setTimeout(() => child.kill("SIGKILL"), profileDir ? 60_000 : 5_000);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill("SIGTERM");
      });
    },
  };
}

/**
 * In a role process: send one IPC message to the orchestrator. The promise resolves once it has
 * been handed to the channel, so a role may exit right after awaiting its last report.
 */
export function report(message: object): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, undefined, () => resolve());
  });
}

/** In a role process: resolves with the next IPC message of the given type. */
export function awaitCommand<T extends { type: string }>(type: T["type"]): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (raw: unknown): void => {
      const message = raw as T;
      if (message.type === type) {
        process.off("message", onMessage);
        resolve(message);
      }
    };
    process.on("message", onMessage);
  });
}

/**
 * In a server role: answers `{type:"cpu"}` with this process's CPU time so far (user + system, µs),
 * and `{type:"stats"}` with its RSS and the event loop's worst and p99 delay since the last `stats`.
 */
export function serveCpuUsage(): void {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  traceStalls();
  process.on("message", (raw) => {
    const type = (raw as { type?: string }).type;
    if (type === "cpu") {
      const usage = process.cpuUsage();
      report({ type: "cpu-usage", micros: usage.user + usage.system });
    } else if (type === "stats") {
      report({
        type: "stats",
        rssBytes: process.memoryUsage.rss(),
        loopMaxMs: loop.max / 1e6,
        loopP99Ms: loop.percentile(99) / 1e6,
      });
      loop.reset();
    }
  });
}

/**
 * BENCH_STALL_DIR=dir (server roles): every event-loop turn delayed more than BENCH_STALL_MS (default 15)
 * appends `{"atUs":…,"delayMs":…,"cpuMs":…}` to `dir/stalls-<pid>.jsonl`. `atUs` is the monotonic clock in µs, the
 * clock of V8 CPU profile timestamps, so a stall can be looked up in a BENCH_PROFILE_DIR profile of the
 * same run. For finding what holds the loop; off by default (the 2 ms timer costs a little CPU).
 */
function traceStalls(): void {
  const dir = process.env.BENCH_STALL_DIR;
  if (!dir) return;
  const threshold = Number(process.env.BENCH_STALL_MS ?? 15);
  const file = join(dir, `stalls-${process.pid}.jsonl`);
  const periodMs = 2;
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  setInterval(() => {
    const now = performance.now();
    const delayMs = now - last - periodMs;
    const cpu = process.cpuUsage(lastCpu);
    last = now;
    lastCpu = process.cpuUsage();
    if (delayMs <= threshold) return;
    const atUs = Number(process.hrtime.bigint() / 1000n);
    // cpuMs: CPU the process used meanwhile (all its threads). Far below delayMs: the machine, not this process, held it.
    const cpuMs = Math.round((cpu.user + cpu.system) / 100) / 10;
    appendFileSync(file, `${JSON.stringify({ atUs, delayMs: Math.round(delayMs * 10) / 10, cpuMs })}\n`);
  }, periodMs).unref();
}

/** Asks a server role for its CPU time so far (µs). */
export async function cpuMicros(role: RoleProcess): Promise<number> {
  role.send({ type: "cpu" });
  return (await role.next<{ type: "cpu-usage"; micros: number }>("cpu-usage")).micros;
}

export interface ProcessStats {
  rssBytes: number;
  /** Worst event-loop delay since the previous call (ms). */
  loopMaxMs: number;
  loopP99Ms: number;
}

/** Asks a server role for its RSS and event-loop delay since the previous call (which it resets). */
export async function processStats(role: RoleProcess): Promise<ProcessStats> {
  role.send({ type: "stats" });
  return role.next<ProcessStats & { type: "stats" }>("stats");
}
