// BrokerClient: one authenticated WebSocket session to a broker — handshake, reconnect, outbox, inbox, requests (SPEC §3, §4, §7).
import { EventEmitter } from "node:events";
import {
  CLIENT_OUTBOUND_QUEUE,
  CLIENT_PUSH_BUFFER,
  CLOSE_CODES,
  ChannelNameSchema,
  DEAD_AFTER_MS,
  HELLO_ACK_TIMEOUT_MS,
  MAX_FRAME_BYTES,
  PubkeySchema,
  RECONNECT_BACKOFF_MS,
  SEND_ACK_TIMEOUT_MS,
  StatusSchema,
  SummarySchema,
  parseServerFrame,
  type ClientFrame,
  type ErrorFrame,
  type Hello,
  type Peer,
  type Priority,
  type Push,
  type ServerFrame,
  type Status,
} from "@claudemesh/protocol";
import {
  decryptDirect,
  encryptDirect,
  publicKeyFromSecretKey,
  randomId,
  sealForRecipients,
  signHello,
  type SealedEnvelope,
} from "@claudemesh/crypto";
import { AckBatcher } from "./ack-batcher.js";
import { backoffDelay } from "./backoff.js";
import { classifyClose, type IdentityLabel } from "./close-reasons.js";
import { ClientError, isHandshakeRejection } from "./errors.js";
import { fanoutRecipients } from "./fanout.js";
import { Outbox, type PendingSend } from "./outbox.js";
import { REQUEST_ID_CHARS, assertFrameSize, sendFrameText, validateSend } from "./send-frame.js";
import { Inbox } from "./inbox.js";
import { BoundedSet } from "./lru-set.js";
import { describeNetworkError } from "./net-errors.js";
import { wsSocketFactory, type ClientSocket, type SocketFactory } from "./transport.js";
import { brokerUrls } from "./urls.js";
import {
  messageKind,
  type ConnectionState,
  type DroppedNotice,
  type InboundMessage,
  type SendResult,
  type UndecryptableMessage,
} from "./types.js";

/** Tunables; every default is the SPEC §7 number from @claudemesh/protocol. */
export interface BrokerClientOptions {
  /** Wait this long for hello_ack before the attempt counts as failed (default 5 s). */
  helloAckTimeoutMs: number;
  /** Wait this long for a send's ack once it is on the wire (default 10 s). */
  sendAckTimeoutMs: number;
  /** Wait this long for a list_peers answer (default 10 s). */
  requestTimeoutMs: number;
  /** Reconnect delays; the last one repeats (default 1, 2, 4, 8, 16, 30 s). */
  backoffMs: number[];
  /** Sends waiting for a connection before new ones are refused with queue_full (default 100). */
  outboundQueueMax: number;
  /** Inbound messages kept for drainInbox(); the oldest is dropped beyond this (default 500). */
  pushBufferMax: number;
  /** Message ids remembered to drop redeliveries (default 10,000). */
  dedupMax: number;
  /** Reconnect when the broker has been silent this long — no frame, no ping (default 75 s). */
  deadAfterMs: number;
  /** Largest frame this client writes; bigger sends fail with too_large (default 64 KiB). */
  maxFrameBytes: number;
  /** Re-seals after `recipients_mismatch` before giving up (default 3). */
  maxMismatchRetries: number;
  /** Connection factory (tests inject a fake; default: the `ws` package). */
  socketFactory: SocketFactory;
  /** Clock for hello timestamps (unix ms). */
  now: () => number;
}

export const DEFAULT_DEDUP_MAX = 10_000;
/** close() waits at most this long for the close handshake before dropping the socket. */
const CLOSE_WAIT_MS = 1_000;
export const DEFAULT_MAX_MISMATCH_RETRIES = 3;

export interface BrokerClientConfig {
  /** http(s):// or ws(s):// broker URL (see brokerUrls). */
  brokerUrl: string;
  meshId: string;
  meshSlug: string;
  memberId: string;
  /** This peer's ed25519 public key (64 hex). */
  pubkey: string;
  /** This peer's ed25519 secret key (128 hex); used for the hello signature and decryption only. */
  secretKey: string;
  displayName?: string;
  /** Claude Code session id, so hook statuses find this presence (SPEC §3 status model). */
  sessionId?: string;
  pid?: number;
  cwd?: string;
  options?: Partial<BrokerClientOptions>;
}

