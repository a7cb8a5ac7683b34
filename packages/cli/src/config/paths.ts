// Where claudemesh keeps its files: `~/.claudemesh/` or `CLAUDEMESH_CONFIG_DIR` (SPEC §6), created with mode 0700.
import { chmodSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { configDirFor, defaultBrokerDbFor } from "@claudemesh/protocol";
import { ConfigError, errnoCode } from "./errors.js";

/** The environment the CLI reads; `process.env` fits, tests pass a plain object. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Directory mode: only the owner may list or enter it (keys live inside). */
export const DIR_MODE = 0o700;
/** File mode for every file holding config or keys (SPEC §6: files mode 0600). */
export const FILE_MODE = 0o600;

/** The user's home directory: `HOME` from `env` when set (tests use a temp HOME), else the OS answer. */
export function resolveHome(env: Env): string {
  const home = env.HOME;
  return home !== undefined && home !== "" ? home : homedir();
}

/** The config directory: `CLAUDEMESH_CONFIG_DIR` (made absolute) or `<home>/.claudemesh` (protocol's configDirFor). */
export function resolveConfigDir(env: Env): string {
  return configDirFor(env, { homedir, resolve });
}

/** Every path inside the config directory, in one place. */
export interface ConfigPaths {
  dir: string;
  /** `config.json`: meshes and member keys. */
  configFile: string;
  /** `agents/`: one sub-directory per mesh slug with one key file per agent name. */
  agentsDir: string;
  /** `sessions/`: one `<pid>.json` per running `claudemesh mcp` process. */
  sessionsDir: string;
  /** `broker.db`: the default SQLite store of `claudemesh broker`. */
  brokerDb: string;
}

export function configPaths(env: Env): ConfigPaths {
  const dir = resolveConfigDir(env);
  return {
    dir,
    configFile: join(dir, "config.json"),
    agentsDir: join(dir, "agents"),
    sessionsDir: join(dir, "sessions"),
    brokerDb: defaultBrokerDbFor(env, { homedir, resolve }),
  };
}

/**
 * Creates `dir` (and parents) if needed and makes it 0700. An existing directory is tightened
 * too, so a config dir created by hand with a lax umask does not leave keys listable.
 */
export function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    chmodSync(dir, DIR_MODE);
  } catch (err) {
    throw new ConfigError(
      "config_io",
      `cannot create ${dir} (${errnoCode(err) ?? "error"}) — check its permissions`,
    );
  }
}
