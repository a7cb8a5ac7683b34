// Agent peer identities (SPEC §1): one persisted key per (mesh, agent name), held by one live session at a time.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateKeypair } from "@claudemesh/crypto";
import { agentKeyPath, agentLockPath, KEY_KIND, loadAgentKey, meshAgentsDir } from "./agent-keys.js";
import { ConfigError } from "./errors.js";
import { readJsonFile, writeJsonFile, type JsonFileKind } from "./json-file.js";
import { withMutex } from "./mutex.js";
import { assertValidName, defaultAgentName, nameWithSuffix } from "./names.js";
import { configPaths, ensurePrivateDir, FILE_MODE, type Env } from "./paths.js";
import { isSameProcessAlive, processStartTime } from "./process-info.js";
import { AgentKeyFileSchema, AgentLockSchema, type AgentKeyFile } from "./schema.js";

/** How many suffixed names (`name-2` … `name-N`) are tried before giving up. */
const MAX_NAME_ATTEMPTS = 100;

const LOCK_KIND: JsonFileKind = {
  what: "agent lock",
  remedy: "delete it if no claudemesh session is running",
};

/** The mesh an agent belongs to (a MeshEntry fits). */
export interface AgentMesh {
  slug: string;
  meshId: string;
}

/** An ed25519 identity as hex, in the shape @claudemesh/client takes. */
export interface AgentKeypair {
  pubkey: string;
  secretKey: string;
}

export interface AcquireAgentOptions {
  env: Env;
  mesh: AgentMesh;
  /** `--name`: wins over the directory-derived default. */
  requestedName?: string;
  /** Working directory of the session; its basename is the default name. */
  cwd: string;
  /** The process that holds the name (default: this one). */
  pid?: number;
}

/** A held agent identity; call release() when the session ends (a crashed holder is detected by pid). */
export interface AgentIdentity {
  /** The name actually held: the requested/default name, or `name-2`, … when that one is in use. */
  name: string;
  /** The name asked for (or derived from cwd) before any suffix. */
  baseName: string;
  keypair: AgentKeypair;
  /** Member id from an earlier enrollment, when one was recorded. */
  memberId: string | undefined;
  /** True when the key was generated now (a brand-new agent). */
  created: boolean;
  keyFile: string;
  /** Persists the member id returned by POST /agents, so later sessions can show it without enrolling first. */
  saveMemberId(memberId: string): void;
  /** Frees the name for another session. Idempotent. */
  release(): void;
}

/** True when a live process other than `pid` holds the name (a stale or unreadable lock counts as free). */
function heldByOther(lockPath: string, pid: number): boolean {
  let lock;
  try {
    lock = readJsonFile(lockPath, AgentLockSchema, LOCK_KIND);
  } catch {
    return false;
  }
  if (lock === undefined || lock.pid === pid) return false;
  return isSameProcessAlive(lock.pid, lock.startTime);
}

/** Loads the key for (mesh, name), generating and saving a fresh one when there is none (or it belongs to an older mesh with that slug). */
function loadOrCreateKey(env: Env, mesh: AgentMesh, name: string): { key: AgentKeyFile; created: boolean } {
  const existing = loadAgentKey(env, mesh.slug, name);
  if (existing !== undefined && existing.meshId === mesh.meshId) return { key: existing, created: false };
  const kp = generateKeypair();
  const key: AgentKeyFile = {
    version: 1,
    name,
    meshSlug: mesh.slug,
    meshId: mesh.meshId,
    pubkey: kp.publicKey,
    secretKey: kp.secretKey,
    createdAt: new Date().toISOString(),
  };
  writeJsonFile(agentKeyPath(env, mesh.slug, name), AgentKeyFileSchema, key, KEY_KIND);
  return { key, created: true };
}

/**
 * Claims an agent identity for a session (SPEC §1: stable across restarts, two sessions = two
 * peers). The name is `requestedName` or the sanitized basename of `cwd`; when a live session
 * already holds it, `name-2`, `name-3`, … are tried. The key is persisted under
 * `agents/<mesh-slug>/<name>.json` (0600) and reused on the next start, so the mailbox survives.
 * Claiming runs under a per-mesh mutex so two sessions starting together get distinct names.
 */
export function acquireAgentIdentity(options: AcquireAgentOptions): AgentIdentity {
  const { env, mesh } = options;
  const pid = options.pid ?? process.pid;
  const baseName =
    options.requestedName !== undefined
      ? assertValidName(options.requestedName, "agent name")
      : defaultAgentName(options.cwd);
  const dir = meshAgentsDir(env, mesh.slug);
  ensurePrivateDir(configPaths(env).dir);
  ensurePrivateDir(configPaths(env).agentsDir);
  ensurePrivateDir(dir);

  const claimed = withMutex(join(dir, ".mutex"), () => {
    for (let n = 1; n <= MAX_NAME_ATTEMPTS; n++) {
      const name = nameWithSuffix(baseName, n);
      const lockPath = agentLockPath(env, mesh.slug, name);
      if (heldByOther(lockPath, pid)) continue;
      const { key, created } = loadOrCreateKey(env, mesh, name);
      writeFileSync(lockPath, `${JSON.stringify({ pid, startTime: processStartTime(pid) })}\n`, {
        mode: FILE_MODE,
      });
      return { name, key, created, lockPath };
    }
    throw new ConfigError(
      "names_exhausted",
      `agent names "${baseName}" to "${nameWithSuffix(baseName, MAX_NAME_ATTEMPTS)}" are all held by live sessions — pass --name to choose another`,
    );
  });

  let released = false;
  let memberId = claimed.key.memberId;
  return {
    name: claimed.name,
    baseName,
    keypair: { pubkey: claimed.key.pubkey, secretKey: claimed.key.secretKey },
    get memberId() {
      return memberId;
    },
    created: claimed.created,
    keyFile: agentKeyPath(env, mesh.slug, claimed.name),
    saveMemberId(id: string): void {
      if (memberId === id) return;
      writeJsonFile(
        agentKeyPath(env, mesh.slug, claimed.name),
        AgentKeyFileSchema,
        { ...claimed.key, memberId: id },
        KEY_KIND,
      );
      memberId = id;
    },
    release(): void {
      if (released) return;
      released = true;
      // Only remove the lock if it is still ours (a stale-lock takeover may have replaced it).
      // Best effort: after `leave` the directory is gone, and a dead holder is detected anyway.
      try {
        withMutex(join(dir, ".mutex"), () => {
          if (!heldByOther(claimed.lockPath, pid)) rmSync(claimed.lockPath, { force: true });
        });
      } catch {
        // Nothing to free.
      }
    },
  };
}