export interface ConnectOptions {
  /**
   * Reject with `unreachable`/`timeout` if no hello_ack arrives within this many ms. The
   * client keeps retrying in the background; call close() to stop it. Default: wait forever.
   */
  timeoutMs?: number;
}

export interface SendOptions {
  /** Abort a send still waiting in the queue (or waiting for its ack; it may then still be delivered). */
  signal?: AbortSignal;
}

/** Typed event map of BrokerClient. */
export interface BrokerClientEvents {
  state: [state: ConnectionState];
  message: [message: InboundMessage];
  undecryptable: [notice: UndecryptableMessage];
  /** Non-fatal problems, and the fatal one (error.fatal = true) that stopped reconnecting. */
  error: [error: ClientError];
  dropped: [notice: DroppedNotice];
}

interface PendingRequest {
  resolve(frame: ServerFrame): void;
  reject(error: ClientError): void;
  timer: NodeJS.Timeout;
  /** Setter barrier: id-less error frames that arrive while it waits are attributed to it. */
  barrier: boolean;
}

interface Waiter {
  resolve(): void;
  reject(error: ClientError): void;
  timer?: NodeJS.Timeout;
}

/**
 * A reconnecting, authenticated session for one identity in one mesh. Used by the CLI
 * (one-shot commands) and the MCP server (long-lived).
 *
 * Delivery semantics (SPEC §3): inbound messages are emitted once per messageId (dedup across
 * redeliveries and reconnects) and acknowledged only after they are buffered and emitted.
 * Outbound sends are at-least-once: a send whose frame was written but whose ack was lost to a
 * dropped connection is written again after reconnect — if the broker had already stored it,
 * the recipient gets it twice under two message ids. Acked sends are never re-sent.
 */
export class BrokerClient extends EventEmitter<BrokerClientEvents> {
  readonly meshId: string;
  readonly meshSlug: string;
  readonly memberId: string;
  readonly pubkey: string;
  readonly httpBase: string;
  readonly wsUrl: string;
  private readonly secretKey: string;
  private readonly sessionId: string;
  private readonly pid: number;
  private readonly cwd: string;
  private readonly opts: BrokerClientOptions;

  private _state: ConnectionState = "idle";
  private _displayName: string | undefined;
  private _presenceId: string | undefined;
  private socket: ClientSocket | null = null;
  /** Incremented per socket so late events of an old socket are ignored. */
  private generation = 0;
  private authenticated = false;
  private attempt = 0;
  private everOpened = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private helloTimer: NodeJS.Timeout | null = null;
  private livenessTimer: NodeJS.Timeout | null = null;
  private handshakeCode: string | null = null;
  /** Why the last attempt failed, for connect() timeouts and queue_full messages. */
  private lastFailure = "not connected yet";
  /** True once lastFailure describes the current socket (so its close does not overwrite it). */
  private failureNoted = false;
  private connectWaiters: Waiter[] = [];
  private closedError: ClientError | null = null;
  private reconnectCount = 0;

  private readonly outbox = new Outbox();
  private pumping = false;
  private readonly requests = new Map<string, PendingRequest>();

  private readonly seen: BoundedSet;
  private readonly inbox: Inbox;
  private readonly acks: AckBatcher;

  /** Re-applied after every hello_ack so presence state survives reconnects. */
  private desiredSummary: string | undefined;
  private desiredStatus: { status: Status; source: "manual" | "jsonl" } | undefined;
  private readonly desiredChannels = new Map<string, boolean>();

