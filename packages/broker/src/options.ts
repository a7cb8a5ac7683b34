// Broker options: documented defaults (SPEC §7, docs/CONFIG.md), environment overrides and validation with clear errors.
import { homedir } from "node:os";
import { resolve } from "node:path";
import {
  configDirFor,
  defaultBrokerDbFor,
  CLAIM_LEASE_MS,
  DEAD_AFTER_MS,
  DEFAULT_HOST,
  DEFAULT_PORT,
  GROUP_FRAME_BYTES_PER_RECIPIENT,
  HELLO_SKEW_MS,
  MAX_CHANNELS_PER_MEMBER,
  MAX_CONNECTIONS_PER_MESH,
  MAX_FRAME_BYTES,
  MAX_HTTP_BODY_BYTES,
  MAX_OUTBOUND_BYTES,
  PENDING_HOOK_MS,
  PING_INTERVAL_MS,
  PRESENCE_GRACE_MS,
  RETENTION_MS,
  STATUS_FRESH_MS,
  WORKING_TTL_MS,
} from "@claudemesh/protocol";
import type { BrokerOptions } from "./context.js";
import { isLogLevel, type LogLevel } from "./log.js";

/** BrokerOptions plus the knobs only the process shell reads. */
export interface ResolvedOptions extends BrokerOptions {
  logLevel: LogLevel;
  /** /health caches the store ping this long so probes cannot hammer the database. */
  healthCacheMs: number;
  /** How long close() waits for in-flight HTTP requests and sockets before cutting them. */
  shutdownTimeoutMs: number;
  /**
   * The URL other machines reach this broker at (e.g. `wss://mesh.example.com` behind a TLS proxy),
   * reported by /health as `public_url` so `claudemesh mesh create` puts it in invite links; null
   * when not set.
   */
  publicUrl: string | null;
}

export type NumericOption = {
  [K in keyof ResolvedOptions]: ResolvedOptions[K] extends number ? K : never;
}[keyof ResolvedOptions];

/** A bad option value; the message names the option, its source and what is allowed. */
export class OptionsError extends Error {
  override readonly name = "OptionsError";
}

