// Read-only access to persisted agent keys (`agents/<mesh-slug>/<name>.json`), free of crypto so hooks start fast.
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, errnoCode } from "./errors.js";
import { readJsonFile, type JsonFileKind } from "./json-file.js";
import { configPaths, type Env } from "./paths.js";
import { AgentKeyFileSchema, type AgentKeyFile } from "./schema.js";

export const KEY_KIND: JsonFileKind = {
  what: "agent key file",
  remedy: "delete it to give that agent a new identity (its queued messages are lost)",
};

/** `agents/<slug>` under the config dir. */
export function meshAgentsDir(env: Env, slug: string): string {
  return join(configPaths(env).agentsDir, slug);
}

/** File name stem for an agent name. */
export function fileStem(name: string): string {
  // Names cannot contain `/`, but encoding keeps odd characters (space, @, +) out of shell trouble.
  return encodeURIComponent(name);
}

/** Path of the key file for (mesh slug, agent name). */
export function agentKeyPath(env: Env, slug: string, name: string): string {
  return join(meshAgentsDir(env, slug), `${fileStem(name)}.json`);
}

/** Path of the lock that says which live session holds (mesh slug, agent name). */
export function agentLockPath(env: Env, slug: string, name: string): string {
  return join(meshAgentsDir(env, slug), `${fileStem(name)}.lock`);
}

/** Reads an agent's key file; undefined when that agent has no key yet. */
export function loadAgentKey(env: Env, slug: string, name: string): AgentKeyFile | undefined {
  return readJsonFile(agentKeyPath(env, slug, name), AgentKeyFileSchema, KEY_KIND);
}

/** Names of the agents with a key file for `slug`, sorted. */
export function listAgentNames(env: Env, slug: string): string[] {
  try {
    return readdirSync(meshAgentsDir(env, slug))
      .filter((f) => f.endsWith(".json"))
      .map((f) => decodeURIComponent(f.slice(0, -".json".length)))
      .sort();
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return [];
    throw new ConfigError(
      "config_io",
      `cannot list ${meshAgentsDir(env, slug)} (${errnoCode(err) ?? "error"})`,
    );
  }
}

/** Deletes every agent key and lock of `slug` (used by `leave`); returns the names removed. */
export function removeMeshAgents(env: Env, slug: string): string[] {
  const names = listAgentNames(env, slug);
  rmSync(meshAgentsDir(env, slug), { recursive: true, force: true });
  return names;
}

/**
 * Deletes the key file (and lock) of the agent of `slug` whose pubkey is `pubkey`, after that agent
 * was retired on the broker; returns its local name, or undefined when its key is not on this machine.
 */
export function removeAgentKeyByPubkey(env: Env, slug: string, pubkey: string): string | undefined {
  const name = listAgentNames(env, slug).find((n) => loadAgentKey(env, slug, n)?.pubkey === pubkey);
  if (name === undefined) return undefined;
  rmSync(agentKeyPath(env, slug, name), { force: true });
  rmSync(agentLockPath(env, slug, name), { force: true });
  return name;
}