  constructor(config: BrokerClientConfig) {
    super();
    const urls = brokerUrls(config.brokerUrl);
    this.httpBase = urls.httpBase;
    this.wsUrl = urls.wsUrl;
    if (!PubkeySchema.safeParse(config.pubkey).success) {
      throw new ClientError("invalid_argument", "BrokerClient pubkey must be 64 lowercase hex chars");
    }
    // A key pair that does not match would only fail later, inside a socket callback; fail here instead.
    if (!secretKeyMatches(config.secretKey, config.pubkey)) {
      throw new ClientError(
        "invalid_argument",
        "BrokerClient secretKey is not the secret key of pubkey (128 lowercase hex, seed‖pubkey)",
      );
    }
    this.meshId = config.meshId;
    this.meshSlug = config.meshSlug;
    this.memberId = config.memberId;
    this.pubkey = config.pubkey;
    this.secretKey = config.secretKey;
    this._displayName = config.displayName;
    this.sessionId = config.sessionId ?? "";
    this.pid = config.pid ?? process.pid;
    this.cwd = config.cwd ?? process.cwd();
    this.opts = {
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
      socketFactory: wsSocketFactory,
      now: () => Date.now(),
      ...definedOnly(config.options ?? {}),
    };
    checkOptions(this.opts);
    this.seen = new BoundedSet(this.opts.dedupMax);
    this.inbox = new Inbox(this.opts.pushBufferMax);
    this.acks = new AckBatcher((ids) => this.write({ type: "client_ack", messageIds: ids }));
  }

  // ------------------------------------------------------------------ public state

  get state(): ConnectionState {
    return this._state;
  }

  /** True while authenticated (after hello_ack, before a drop). */
  get isOpen(): boolean {
    return this._state === "open";
  }

  /** The display name the broker reported in hello_ack (or the configured one before that). */
  get displayName(): string | undefined {
    return this._displayName;
  }

  get presenceId(): string | undefined {
    return this._presenceId;
  }

  /** Counters for status displays and tests. */
  get stats(): {
    queued: number;
    inflight: number;
    buffered: number;
    droppedTotal: number;
    reconnects: number;
  } {
    return {
      queued: this.outbox.waiting,
      inflight: this.outbox.inflightCount,
      buffered: this.inbox.size,
      droppedTotal: this.inbox.droppedTotal,
      reconnects: this.reconnectCount,
    };
  }

  // ------------------------------------------------------------------ connection lifecycle

