// Sets up a whole mesh the way a person would: `claudemesh broker`, `mesh create`, `invite`, `join` — each its own process and config dir.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliOk, ensureCliBuilt, killAll, startBrokerProcess, type BrokerProcess } from "./processes.js";
import { closeAllMcp } from "./mcp.js";

export interface E2eMesh {
  root: string;
  slug: string;
  dbPath: string;
  broker: BrokerProcess;
  /** Config dir per person (alice created the mesh; the others joined with her invite). */
  dirs: Record<string, string>;
  /** The env a person's commands and MCP servers run with. */
  env(person: string): Record<string, string>;
  /** Kills the broker (SIGKILL) and starts it again on the same store and port. */
  restartBroker(): Promise<void>;
  /** Kills the broker, if running. */
  stopBroker(): Promise<void>;
  startBroker(): Promise<void>;
  /** Stops every process and removes the temp dir. */
  cleanup(): Promise<void>;
}

/**
 * A mesh `slug` on a fresh broker: `alice` runs `mesh create`, then invites everyone in
 * `joiners` (one multi-use invite), each joining from their own config dir.
 */
export async function createE2eMesh(slug: string, joiners: string[]): Promise<E2eMesh> {
  // Only rebuilds during development (npm test builds first); callers allow for it in their hook timeout.
  ensureCliBuilt();
  const root = mkdtempSync(join(tmpdir(), "claudemesh-e2e-"));
  const dirs: Record<string, string> = {};
  for (const person of ["broker", "alice", ...joiners]) {
    dirs[person] = join(root, person);
    mkdirSync(dirs[person] as string, { recursive: true, mode: 0o700 });
  }
  const env = (person: string): Record<string, string> => {
    const dir = dirs[person];
    if (!dir) throw new Error(`no person ${person}`);
    return { CLAUDEMESH_CONFIG_DIR: dir, HOME: dir };
  };
  const dbPath = join(root, "broker.db");
  let broker = await startBrokerProcess({ db: dbPath, configDir: dirs.broker as string });
  const mesh: E2eMesh = {
    root,
    slug,
    dbPath,
    get broker() {
      return broker;
    },
    dirs,
    env,
    async stopBroker() {
      await broker.stop("SIGKILL");
    },
    async startBroker() {
      broker = await startBrokerProcess({ db: dbPath, port: broker.port, configDir: dirs.broker as string });
    },
    async restartBroker() {
      await mesh.stopBroker();
      await mesh.startBroker();
    },
    async cleanup() {
      await closeAllMcp();
      await killAll();
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    await cliOk(["mesh", "create", slug, "--broker", broker.url, "--as", "alice"], env("alice"));
    if (joiners.length > 0) {
      const link = (await cliOk(["invite", "--uses", String(joiners.length)], env("alice"))).trim();
      for (const person of joiners) await cliOk(["join", link, "--name", person], env(person));
    }
  } catch (err) {
    await mesh.cleanup();
    throw err;
  }
  return mesh;
}
