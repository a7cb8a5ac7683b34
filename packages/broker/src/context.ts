// Shared services handed to every broker module: options, store, metrics, logger and clock.
import type { Store } from "./store/types.js";

/** Every limit of SPEC §7 plus operational knobs; defaults live in options.ts and docs/CONFIG.md. */
export interface BrokerOptions {
  host: string;
  port: number;
  /** SQLite file path or postgres:// URL. */
  db: string;
  /** When set, POST /meshes requires `Authorization: Bearer <token>`. */
  creationToken: string | null;
  helloSkewMs: number;
  pingIntervalMs: number;
  deadAfterMs: number;
  presenceGraceMs: number;
  claimLeaseMs: number;
  retentionMs: number;
  sweepIntervalMs: number;
  maxFrameBytes: number;
  /**
   * A group send's frame may exceed maxFrameBytes by this much per entry of its `keys` (SPEC §7:
   * 64 KiB + 256 B × recipients, up to maxConnectionsPerMesh recipients).
   */
  groupFrameBytesPerRecipient: number;
  maxHttpBodyBytes: number;
  maxConnectionsPerMesh: number;
  statusFreshMs: number;
  workingTtlMs: number;
  pendingHookMs: number;
  /** A socket that has not said hello within this is closed (4002). */
  helloTimeoutMs: number;
  /** Token bucket per connection: frames per second and burst. */
  connFramesPerSec: number;
  connFrameBurst: number;
  /** Token bucket per member across its connections and HTTP hook calls: sends per second and burst. */
  memberSendsPerSec: number;
  memberSendBurst: number;
  /** Token bucket per source IP for HTTP routes. */
  httpRequestsPerSec: number;
  httpRequestBurst: number;
  /** Group commit: most sends per store transaction. */
  maxBatch: number;
  /** Deliveries claimed per drain round per recipient. */
  drainBatch: number;
  /** Bytes buffered for one authenticated connection before it is closed with 1013 (SPEC §7). */
  maxOutboundBytes: number;
  /** The same budget for a socket that has not completed its hello. */
  preHelloOutboundBytes: number;
  /** Token bucket per connection of error replies; one more closes it with 1008 `rate_limited`. */
  errorRepliesPerSec: number;
  errorReplyBurst: number;
  /** Error replies a socket may earn before its hello completes; one more closes it with 1008. */
  preHelloErrorReplies: number;
  /** Channels one member may be in (SPEC §7); one more join gets `limit_reached`. */
  maxChannelsPerMember: number;
  /** Active agents one member may enroll (SPEC §7: 32); one more gets `limit_reached`. */
  maxAgentsPerMember: number;
  /** An agent not connected for this long is retired (revoked) by the sweep (default 14 days). */
  agentIdleRetireMs: number;
  /** Each broker beats its row in the store this often (SPEC §7: 5 s). */
  brokerHeartbeatMs: number;
  /** A broker whose beat is older than this is gone: its leases are released (SPEC §7: 15 s). */
  brokerGoneAfterMs: number;
}

export interface Logger {
  /** One JSON line on stderr. Never pass plaintext, ciphertext, keys or tokens. */
  /** Per-connection and per-frame events (hello, close, replaced, status ignored): off at the default level. */
  debug(event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

export type Labels = Record<string, string>;

export interface Metrics {
  inc(name: string, labels?: Labels, by?: number): void;
  set(name: string, value: number, labels?: Labels): void;
  observe(name: string, value: number, labels?: Labels): void;
  /** Prometheus text exposition format. */
  render(): string;
}

export interface Clock {
  now(): number;
}

export interface BrokerContext {
  options: BrokerOptions;
  store: Store;
  metrics: Metrics;
  log: Logger;
  clock: Clock;
  /** Random hex id of this broker process; owns presence rows and leases it creates (store/sql/brokers.ts). */
  brokerId: string;
  version: string;
}