  /**
   * Connects and resolves on the first hello_ack. Network failures are retried with the
   * backoff schedule; a fatal hello rejection (unauthorized, revoked, bad_signature, …)
   * rejects with that code and stops. Calling it again while connected resolves at once.
   */
  connect(options: ConnectOptions = {}): Promise<void> {
    if (this._state === "closed") {
      return Promise.reject(
        this.closedError ?? new ClientError("closed", "this client was closed; create a new one"),
      );
    }
    if (this._state === "open") return Promise.resolve();
    const promise = new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      if (options.timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          this.connectWaiters = this.connectWaiters.filter((w) => w !== waiter);
          reject(this.connectTimeoutError(options.timeoutMs ?? 0));
        }, options.timeoutMs);
      }
      this.connectWaiters.push(waiter);
    });
    if (this._state === "idle") {
      this.setState("connecting");
      this.openSocket();
    }
    return promise;
  }

  /** Stops reconnecting, flushes pending client_acks, rejects pending work with `closed`, closes with 1000. */
  async close(): Promise<void> {
    if (this._state === "closed") return;
    const socket = this.socket;
    if (socket && this.authenticated) this.acks.flushNow();
    this.shutdown(new ClientError("closed", "client closed"));
    if (socket) {
      await new Promise<void>((resolve) => {
        // Wait for the close handshake, but never longer than a second.
        const timer = setTimeout(() => {
          socket.terminate();
          resolve();
        }, CLOSE_WAIT_MS);
        socket.close(CLOSE_CODES.normal, "client closed", () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private shutdown(reason: ClientError): void {
    this.closedError = reason.code === "closed" ? null : reason;
    this.generation += 1; // ignore every later event of the current socket
    this.socket = null;
    this.authenticated = false;
    this.clearTimers();
    this.acks.clear();
    this.failRequests(reason);
    this.outbox.failAll(reason);
    for (const waiter of this.connectWaiters.splice(0)) {
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.reject(reason);
    }
    this.setState("closed");
  }

  private clearTimers(): void {
    for (const timer of [this.reconnectTimer, this.helloTimer, this.livenessTimer])
      if (timer) clearTimeout(timer);
    this.reconnectTimer = this.helloTimer = this.livenessTimer = null;
  }

  private openSocket(): void {
    this.reconnectTimer = null;
    const gen = ++this.generation;
    this.handshakeCode = null;
    this.failureNoted = false;
    this.authenticated = false;
    const guard =
      <A extends unknown[]>(fn: (...args: A) => void) =>
      (...args: A): void => {
        if (gen === this.generation) fn(...args);
      };
    try {
      this.socket = this.opts.socketFactory(this.wsUrl, {
        onOpen: guard(() => this.onSocketOpen()),
        onMessage: guard((text: string) => this.onSocketMessage(text)),
        onPing: guard(() => this.touchLiveness()),
        onError: guard((err: Error) => this.noteFailure(describeNetworkError(err))),
        onClose: guard((code: number, reason: string) => this.onSocketClose(code, reason)),
      });
    } catch (err) {
      this.noteFailure(describeNetworkError(err));
      this.socket = null;
      this.scheduleReconnect();
    }
  }

  private noteFailure(description: string): void {
    this.lastFailure = description;
    this.failureNoted = true;
  }

  private onSocketOpen(): void {
    const { timestamp, signature } = signHello(
      this.meshId,
      this.memberId,
      this.pubkey,
      this.secretKey,
      this.opts.now(),
    );
    const hello: Hello = {
      type: "hello",
      meshId: this.meshId,
      memberId: this.memberId,
      pubkey: this.pubkey,
      sessionId: this.sessionId,
      pid: this.pid,
      cwd: this.cwd,
      timestamp,
      signature,
    };
    this.socket?.send(JSON.stringify(hello));
    this.helloTimer = setTimeout(() => {
      this.helloTimer = null;
      this.noteFailure(`no hello_ack within ${this.opts.helloAckTimeoutMs} ms`);
      this.dropSocket();
    }, this.opts.helloAckTimeoutMs);
  }

  /** Abandons the current socket (no close handshake) and goes through the normal drop path. */
  private dropSocket(): void {
    const socket = this.socket;
    this.onSocketClose(1006, "");
    socket?.terminate();
  }

  private onSocketClose(code: number, reason: string): void {
    this.generation += 1;
    this.socket = null;
    this.authenticated = false;
    this.clearTimers();
    this.acks.clear(); // unacked pushes are redelivered by the broker after the drop (SPEC §3)
    this.outbox.requeueInflight();
    this.failRequests(
      new ClientError(
        "not_connected",
        `connection to broker at ${this.httpBase} dropped; retrying in the background`,
      ),
    );
    const verdict = classifyClose(code, reason, this.handshakeCode, this.identity());
    if (verdict.fatal) {
      this.shutdown(verdict.fatal);
      this.emitError(verdict.fatal);
      return;
    }
    if (!this.failureNoted) this.lastFailure = verdict.description;
    this.setState(this.everOpened ? "reconnecting" : "connecting");
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this._state === "closed") return;
    const delay = backoffDelay(this.opts.backoffMs, this.attempt);
    this.attempt += 1;
    this.reconnectTimer = setTimeout(() => this.openSocket(), delay);
  }

  private onHelloAck(presenceId: string, displayName: string): void {
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.helloTimer = null;
    this.authenticated = true;
    this.attempt = 0;
    this._presenceId = presenceId;
    this._displayName = displayName;
    if (this.everOpened) this.reconnectCount += 1;
    this.everOpened = true;
    this.touchLiveness();
    this.reapplyPresence();
    this.setState("open");
    for (const waiter of this.connectWaiters.splice(0)) {
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.resolve();
    }
    void this.pump();
  }

  /** Restores summary, status and channel membership after a (re)connect. */
  private reapplyPresence(): void {
    if (this.desiredSummary !== undefined) this.write({ type: "set_summary", summary: this.desiredSummary });
    if (this.desiredStatus !== undefined) this.write({ type: "set_status", ...this.desiredStatus });
    for (const [name, joined] of this.desiredChannels) {
      this.write({ type: joined ? "join_channel" : "leave_channel", name });
    }
  }

  private touchLiveness(): void {
    if (!this.authenticated) return;
    if (this.livenessTimer) clearTimeout(this.livenessTimer);
    this.livenessTimer = setTimeout(() => {
      this.livenessTimer = null;
      this.noteFailure(`broker silent for ${this.opts.deadAfterMs} ms`);
      this.dropSocket();
    }, this.opts.deadAfterMs);
  }

  private connectTimeoutError(timeoutMs: number): ClientError {
    if (this.lastFailure.startsWith("no hello_ack")) {
      return new ClientError(
        "timeout",
        `broker at ${this.httpBase} accepted the connection but did not answer the hello within ${timeoutMs} ms (${this.lastFailure})`,
      );
    }
    return new ClientError(
      "unreachable",
      `cannot reach broker at ${this.httpBase} (${this.lastFailure}) — is \`claudemesh broker\` running?`,
    );
  }

  private identity(): IdentityLabel {
    return { httpBase: this.httpBase, meshSlug: this.meshSlug, memberId: this.memberId, pubkey: this.pubkey };
  }

  private setState(state: ConnectionState): void {
    if (this._state === state) return;
    this._state = state;
    this.safeEmit("state", state);
  }

  // ------------------------------------------------------------------ frames in

  private onSocketMessage(text: string): void {
    this.touchLiveness();
    const parsed = parseServerFrame(text);
    if (!parsed.ok) {
      this.emitError(
        new ClientError("bad_response", `broker sent a frame this client cannot read: ${parsed.message}`),
      );
      return;
    }
    const frame = parsed.value;
    switch (frame.type) {
      case "hello_ack":
        if (!this.authenticated) this.onHelloAck(frame.presenceId, frame.memberDisplayName);
        return;
      case "error":
        this.onErrorFrame(frame);
        return;
      case "push":
        if (this.authenticated) this.onPush(frame);
        return;
      case "ack": {
        const item = this.outbox.takeInflight(frame.id);
        if (item) this.outbox.settleOk(item, { messageId: frame.messageId, queued: frame.queued });
        return;
      }
      case "peers": {
        const request = this.requests.get(frame.id);
        if (request) {
          this.requests.delete(frame.id);
          clearTimeout(request.timer);
          request.resolve(frame);
        }
        return;
      }
    }
  }

  private onErrorFrame(frame: ErrorFrame): void {
    if (!this.authenticated) {
      // Before hello_ack an error is the handshake verdict; the 1008 close that follows acts on it.
      if (isHandshakeRejection(frame.code)) this.handshakeCode = frame.code;
      this.noteFailure(`hello rejected: ${frame.code}`);
      return;
    }
    if (frame.id !== undefined) {
      const item = this.outbox.takeInflight(frame.id);
      if (item) {
        this.onSendError(item, frame);
        return;
      }
      const request = this.requests.get(frame.id);
      if (request) {
        this.requests.delete(frame.id);
        clearTimeout(request.timer);
        request.reject(new ClientError(frame.code, `broker refused the request: ${frame.message}`));
        return;
      }
    } else {
      // Frames without ids (set_summary, set_status, channels) are confirmed by a list_peers barrier.
      for (const [id, request] of this.requests) {
        if (!request.barrier) continue;
        this.requests.delete(id);
        clearTimeout(request.timer);
        request.reject(new ClientError(frame.code, `broker refused the update: ${frame.message}`));
        return;
      }
    }
    this.emitError(new ClientError(frame.code, `broker reported: ${frame.message}`));
  }

  private onPush(push: Push): void {
    if (this.seen.has(push.messageId)) {
      // A redelivery (lease expired or reconnect): ack again so the broker stops, emit nothing.
      this.acks.add(push.messageId);
      return;
    }
    this.seen.add(push.messageId);
    const meta: UndecryptableMessage = {
      messageId: push.messageId,
      meshId: push.meshId,
      meshSlug: this.meshSlug,
      from: push.senderName,
      fromPubkey: push.senderPubkey,
      targetSpec: push.targetSpec,
      kind: messageKind(push.targetSpec),
      priority: push.priority,
      sentAt: isoTime(push.createdAt),
    };
    const text = decryptDirect(
      { nonce: push.nonce, ciphertext: push.ciphertext },
      push.senderPubkey,
      this.secretKey,
    );
    if (text === null) {
      this.safeEmit("undecryptable", meta);
    } else {
      const message: InboundMessage = { ...meta, text };
      const evicted = this.inbox.push(message);
      if (evicted) {
        this.safeEmit("dropped", {
          messageId: evicted.messageId,
          droppedTotal: this.inbox.droppedTotal,
          bufferMax: this.inbox.max,
        });
      }
      this.safeEmit("message", message);
    }
    // Acked only now that it is buffered/emitted (or known undecryptable, so it does not loop).
    this.acks.add(push.messageId);
  }

  /** Returns and clears every buffered inbound message, oldest first. */
  drainInbox(): InboundMessage[] {
    return this.inbox.drain();
  }

  // ------------------------------------------------------------------ sends

  /**
   * Sends `message` to `targetSpec` — a pubkey, `*` or `#channel`, already resolved (see
   * resolveTarget). Resolves with the broker's ack. While disconnected the send waits in the
   * outbound queue (at most outboundQueueMax, else `queue_full`) and goes out after reconnect.
   */
  send(
    targetSpec: string,
    message: string,
    priority: Priority = "next",
    options: SendOptions = {},
  ): Promise<SendResult> {
    if (this._state === "closed") {
      return Promise.reject(
        this.closedError ?? new ClientError("closed", "this client was closed; create a new one"),
      );
    }
    let item: PendingSend;
    try {
      item = this.prepareSend(targetSpec, message, priority);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.outbox.waiting >= this.opts.outboundQueueMax) {
      return Promise.reject(
        new ClientError(
          "queue_full",
          `outbound queue is full (${this.opts.outboundQueueMax} messages waiting for broker at ${this.httpBase}; ${this.describeLink()}) — try again once it reconnects`,
        ),
      );
    }
    if (options.signal?.aborted) {
      return Promise.reject(new ClientError("aborted", "send aborted before it was queued"));
    }
    const promise = new Promise<SendResult>((resolve, reject) => {
      item.resolve = resolve;
      item.reject = reject;
    });
    if (options.signal) {
      const signal = options.signal;
      const onAbort = (): void => {
        const wasInflight = item.stage === "inflight";
        this.outbox.settleError(
          item,
          new ClientError(
            "aborted",
            wasInflight
              ? "send aborted while waiting for its ack; it may still be delivered"
              : "send aborted while queued; nothing was sent",
          ),
        );
      };
      signal.addEventListener("abort", onAbort, { once: true });
      item.detachSignal = () => signal.removeEventListener("abort", onAbort);
    }
    this.outbox.add(item);
    void this.pump();
    return promise;
  }

  private prepareSend(targetSpec: string, message: string, priority: Priority): PendingSend {
    const fanout = validateSend(targetSpec, message, priority, this.pubkey);
    const item: PendingSend = {
      targetSpec,
      priority,
      text: fanout ? message : "",
      mismatchRetries: 0,
      stage: "queued",
      settled: false,
      resolve: () => undefined,
      reject: () => undefined,
    };
    if (!fanout) {
      item.direct = cryptoCall(() => encryptDirect(message, targetSpec, this.secretKey));
      // Refuse an oversize direct message now rather than have the broker close the socket (1009).
      assertFrameSize(sendFrameText(item, "x".repeat(REQUEST_ID_CHARS)), this.opts.maxFrameBytes);
    }
    return item;
  }

  /** Writes queued sends in order while connected; fan-outs first fetch the current recipients. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        if (!this.authenticated) return;
        const item = this.outbox.nextQueued();
        if (!item) return;
        item.stage = "preparing";
        let text: string;
        const id = randomId();
        try {
          let envelopes: SealedEnvelope[] | undefined;
          if (item.direct === undefined) {
            const recipients = item.expected ?? (await this.currentRecipients(item.targetSpec));
            envelopes = cryptoCall(() => sealForRecipients(item.text, recipients, this.secretKey));
          }
          text = sendFrameText(item, id, envelopes);
          assertFrameSize(text, this.opts.maxFrameBytes, envelopes?.length);
        } catch (err) {
          if (item.settled) continue;
          if (err instanceof ClientError && err.code === "not_connected") {
            item.stage = "queued"; // the connection dropped while fetching recipients: retry after reconnect
            continue;
          }
          this.outbox.settleError(item, toClientError(err));
          continue;
        }
        if (item.settled) continue; // aborted while recipients were fetched
        if (!this.authenticated) {
          item.stage = "queued";
          return;
        }
        this.transmit(item, id, text);
      }
    } finally {
      this.pumping = false;
    }
  }

  private async currentRecipients(targetSpec: string): Promise<string[]> {
    const peers = await this.listPeers();
    return fanoutRecipients(targetSpec, peers, this.pubkey, this.meshSlug);
  }

  private transmit(item: PendingSend, id: string, text: string): void {
    this.outbox.markInflight(item, id, this.opts.sendAckTimeoutMs, () => {
      this.outbox.settleError(
        item,
        new ClientError(
          "timeout",
          `broker at ${this.httpBase} did not acknowledge the message within ${this.opts.sendAckTimeoutMs} ms; it may or may not have been delivered`,
        ),
      );
    });
    this.socket?.send(text);
  }

  private onSendError(item: PendingSend, frame: ErrorFrame): void {
    if (
      frame.code === "recipients_mismatch" &&
      frame.expected !== undefined &&
      item.mismatchRetries < this.opts.maxMismatchRetries
    ) {
      // The recipient set changed between list_peers and send (SPEC §3): re-seal to what the broker expects.
      const expected = frame.expected.filter((p) => p !== this.pubkey);
      if (expected.length > 0) {
        item.mismatchRetries += 1;
        item.expected = expected;
        item.stage = "queued";
        void this.pump();
        return;
      }
    }
    this.outbox.settleError(
      item,
      new ClientError(frame.code, sendErrorMessage(frame, item.targetSpec), { expected: frame.expected }),
    );
  }

  private describeLink(): string {
    return this._state === "open" ? "connected" : `${this._state}: ${this.lastFailure}`;
  }

  // ------------------------------------------------------------------ requests

  /** The mesh's peers as the broker sees them now (SPEC §3 list_peers); includes this session. */
  async listPeers(): Promise<Peer[]> {
    const frame = await this.request(false);
    return frame.type === "peers" ? frame.peers : [];
  }

  /** Sets the 1–2 sentence summary shown to peers (≤ 280 chars); kept and re-applied after reconnects. */
  async setSummary(summary: string): Promise<void> {
    if (!SummarySchema.safeParse(summary).success) {
      throw new ClientError("invalid_argument", "summary must be a string of at most 280 characters");
    }
    this.desiredSummary = summary;
    await this.update({ type: "set_summary", summary });
  }

  /** Sets this peer's status: `manual` (default) or the `jsonl` transcript reading (SPEC §3 status model). */
  async setStatus(status: Status, source: "manual" | "jsonl" = "manual"): Promise<void> {
    if (!StatusSchema.safeParse(status).success) {
      throw new ClientError(
        "invalid_argument",
        `status must be idle, working or dnd (got ${JSON.stringify(status)})`,
      );
    }
    if (source !== "manual" && source !== "jsonl") {
      throw new ClientError("invalid_argument", "status source must be manual or jsonl");
    }
    this.desiredStatus = { status, source };
    await this.update({ type: "set_status", status, source });
  }

  /** Joins a channel (`name` or `#name`); membership is re-applied after reconnects. */
  async joinChannel(name: string): Promise<void> {
    const channel = channelName(name);
    this.desiredChannels.set(channel, true);
    await this.update({ type: "join_channel", name: channel });
  }

  /** Leaves a channel (`name` or `#name`). */
  async leaveChannel(name: string): Promise<void> {
    const channel = channelName(name);
    this.desiredChannels.set(channel, false);
    await this.update({ type: "leave_channel", name: channel });
  }

  /**
   * Writes an id-less update and, when connected, confirms it with a list_peers barrier: the
   * broker answers frames of one connection in order, so an error frame before the barrier's
   * answer belongs to this update. When disconnected it resolves at once; the desired state is
   * applied on the next hello_ack.
   */
  private async update(frame: ClientFrame): Promise<void> {
    if (!this.authenticated) {
      if (this._state === "closed")
        throw this.closedError ?? new ClientError("closed", "this client was closed");
      return;
    }
    this.write(frame);
    try {
      await this.request(true);
    } catch (err) {
      // Dropped before the barrier answered: the update is re-applied on the next hello_ack anyway.
      if (err instanceof ClientError && err.code === "not_connected") return;
      throw err;
    }
  }

  private request(barrier: boolean): Promise<ServerFrame> {
    if (!this.authenticated || !this.socket) {
      return Promise.reject(
        new ClientError(
          "not_connected",
          `not connected to broker at ${this.httpBase} (${this.describeLink()})`,
        ),
      );
    }
    const id = randomId();
    return new Promise<ServerFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.requests.delete(id);
        reject(
          new ClientError(
            "timeout",
            `broker at ${this.httpBase} did not answer within ${this.opts.requestTimeoutMs} ms`,
          ),
        );
      }, this.opts.requestTimeoutMs);
      this.requests.set(id, { resolve, reject, timer, barrier });
      this.write({ type: "list_peers", id });
    });
  }

  private failRequests(error: ClientError): void {
    for (const request of this.requests.values()) {
      clearTimeout(request.timer);
      request.reject(error);
    }
    this.requests.clear();
  }

  private write(frame: ClientFrame): void {
    if (this.authenticated) this.socket?.send(JSON.stringify(frame));
  }

  // ------------------------------------------------------------------ events

  /** Emits without ever throwing into the socket's event loop (a throwing listener becomes an error event). */
  private safeEmit<K extends keyof BrokerClientEvents>(event: K, ...args: BrokerClientEvents[K]): void {
    try {
      // EventEmitter's generic emit cannot see through the mapped tuple of a generic K.
      (this.emit as (name: K, ...rest: unknown[]) => boolean)(event, ...args);
    } catch (err) {
      if (event !== "error") {
        this.emitError(new ClientError("internal", `a "${String(event)}" listener threw: ${errorText(err)}`));
      }
    }
  }

  /** "error" is emitted only when someone listens (an unheard EventEmitter error would throw). */
  private emitError(error: ClientError): void {
    if (this.listenerCount("error") > 0) this.safeEmit("error", error);
  }
}

