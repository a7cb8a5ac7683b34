// Runs the built broker (packages/broker/dist/main.js) as a real child process for crash and signal tests.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, statSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
const BROKER_DIST_MAIN = join(REPO, "packages/broker/dist/main.js");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds the broker (and what it references) with `tsc -b` when dist is missing or older than src. */
export function ensureBrokerBuilt(): void {
  const sources = ["protocol", "crypto", "broker"].map((p) => join(REPO, "packages", p, "src"));
  const stale =
    !existsSync(BROKER_DIST_MAIN) ||
    statSync(BROKER_DIST_MAIN).mtimeMs < Math.max(...sources.map(newestMtime));
  if (!stale) return;
  const result = spawnSync("npx", ["tsc", "-b", "packages/broker/tsconfig.build.json"], {
    cwd: REPO,
    encoding: "utf8",
    timeout: 120_000,
  });
  if (result.status !== 0) throw new Error(`broker build failed:\n${result.stdout}\n${result.stderr}`);
}

export interface BrokerProcess {
  child: ChildProcess;
  url: string;
  wsUrl: string;
  port: number;
  /** stderr JSON log lines so far. */
  logs: string[];
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if still running; bounded wait for the exit. */
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns the broker on `db` and resolves once it printed its ready line (bounded by `timeoutMs`). */
export async function spawnBroker(
  db: string,
  options: { port?: number; env?: Record<string, string>; args?: string[]; timeoutMs?: number } = {},
): Promise<BrokerProcess> {
  const args = [
    BROKER_DIST_MAIN,
    "--host",
    "127.0.0.1",
    "--port",
    String(options.port ?? 0),
    "--db",
    db,
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: REPO,
    env: { ...process.env, CLAUDEMESH_LOG_LEVEL: "info", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: string[] = [];
  let stderrBuf = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderrBuf += chunk.toString();
    const lines = stderrBuf.split("\n");
    stderrBuf = lines.pop() ?? "";
    logs.push(...lines.filter((l) => l.length > 0));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  const kill = async (signal: NodeJS.Signals = "SIGKILL") => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const result = await exited;
    clearTimeout(timer);
    return result;
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(
        () => reject(new Error(`broker not ready in time; logs:\n${logs.join("\n")}`)),
        options.timeoutMs ?? 30_000,
      );
      child.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const match = /listening on (http:\/\/\S+)/.exec(out);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`broker exited early (${code ?? signal}); logs:\n${logs.join("\n")}${stderrBuf}`));
      });
    });
    const port = Number(new URL(url).port);
    return { child, url, wsUrl: `ws://127.0.0.1:${port}/ws`, port, logs, exited, kill };
  } catch (error) {
    await kill();
    throw error;
  }
}
