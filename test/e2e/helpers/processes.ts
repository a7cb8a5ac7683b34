// Real processes for whole-system tests: the built `claudemesh` CLI (one-shot commands and a broker), each tracked so it is always killed.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../../", import.meta.url));
/** The CLI under test; CLAUDEMESH_E2E_CLI points the suite at another build (e.g. an installed package). */
export const CLI_BIN = process.env.CLAUDEMESH_E2E_CLI ?? join(REPO, "packages/cli/bin/claudemesh.js");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Builds the CLI (and the packages it references) with `tsc -b` when dist is missing or older than
 * any source. `npm test` builds first, so this only runs during development; a lock directory
 * keeps parallel test files from building at once.
 */
export function ensureCliBuilt(): void {
  const marker = join(REPO, "packages/cli/dist/main.js");
  const sources = ["protocol", "crypto", "broker", "client", "cli"].map((p) =>
    join(REPO, "packages", p, "src"),
  );
  const stale = (): boolean =>
    !existsSync(marker) || statSync(marker).mtimeMs < Math.max(...sources.map(newestMtime));
  if (process.env.CLAUDEMESH_E2E_CLI || !stale()) return;
  const lock = join(tmpdir(), "claudemesh-e2e-build.lock");
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline)
        throw new Error(`build lock ${lock} held too long; remove it if no build runs`);
      spawnSync("sleep", ["0.2"]);
    }
  }
  try {
    if (!stale()) return;
    const result = spawnSync("npx", ["tsc", "-b", "packages/cli/tsconfig.build.json"], {
      cwd: REPO,
      encoding: "utf8",
      timeout: 170_000,
    });
    if (result.status !== 0) throw new Error(`CLI build failed:\n${result.stdout}\n${result.stderr}`);
  } finally {
    rmdirSync(lock);
  }
}

/** Every child started through this module; killAll() ends the ones still running. */
const children = new Set<ChildProcess>();

export function track(child: ChildProcess): void {
  children.add(child);
  child.once("exit", () => children.delete(child));
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGKILLs every tracked child still running and waits (bounded) for their exits. */
export async function killAll(): Promise<void> {
  const running = [...children].filter(isRunning);
  await Promise.all(
    running.map(
      (child) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5_000);
          child.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill("SIGKILL");
        }),
    ),
  );
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `claudemesh <args…>` to completion (bounded by `timeoutMs`) with `env` on top of a minimal base. */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 20_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    track(child);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`claudemesh ${args.join(" ")} did not finish in ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Like runCli, but fails with the command's stderr unless it exits 0; returns stdout. */
export async function cliOk(args: string[], env: Record<string, string>): Promise<string> {
  const result = await runCli(args, env);
  if (result.code !== 0)
    throw new Error(`claudemesh ${args.join(" ")} exited ${result.code}: ${result.stderr.trim()}`);
  return result.stdout;
}

export interface BrokerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** stderr lines so far (JSON logs). */
  logs: string[];
  /** Sends `signal` (default SIGKILL) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `claudemesh broker` on 127.0.0.1 and resolves once its ready line names the URL. */
export async function startBrokerProcess(options: {
  db: string;
  port?: number;
  configDir: string;
}): Promise<BrokerProcess> {
  const child = spawn(
    process.execPath,
    [CLI_BIN, "broker", "--host", "127.0.0.1", "--port", String(options.port ?? 0), "--db", options.db],
    {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? "", CLAUDEMESH_CONFIG_DIR: options.configDir },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  track(child);
  const logs: string[] = [];
  child.stderr?.on("data", (c: Buffer) => logs.push(...c.toString().split("\n").filter(Boolean)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async (signal: NodeJS.Signals = "SIGKILL"): Promise<void> => {
    if (isRunning(child)) child.kill(signal);
    await exited;
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(
        () => reject(new Error(`broker not ready in 15 s; logs: ${logs.join("\n")}`)),
        15_000,
      );
      child.stdout?.on("data", (c: Buffer) => {
        out += c.toString();
        const match = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`broker exited before it was ready; logs: ${logs.join("\n")}`));
      });
    });
    return { url, port: Number(new URL(url).port), child, logs, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