/** True when `secretKey` is the 128-hex secret key whose public half is `pubkey`. */
function secretKeyMatches(secretKey: string, pubkey: string): boolean {
  try {
    return publicKeyFromSecretKey(secretKey) === pubkey;
  } catch {
    return false;
  }
}

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
] as const;

/** Rejects option values that would make the client misbehave silently (SPEC §7 numbers are all positive). */
function checkOptions(opts: BrokerClientOptions): void {
  for (const name of POSITIVE_OPTIONS) {
    const value = opts[name];
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      throw new ClientError("invalid_argument", `BrokerClient option ${name} must be a positive number`);
    }
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

function channelName(input: string): string {
  const name = input.startsWith("#") ? input.slice(1) : input;
  if (!ChannelNameSchema.safeParse(name).success) {
    throw new ClientError(
      "invalid_argument",
      `channel name "${input}" must be 1–64 lowercase letters, digits, . _ or - (e.g. #backend)`,
    );
  }
  return name;
}

function isoTime(value: string): string {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString();
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Crypto argument errors (e.g. a lone surrogate in the text) become `invalid_argument`. */
function cryptoCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ClientError) throw err;
    throw new ClientError("invalid_argument", `cannot encrypt the message: ${errorText(err)}`, {
      cause: err,
    });
  }
}

function toClientError(err: unknown): ClientError {
  return err instanceof ClientError ? err : new ClientError("internal", errorText(err), { cause: err });
}

function sendErrorMessage(frame: ErrorFrame, targetSpec: string): string {
  const target = targetSpec.length === 64 ? `${targetSpec.slice(0, 8)}…` : targetSpec;
  return `broker refused the message to ${target}: ${frame.message}`;
}
