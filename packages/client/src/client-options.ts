// BrokerClient's tunables: the option set, its SPEC §7 defaults and the checks that refuse values that would misbehave silently.
import {
  CLIENT_OUTBOUND_QUEUE,
  CLIENT_PUSH_BUFFER,
  DEAD_AFTER_MS,
  HELLO_ACK_TIMEOUT_MS,
  MAX_FRAME_BYTES,
  RECONNECT_BACKOFF_MS,
  SEND_ACK_TIMEOUT_MS,
} from "@claudemesh/protocol";
import { ClientError } from "./errors.js";
import type { InboundSink } from "./inbound.js";
import { DEFAULT_RECEIPT_BACKLOG_MAX } from "./receipts.js";
import { wsSocketFactory, type SocketFactory } from "./transport.js";

/** Tunables; every default is the SPEC §7 number from @claudemesh/protocol. */
export interface BrokerClientOptions {
  /** Wait this long for hello_ack before the attempt counts as failed (default 5 s). */
  helloAckTimeoutMs: number;
  /** Wait this long for a send's ack once it is on the wire (default 10 s). */
  sendAckTimeoutMs: number;
  /** Wait this long for a list_peers / message_status answer (default 10 s). */
  requestTimeoutMs: number;
  /** Reconnect delays; the last one repeats (default 1, 2, 4, 8, 16, 30 s). */
  backoffMs: number[];
  /** Sends waiting for a connection before new ones are refused with queue_full (default 100). */
  outboundQueueMax: number;
  /** Inbound messages kept for drainInbox(); the oldest is dropped beyond this (default 500). */
  pushBufferMax: number;
  /** Message ids (and sender nonces) remembered to drop redeliveries (default 10,000). */
  dedupMax: number;
  /** Reconnect when the broker has been silent this long — no frame, no ping (default 75 s). */
  deadAfterMs: number;
  /** Largest frame this client writes; bigger sends fail with too_large (default 64 KiB). */
  maxFrameBytes: number;
  /** Re-seals after `recipients_mismatch` before giving up (default 3). */
  maxMismatchRetries: number;
  /** `shown` receipt ids kept while disconnected; beyond it the oldest are dropped with an error event (default 10,000). */
  receiptBacklogMax: number;
  /**
   * Durable hand-off of inbound messages. When set, each new message (after dedup and
   * decryption) is passed to it, one at a time in arrival order, and acknowledged to the broker
   * only once its promise resolves; if it rejects (or throws) the message is not acknowledged, an
   * `error` event with code `handoff_failed` is emitted and the broker delivers it again. With a
   * sink, messages are neither buffered for drainInbox() nor emitted as `message` events.
   * Without one (default): buffered, emitted, then acknowledged.
   */
  inboundSink?: InboundSink;
  /** Connection factory (tests inject a fake; default: the `ws` package). */
  socketFactory: SocketFactory;
  /** Clock for hello timestamps (unix ms). */
  now: () => number;
}

export const DEFAULT_DEDUP_MAX = 10_000;
export const DEFAULT_MAX_MISMATCH_RETRIES = 3;

/** Drops `undefined` values so `{x: undefined}` keeps the default instead of erasing it. */
function definedOnly<T extends object>(partial: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const POSITIVE_OPTIONS = [
  "helloAckTimeoutMs",
  "sendAckTimeoutMs",
  "requestTimeoutMs",
  "outboundQueueMax",
  "pushBufferMax",
  "dedupMax",
  "deadAfterMs",
  "maxFrameBytes",
  "receiptBacklogMax",
] as const;

/** Rejects option values that would make the client misbehave silently (SPEC §7 numbers are all positive). */
function checkOptions(opts: BrokerClientOptions): void {
  for (const name of POSITIVE_OPTIONS) {
    const value = opts[name];
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      throw new ClientError("invalid_argument", `BrokerClient option ${name} must be a positive number`);
    }
  }
  if (opts.inboundSink !== undefined && typeof opts.inboundSink !== "function") {
    throw new ClientError(
      "invalid_argument",
      "BrokerClient option inboundSink must be a function (message) => Promise<void> | void",
    );
  }
  if (!Number.isInteger(opts.maxMismatchRetries) || opts.maxMismatchRetries < 0) {
    throw new ClientError(
      "invalid_argument",
      "BrokerClient option maxMismatchRetries must be a non-negative integer",
    );
  }
  if (
    !Array.isArray(opts.backoffMs) ||
    opts.backoffMs.length === 0 ||
    !opts.backoffMs.every((ms) => Number.isFinite(ms) && ms >= 0)
  ) {
    throw new ClientError(
      "invalid_argument",
      "BrokerClient option backoffMs must be a non-empty list of delays ≥ 0 ms",
    );
  }
}

/** `given` over the defaults, checked; throws `invalid_argument` naming the bad option. */
export function resolveOptions(given: Partial<BrokerClientOptions> | undefined): BrokerClientOptions {
  const opts = buildOptions(given);
  checkOptions(opts);
  return opts;
}

function buildOptions(given: Partial<BrokerClientOptions> | undefined): BrokerClientOptions {
  return {
    helloAckTimeoutMs: HELLO_ACK_TIMEOUT_MS,
    sendAckTimeoutMs: SEND_ACK_TIMEOUT_MS,
    requestTimeoutMs: SEND_ACK_TIMEOUT_MS,
    backoffMs: [...RECONNECT_BACKOFF_MS],
    outboundQueueMax: CLIENT_OUTBOUND_QUEUE,
    pushBufferMax: CLIENT_PUSH_BUFFER,
    dedupMax: DEFAULT_DEDUP_MAX,
    deadAfterMs: DEAD_AFTER_MS,
    maxFrameBytes: MAX_FRAME_BYTES,
    maxMismatchRetries: DEFAULT_MAX_MISMATCH_RETRIES,
    receiptBacklogMax: DEFAULT_RECEIPT_BACKLOG_MAX,
    socketFactory: wsSocketFactory,
    now: () => Date.now(),
    ...definedOnly(given ?? {}),
  };
}