interface NumericSpec {
  default: number;
  env: string;
  min: number;
  max: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Every numeric option: default, environment variable, and allowed range (integers). */
export const NUMERIC_OPTIONS: Readonly<Record<NumericOption, NumericSpec>> = {
  port: { default: DEFAULT_PORT, env: "CLAUDEMESH_PORT", min: 0, max: 65_535 },
  helloSkewMs: { default: HELLO_SKEW_MS, env: "CLAUDEMESH_HELLO_SKEW_MS", min: 1_000, max: DAY },
  pingIntervalMs: { default: PING_INTERVAL_MS, env: "CLAUDEMESH_PING_INTERVAL_MS", min: 10, max: HOUR },
  deadAfterMs: { default: DEAD_AFTER_MS, env: "CLAUDEMESH_DEAD_AFTER_MS", min: 20, max: DAY },
  presenceGraceMs: { default: PRESENCE_GRACE_MS, env: "CLAUDEMESH_PRESENCE_GRACE_MS", min: 0, max: DAY },
  claimLeaseMs: { default: CLAIM_LEASE_MS, env: "CLAUDEMESH_CLAIM_LEASE_MS", min: 10, max: DAY },
  retentionMs: { default: RETENTION_MS, env: "CLAUDEMESH_RETENTION_MS", min: 1_000, max: 365 * DAY },
  sweepIntervalMs: { default: 60_000, env: "CLAUDEMESH_SWEEP_INTERVAL_MS", min: 100, max: DAY },
  maxFrameBytes: {
    default: MAX_FRAME_BYTES,
    env: "CLAUDEMESH_MAX_FRAME_BYTES",
    min: 1_024,
    max: 16 * 1024 * 1024,
  },
  // SPEC §7 revision 2: group frame cap 64 KiB + 256 B × recipients (the body's own cap is the schema's).
  groupFrameBytesPerRecipient: {
    default: GROUP_FRAME_BYTES_PER_RECIPIENT,
    env: "CLAUDEMESH_GROUP_FRAME_BYTES_PER_RECIPIENT",
    min: 200,
    max: 64 * 1024,
  },
  maxHttpBodyBytes: {
    default: MAX_HTTP_BODY_BYTES,
    env: "CLAUDEMESH_MAX_HTTP_BODY_BYTES",
    min: 1_024,
    max: 16 * 1024 * 1024,
  },
  maxConnectionsPerMesh: {
    default: MAX_CONNECTIONS_PER_MESH,
    env: "CLAUDEMESH_MAX_CONNECTIONS_PER_MESH",
    min: 1,
    max: 1_000_000,
  },
  statusFreshMs: { default: STATUS_FRESH_MS, env: "CLAUDEMESH_STATUS_FRESH_MS", min: 0, max: DAY },
  workingTtlMs: { default: WORKING_TTL_MS, env: "CLAUDEMESH_WORKING_TTL_MS", min: 10, max: DAY },
  pendingHookMs: { default: PENDING_HOOK_MS, env: "CLAUDEMESH_PENDING_HOOK_MS", min: 0, max: HOUR },
  helloTimeoutMs: { default: 10_000, env: "CLAUDEMESH_HELLO_TIMEOUT_MS", min: 10, max: HOUR },
  connFramesPerSec: { default: 2_000, env: "CLAUDEMESH_CONN_FRAMES_PER_SEC", min: 1, max: 10_000_000 },
  connFrameBurst: { default: 4_000, env: "CLAUDEMESH_CONN_FRAME_BURST", min: 1, max: 10_000_000 },
  memberSendsPerSec: { default: 2_000, env: "CLAUDEMESH_MEMBER_SENDS_PER_SEC", min: 1, max: 10_000_000 },
  memberSendBurst: { default: 4_000, env: "CLAUDEMESH_MEMBER_SEND_BURST", min: 1, max: 10_000_000 },
  httpRequestsPerSec: { default: 100, env: "CLAUDEMESH_HTTP_REQUESTS_PER_SEC", min: 1, max: 10_000_000 },
  httpRequestBurst: { default: 200, env: "CLAUDEMESH_HTTP_REQUEST_BURST", min: 1, max: 10_000_000 },
  maxBatch: { default: 512, env: "CLAUDEMESH_MAX_BATCH", min: 1, max: 100_000 },
  drainBatch: { default: 256, env: "CLAUDEMESH_DRAIN_BATCH", min: 1, max: 100_000 },
  // SPEC §7 revision 2: broker heartbeat 5 s, a broker silent 15 s is gone (its leases are released).
  brokerHeartbeatMs: { default: 5_000, env: "CLAUDEMESH_BROKER_HEARTBEAT_MS", min: 10, max: HOUR },
  brokerGoneAfterMs: { default: 15_000, env: "CLAUDEMESH_BROKER_GONE_AFTER_MS", min: 30, max: DAY },
  maxOutboundBytes: {
    default: MAX_OUTBOUND_BYTES,
    env: "CLAUDEMESH_MAX_OUTBOUND_BYTES",
    min: 64 * 1024,
    max: 1024 * 1024 * 1024,
  },
  preHelloOutboundBytes: {
    default: 16 * 1024,
    env: "CLAUDEMESH_PRE_HELLO_OUTBOUND_BYTES",
    min: 1_024,
    max: 1024 * 1024 * 1024,
  },
  errorRepliesPerSec: { default: 10, env: "CLAUDEMESH_ERROR_REPLIES_PER_SEC", min: 1, max: 10_000_000 },
  errorReplyBurst: { default: 100, env: "CLAUDEMESH_ERROR_REPLY_BURST", min: 1, max: 10_000_000 },
  preHelloErrorReplies: { default: 8, env: "CLAUDEMESH_PRE_HELLO_ERROR_REPLIES", min: 1, max: 10_000_000 },
  maxAgentsPerMember: { default: 32, env: "CLAUDEMESH_MAX_AGENTS_PER_MEMBER", min: 1, max: 1_000_000 },
  agentIdleRetireMs: {
    default: 14 * DAY,
    env: "CLAUDEMESH_AGENT_IDLE_RETIRE_MS",
    min: 60_000,
    max: 3650 * DAY,
  },
  maxChannelsPerMember: {
    default: MAX_CHANNELS_PER_MEMBER,
    env: "CLAUDEMESH_MAX_CHANNELS_PER_MEMBER",
    min: 1,
    max: 1_000_000,
  },
  healthCacheMs: { default: 1_000, env: "CLAUDEMESH_HEALTH_CACHE_MS", min: 0, max: 60_000 },
  shutdownTimeoutMs: { default: 5_000, env: "CLAUDEMESH_SHUTDOWN_TIMEOUT_MS", min: 0, max: 600_000 },
};

/** String options and their environment variables (first one set wins). */
export const STRING_OPTION_ENV = {
  host: ["CLAUDEMESH_HOST"],
  db: ["CLAUDEMESH_DB", "DATABASE_URL"],
  creationToken: ["CLAUDEMESH_CREATION_TOKEN"],
  logLevel: ["CLAUDEMESH_LOG_LEVEL"],
  publicUrl: ["CLAUDEMESH_PUBLIC_URL"],
} as const;

/**
 * Checks a public URL: http(s) or ws(s), a host, no query or fragment. Returns it without a
 * trailing slash; throws OptionsError naming `source` otherwise.
 */
export function checkPublicUrl(value: string, source: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !/^(?:https?|wss?):$/.test(url.protocol) || url.hostname === "" || url.search || url.hash)
    throw new OptionsError(
      `publicUrl (${source}) must be an http(s):// or ws(s):// URL such as https://mesh.example.com, got ${JSON.stringify(value)}`,
    );
  return value.replace(/\/+$/, "");
}

export type Env = Readonly<Record<string, string | undefined>>;

const PLATFORM = { homedir, resolve };

