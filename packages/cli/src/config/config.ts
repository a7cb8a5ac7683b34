// config.json: the meshes this machine belongs to and their member keys (SPEC §6) — load, save, update, select.
import { chmodSync, statSync } from "node:fs";
import { ConfigError } from "./errors.js";
import { readJsonFile, writeJsonFile, type JsonFileKind } from "./json-file.js";
import { withMutex } from "./mutex.js";
import { configPaths, ensurePrivateDir, FILE_MODE, type Env } from "./paths.js";
import { CONFIG_VERSION, ConfigSchema, type Config, type MeshEntry } from "./schema.js";

const CONFIG_KIND: JsonFileKind = {
  what: "config",
  remedy: "fix it by hand, or move it aside and run 'claudemesh join <link>' again",
};

export interface LoadConfigOptions {
  /** Return an empty config instead of failing when config.json does not exist (mesh create, join, list). */
  missingOk?: boolean;
}

/** A config with no meshes. */
export function emptyConfig(): Config {
  return { version: CONFIG_VERSION, meshes: [] };
}

/**
 * Reads and validates `<configDir>/config.json`. A missing file is a `config_missing` error
 * (unless `missingOk`); a corrupt or wrongly shaped one is `config_corrupt` / `config_invalid`.
 * Every message is one line naming the path and what to do.
 */
export function loadConfig(env: Env, options: LoadConfigOptions = {}): Config {
  const { configFile } = configPaths(env);
  const config = readJsonFile(configFile, ConfigSchema, CONFIG_KIND);
  if (config !== undefined) {
    tightenMode(configFile);
    return config;
  }
  if (options.missingOk) return emptyConfig();
  throw new ConfigError(
    "config_missing",
    `no claudemesh config at ${configFile} — run 'claudemesh mesh create <slug>' or 'claudemesh join <link>' first`,
  );
}

/** A config.json made readable by others (copied around, restored from a backup) is put back to 0600: it holds secret keys. */
function tightenMode(path: string): void {
  try {
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, FILE_MODE);
  } catch {
    // Best effort: reading already worked, and a read-only filesystem is not an error here.
  }
}

/** Validates and writes config.json atomically (temp file, fsync, rename) with mode 0600 in a 0700 dir. */
export function saveConfig(env: Env, config: Config): void {
  const { dir, configFile } = configPaths(env);
  ensurePrivateDir(dir);
  writeJsonFile(configFile, ConfigSchema, config, CONFIG_KIND);
}

/**
 * Read-modify-write of config.json under a cross-process mutex, so two commands (say two
 * `join`s) running at once cannot lose each other's mesh. `mutate` returns the new config.
 */
export function updateConfig(env: Env, mutate: (config: Config) => Config): Config {
  const { dir, configFile } = configPaths(env);
  ensurePrivateDir(dir);
  return withMutex(`${configFile}.lock`, () => {
    const next = mutate(loadConfig(env, { missingOk: true }));
    saveConfig(env, next);
    return next;
  });
}

/** Adds `mesh`, replacing an entry with the same slug. */
export function upsertMesh(config: Config, mesh: MeshEntry): Config {
  return { ...config, meshes: [...config.meshes.filter((m) => m.slug !== mesh.slug), mesh] };
}

/** The mesh with `slug`, or undefined. */
export function findMesh(config: Config, slug: string): MeshEntry | undefined {
  return config.meshes.find((m) => m.slug === slug);
}

/**
 * The mesh a command acts on: `slug` when given (else `CLAUDEMESH_MESH` from env), or the only
 * configured mesh. Unknown, missing or ambiguous choices are one-line ConfigErrors that list
 * what is configured.
 */
export function selectMesh(config: Config, slug: string | undefined, env: Env = {}): MeshEntry {
  const { configFile } = configPaths(env);
  const wanted = slug ?? (env.CLAUDEMESH_MESH || undefined);
  const slugs = config.meshes.map((m) => m.slug).join(", ");
  if (config.meshes.length === 0) {
    throw new ConfigError(
      "no_meshes",
      `no meshes configured in ${configFile} — run 'claudemesh join <link>' or 'claudemesh mesh create <slug>'`,
    );
  }
  if (wanted !== undefined) {
    const mesh = findMesh(config, wanted);
    if (!mesh)
      throw new ConfigError("unknown_mesh", `no mesh "${wanted}" is configured (configured: ${slugs})`);
    return mesh;
  }
  const [only, ...rest] = config.meshes;
  if (only === undefined || rest.length > 0) {
    throw new ConfigError(
      "ambiguous_mesh",
      `several meshes are configured (${slugs}) — choose one with --mesh SLUG`,
    );
  }
  return only;
}
