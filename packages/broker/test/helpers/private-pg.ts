// A throwaway PostgreSQL cluster owned by one test (initdb as the postgres OS user), so outage tests never stop the shared server.
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const PG_ROOT = "/usr/lib/postgresql";

/** The newest installed PostgreSQL bin dir with initdb and pg_ctl, or null. */
export function postgresBinDir(): string | null {
  if (!existsSync(PG_ROOT)) return null;
  const versions = readdirSync(PG_ROOT)
    .filter(
      (v) => existsSync(join(PG_ROOT, v, "bin", "initdb")) && existsSync(join(PG_ROOT, v, "bin", "pg_ctl")),
    )
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(PG_ROOT, versions[0], "bin") : null;
}

/** Why a private cluster cannot be made here, or null when it can. */
export function privatePgUnavailableReason(): string | null {
  if (!postgresBinDir()) return `no PostgreSQL binaries under ${PG_ROOT}`;
  if (process.getuid?.() !== 0) return "not running as root (runuser -u postgres is needed for initdb)";
  if (!existsSync("/usr/sbin/runuser") && !existsSync("/sbin/runuser")) return "runuser is missing";
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export interface PrivateCluster {
  url: string;
  port: number;
  start(): Promise<void>;
  /** `pg_ctl stop -m fast`: a clean shutdown, the way an operator restarts PostgreSQL. */
  stop(): Promise<void>;
  /** Stops (immediately) if running and removes the data dir. Idempotent. */
  destroy(): Promise<void>;
}

/** initdb into a fresh temp dir owned by `postgres`, on a free loopback port; not started yet. */
export async function createPrivateCluster(): Promise<PrivateCluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error("PostgreSQL binaries not found");
  const dir = await mkdtemp(join(tmpdir(), "claudemesh-pg-"));
  const { stdout: uid } = await run("id", ["-u", "postgres"]);
  const { stdout: gid } = await run("id", ["-g", "postgres"]);
  await chown(dir, Number(uid.trim()), Number(gid.trim()));
  const data = join(dir, "data");
  const asPostgres = (cmd: string, args: string[]) =>
    run("runuser", ["-u", "postgres", "--", join(bin, cmd), ...args], { timeout: 60_000 });
  await asPostgres("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  let running = false;
  let destroyed = false;
  const cluster: PrivateCluster = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      await asPostgres("pg_ctl", [
        "-D",
        data,
        "-l",
        join(dir, "server.log"),
        "-o",
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
        "-w",
        "-t",
        "30",
        "start",
      ]);
      running = true;
    },
    async stop() {
      await asPostgres("pg_ctl", ["-D", data, "-m", "fast", "-w", "-t", "30", "stop"]);
      running = false;
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      if (running)
        await asPostgres("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}