/** `~/.claudemesh` or CLAUDEMESH_CONFIG_DIR (SPEC §6; the rule is the protocol package's configDirFor). */
export function configDir(env: Env): string {
  return configDirFor(env, PLATFORM);
}

/** Default store: the embedded SQLite file in the config dir (SPEC §6). */
export function defaultDbPath(env: Env): string {
  return defaultBrokerDbFor(env, PLATFORM);
}

function fromEnv(env: Env, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== "") return { name, value };
  }
  return undefined;
}

function checkNumber(key: NumericOption, value: unknown, source: string): number {
  const spec = NUMERIC_OPTIONS[key];
  let n: number;
  if (typeof value === "number") n = value;
  else if (typeof value === "string" && /^\s*-?\d+(?:_\d+)*\s*$/.test(value))
    n = Number(value.replace(/_/g, ""));
  else throw new OptionsError(`${key} (${source}) must be an integer, got ${JSON.stringify(value)}`);
  if (!Number.isSafeInteger(n))
    throw new OptionsError(`${key} (${source}) must be an integer, got ${String(value)}`);
  if (n < spec.min || n > spec.max)
    throw new OptionsError(`${key} (${source}) must be between ${spec.min} and ${spec.max}, got ${n}`);
  return n;
}

/**
 * Resolves the full option set. Precedence: `partial` (flags, code) > environment > defaults.
 * Throws OptionsError naming the first bad option and where it came from.
 */
export function resolveOptions(
  partial: Partial<ResolvedOptions> = {},
  env: Env = process.env,
): ResolvedOptions {
  const numbers = {} as Record<NumericOption, number>;
  for (const key of Object.keys(NUMERIC_OPTIONS) as NumericOption[]) {
    const spec = NUMERIC_OPTIONS[key];
    const given = partial[key];
    const fromEnvValue = env[spec.env];
    if (given !== undefined) numbers[key] = checkNumber(key, given, "option");
    else if (fromEnvValue !== undefined && fromEnvValue !== "")
      numbers[key] = checkNumber(key, fromEnvValue, `env ${spec.env}`);
    else numbers[key] = spec.default;
  }

  const host = partial.host ?? fromEnv(env, STRING_OPTION_ENV.host)?.value ?? DEFAULT_HOST;
  if (typeof host !== "string" || host.trim() === "" || /\s/.test(host))
    throw new OptionsError(`host must be a hostname or IP address, got ${JSON.stringify(host)}`);

  const db = partial.db ?? fromEnv(env, STRING_OPTION_ENV.db)?.value ?? defaultDbPath(env);
  if (typeof db !== "string" || db.trim() === "")
    throw new OptionsError("db must be a SQLite file path or a postgres:// URL");

  const tokenSource =
    partial.creationToken !== undefined ? null : fromEnv(env, STRING_OPTION_ENV.creationToken);
  const creationToken =
    partial.creationToken !== undefined ? partial.creationToken : (tokenSource?.value ?? null);
  // Short tokens are guessable; the message never echoes the value.
  if (creationToken !== null && (typeof creationToken !== "string" || creationToken.length < 8))
    throw new OptionsError(
      "creationToken must be at least 8 characters (or unset to allow anyone to create meshes)",
    );

  const levelSource = fromEnv(env, STRING_OPTION_ENV.logLevel);
  const logLevel = partial.logLevel ?? levelSource?.value ?? "info";
  if (!isLogLevel(logLevel))
    throw new OptionsError(
      `logLevel must be one of debug, info, warn, error, silent; got ${JSON.stringify(logLevel)}`,
    );

  const publicSource =
    partial.publicUrl !== undefined && partial.publicUrl !== null
      ? null
      : fromEnv(env, STRING_OPTION_ENV.publicUrl);
  const publicRaw = partial.publicUrl ?? publicSource?.value ?? null;
  const publicUrl =
    publicRaw === null
      ? null
      : checkPublicUrl(publicRaw, publicSource ? `env ${publicSource.name}` : "option");

  const options: ResolvedOptions = { ...numbers, host, db, creationToken, logLevel, publicUrl };
  // Cross-field rules: liveness only works when a peer gets at least one ping before it is declared dead.
  if (options.deadAfterMs <= options.pingIntervalMs)
    throw new OptionsError(
      `deadAfterMs (${options.deadAfterMs}) must be greater than pingIntervalMs (${options.pingIntervalMs})`,
    );
  // Every frame the broker may send (a push is at most a frame plus its envelope) must fit the budget.
  if (options.maxOutboundBytes < 2 * options.maxFrameBytes)
    throw new OptionsError(
      `maxOutboundBytes (${options.maxOutboundBytes}) must be at least twice maxFrameBytes (${options.maxFrameBytes})`,
    );
  // A broker must beat at least twice within the window, or a live one could be declared gone.
  if (options.brokerGoneAfterMs < 2 * options.brokerHeartbeatMs)
    throw new OptionsError(
      `brokerGoneAfterMs (${options.brokerGoneAfterMs}) must be at least twice brokerHeartbeatMs (${options.brokerHeartbeatMs})`,
    );
  return options;
}
