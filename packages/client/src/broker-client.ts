// BrokerClient: one authenticated WebSocket session to a broker — the facade over connection, inbound, send, request, receipt and presence parts (SPEC §3, §4, §7).
import { EventEmitter } from "node:events";
import {
  MessageStatusRequestSchema,
  PubkeySchema,
  type Peer,
  type Priority,
  type ServerFrame,
  type Status,
} from "@claudemesh/protocol";
import { publicKeyFromSecretKey } from "@claudemesh/crypto";
import { resolveOptions, type BrokerClientOptions } from "./client-options.js";
import { CLOSE_WAIT_MS, Connection } from "./connection.js";
import { ClientError } from "./errors.js";
import { fanoutRecipients } from "./fanout.js";
import { InboundPipeline } from "./inbound.js";
import { collectPeers, DEFAULT_MAX_PEERS, listPeersFrame, type PeersPage } from "./peer-pages.js";
import { PresenceSettings } from "./presence-settings.js";
import { ReceiptQueue } from "./receipts.js";
import { Requests } from "./requests.js";
import { SendPump, type SendOptions } from "./send-pump.js";
import { brokerUrls } from "./urls.js";
import type {
  ConnectionState,
  DroppedNotice,
  InboundMessage,
  MessageStatus,
  Receipt,
  SendResult,
  UndecryptableMessage,
} from "./types.js";

export type { SendOptions } from "./send-pump.js";
export { DEFAULT_MAX_PEERS, type PeersPage } from "./peer-pages.js";
export {
  DEFAULT_DEDUP_MAX,
  DEFAULT_MAX_MISMATCH_RETRIES,
  type BrokerClientOptions,
} from "./client-options.js";
export type { InboundSink } from "./inbound.js";

/** Largest messageIds list in one message_status request (protocol schema cap). */
const MAX_STATUS_IDS_PER_REQUEST = 1_000;

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

/** Typed event map of BrokerClient. */
export interface BrokerClientEvents {
  state: [state: ConnectionState];
  message: [message: InboundMessage];
  undecryptable: [notice: UndecryptableMessage];
  /** Non-fatal problems, and the fatal one (error.fatal = true) that stopped reconnecting. */
  error: [error: ClientError];
  dropped: [notice: DroppedNotice];
  /** A recipient's copy of a message this session sent changed state (delivered, shown, expired, revoked). */
  receipt: [receipt: Receipt];
}

/**
 * A reconnecting, authenticated session for one identity in one mesh. Used by the CLI
 * (one-shot commands) and the MCP server (long-lived).
 *
 * Delivery semantics (SPEC §3): inbound messages are handed on once per messageId and per
 * (senderPubkey, nonce) — dedup across redeliveries and reconnects — and acknowledged only after
 * the hand-off (buffered and emitted, or accepted by the inboundSink). Outbound sends keep one
 * id per message across reconnects and re-seals: a send whose frame was written but whose ack was
 * lost to a dropped connection is written again after reconnect under the same id, which the
 * broker acks with the messageId it already stored. Acked sends are never re-sent.
 *
 * The parts, each with one job: Connection (socket, hello, backoff, liveness), InboundPipeline
 * (dedup → decrypt → hand-off → ack), SendPump (outbox, sealing, mismatch retry, stable ids),
 * Requests (id-correlated replies, barriers), ReceiptQueue and PresenceSettings. This class
 * wires them together and routes broker frames to them.
 */
export class BrokerClient extends EventEmitter<BrokerClientEvents> {
  readonly meshId: string;
  readonly meshSlug: string;
  readonly memberId: string;
  readonly pubkey: string;
  readonly httpBase: string;
  readonly wsUrl: string;
  private readonly opts: BrokerClientOptions;

  private readonly conn: Connection;
  private readonly inbound: InboundPipeline;
  private readonly sends: SendPump;
  private readonly requests: Requests;
  private readonly receipts: ReceiptQueue;
  private readonly presence: PresenceSettings;

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
    this.opts = resolveOptions(config.options);
    const secretKey = config.secretKey;

    this.conn = new Connection(
      {
        httpBase: this.httpBase,
        wsUrl: this.wsUrl,
        meshId: this.meshId,
        meshSlug: this.meshSlug,
        memberId: this.memberId,
        pubkey: this.pubkey,
        secretKey,
        sessionId: config.sessionId ?? "",
        pid: config.pid ?? process.pid,
        cwd: config.cwd ?? process.cwd(),
      },
      this.opts,
      {
        opened: () => this.onOpened(),
        frame: (frame) => this.onFrame(frame),
        dropped: () => this.onDropped(),
        stopped: (reason) => this.onStopped(reason),
        state: (state) => this.safeEmit("state", state),
        error: (error) => this.emitError(error),
      },
      config.displayName,
    );
    const link = this.conn;
    this.inbound = new InboundPipeline({
      link,
      meshSlug: this.meshSlug,
      secretKey,
      sink: this.opts.inboundSink,
      pushBufferMax: this.opts.pushBufferMax,
      dedupMax: this.opts.dedupMax,
      events: {
        message: (message) => this.safeEmit("message", message),
        undecryptable: (notice) => this.safeEmit("undecryptable", notice),
        dropped: (notice) => this.safeEmit("dropped", notice),
        error: (error) => this.emitError(error),
      },
    });
    this.requests = new Requests(link, this.opts.requestTimeoutMs);
    this.sends = new SendPump({
      link,
      pubkey: this.pubkey,
      secretKey,
      meshId: this.meshId,
      recipients: async (targetSpec) =>
        fanoutRecipients(targetSpec, await this.listPeers(), this.pubkey, this.meshSlug),
      options: this.opts,
    });
    this.receipts = new ReceiptQueue(link, this.opts.receiptBacklogMax, (error) => this.emitError(error));
    this.presence = new PresenceSettings({
      link,
      // The smallest reply the broker can give: only its ordering matters, not the peers.
      barrier: () => this.requests.request("peers", (id) => ({ type: "list_peers", id, limit: 1 }), true),
      stopped: () => (this.conn.state === "closed" ? this.conn.closedReason() : null),
    });
  }

  // ------------------------------------------------------------------ public state

  get state(): ConnectionState {
    return this.conn.state;
  }

  /** True while authenticated (after hello_ack, before a drop). */
  get isOpen(): boolean {
    return this.conn.state === "open";
  }

  /** The display name the broker reported in hello_ack (or the configured one before that). */
  get displayName(): string | undefined {
    return this.conn.displayName;
  }

  get presenceId(): string | undefined {
    return this.conn.presenceId;
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
      queued: this.sends.waiting,
      inflight: this.sends.inflight,
      buffered: this.inbound.buffered,
      droppedTotal: this.inbound.droppedTotal,
      reconnects: this.conn.reconnects,
    };
  }

  // ------------------------------------------------------------------ connection lifecycle

  /**
   * Connects and resolves on the first hello_ack. Network failures are retried with the
   * backoff schedule; a fatal hello rejection (unauthorized, revoked, bad_signature, …)
   * rejects with that code and stops. Calling it again while connected resolves at once.
   */
  connect(options: ConnectOptions = {}): Promise<void> {
    return this.conn.connect(options.timeoutMs);
  }

  /**
   * Stops reconnecting, flushes pending client_acks, rejects pending work with `closed`, closes
   * with 1000. With an inboundSink, hand-offs in progress get up to a second to settle first, so
   * what they accepted is acked rather than delivered again.
   */
  async close(): Promise<void> {
    if (this.conn.state === "closed") return;
    if (this.conn.authenticated && this.inbound.handingOff > 0) {
      await this.inbound.settled(CLOSE_WAIT_MS);
      if (this.isStopped()) return; // closed meanwhile: another close(), or a fatal verdict
    }
    if (this.conn.authenticated) this.inbound.flushAcks();
    await this.conn.close();
  }

  private isStopped(): boolean {
    return this.conn.state === "closed";
  }

  private onOpened(): void {
    this.presence.reapply();
    this.receipts.flush();
    this.sends.kick();
  }

  private onDropped(): void {
    this.inbound.dropped(); // unacked pushes are redelivered by the broker after the drop (SPEC §3)
    this.sends.requeue();
    this.requests.failAll(
      new ClientError(
        "not_connected",
        `connection to broker at ${this.httpBase} dropped; retrying in the background`,
      ),
    );
  }

  private onStopped(reason: ClientError): void {
    this.inbound.dropped();
    this.requests.failAll(reason);
    this.sends.failAll(reason);
  }

  // ------------------------------------------------------------------ frames in

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case "hello_ack":
        return; // handled by the connection
      case "push":
        this.inbound.onPush(frame);
        return;
      case "ack":
        this.sends.onAck(frame);
        return;
      case "peers":
      case "message_status":
        this.requests.resolve(frame);
        return;
      case "receipt":
        this.safeEmit("receipt", {
          messageId: frame.messageId,
          recipientPubkey: frame.recipientPubkey,
          state: frame.state,
          at: frame.at,
        });
        return;
      case "error": {
        const { id } = frame;
        const handled =
          id === undefined
            ? // Frames without ids (set_summary, set_status, channels) are confirmed by a list_peers barrier.
              this.requests.rejectBarrier(frame)
            : this.sends.onError({ ...frame, id }) || this.requests.rejectById({ ...frame, id });
        if (!handled) this.emitError(new ClientError(frame.code, `broker reported: ${frame.message}`));
        return;
      }
    }
  }

  /** Returns and clears every buffered inbound message, oldest first (always empty with an inboundSink). */
  drainInbox(): InboundMessage[] {
    return this.inbound.drain();
  }

  // ------------------------------------------------------------------ sends

  /**
   * Sends `message` to `targetSpec` — a pubkey, `*` or `#channel`, already resolved (see
   * resolveTarget). Resolves with the broker's ack (its messageId). While disconnected the send
   * waits in the outbound queue (at most outboundQueueMax, else `queue_full`) and goes out after
   * reconnect, under the same send id.
   */
  send(
    targetSpec: string,
    message: string,
    priority: Priority = "next",
    options: SendOptions = {},
  ): Promise<SendResult> {
    if (this.conn.state === "closed") return Promise.reject(this.conn.closedReason());
    return this.sends.send(targetSpec, message, priority, options);
  }

  // ------------------------------------------------------------------ receipts

  /**
   * Tells the senders that these inbound messages are now in the agent's context (SPEC §3
   * `receipt`, state `shown`). Written at once when connected (after any pending client_acks);
   * otherwise kept — at most receiptBacklogMax ids, the oldest dropped with an `error` event —
   * and written after the next hello_ack. Throws `invalid_argument` for malformed ids or a
   * state other than `shown`; after close() it emits a `closed` error event instead.
   */
  sendReceipt(messageIds: string[], state: "shown"): void {
    if (this.conn.state === "closed") {
      // Nothing can carry it any more; reported, not thrown, so a late caller on a shutdown path does not break.
      this.emitError(
        new ClientError(
          "closed",
          `receipt for ${messageIds.length} message(s) not sent: this client was closed`,
        ),
      );
      return;
    }
    if (this.conn.authenticated) this.inbound.flushAcks(); // delivered before shown, on the wire too
    this.receipts.add(messageIds, state);
  }

  // ------------------------------------------------------------------ requests

  /**
   * The mesh's peers as the broker sees them now (SPEC §3 list_peers); includes this session.
   * Pages through the broker's replies and stops after `max` peers (default DEFAULT_MAX_PEERS);
   * listPeersBounded says whether it stopped early.
   */
  async listPeers(options: { max?: number } = {}): Promise<Peer[]> {
    return (await this.listPeersBounded(options.max ?? DEFAULT_MAX_PEERS)).peers;
  }

  /** Up to `max` peers in join order; `truncated` is true when the mesh has more. */
  listPeersBounded(max: number): Promise<{ peers: Peer[]; truncated: boolean }> {
    return collectPeers((limit, after) => this.listPeersPage({ limit, after }), max);
  }

  /**
   * One list_peers reply (claudemesh extension, docs/PROTOCOL.md): up to `limit` peers (1 to
   * MAX_PEERS_PAGE; omitted: the broker's default, DEFAULT_PEERS_PAGE) after the cursor `after`
   * (the `next` of the previous page); `next` is null on the last page. Rejects with
   * `invalid_argument` for a bad limit, with the wire code `malformed` for a cursor the broker
   * does not know.
   */
  async listPeersPage(
    options: { limit?: number | undefined; after?: string | undefined } = {},
  ): Promise<PeersPage> {
    const frame = await this.requests.request("peers", (id) =>
      listPeersFrame(id, options.limit, options.after),
    );
    return { peers: frame.peers, next: frame.next ?? null };
  }

  /**
   * Where messages this session sent stand, per recipient (SPEC §3 message_status), one entry
   * per id in request order; an id the broker does not know as this session's has no recipients.
   * Rejects with `not_connected` when not connected, `invalid_argument` for malformed ids.
   */
  async messageStatus(messageIds: string[]): Promise<MessageStatus[]> {
    if (!Array.isArray(messageIds)) {
      throw new ClientError("invalid_argument", "messageStatus takes an array of message ids");
    }
    const check = MessageStatusRequestSchema.shape.messageIds.element;
    for (const id of messageIds) {
      if (!check.safeParse(id).success) {
        throw new ClientError(
          "invalid_argument",
          `messageStatus ids must be message ids as send() returned them (got ${JSON.stringify(id)})`,
        );
      }
    }
    const out: MessageStatus[] = [];
    for (let i = 0; i < messageIds.length; i += MAX_STATUS_IDS_PER_REQUEST) {
      const chunk = messageIds.slice(i, i + MAX_STATUS_IDS_PER_REQUEST);
      const reply = await this.requests.request("message_status", (id) => ({
        type: "message_status",
        id,
        messageIds: chunk,
      }));
      for (const entry of reply.statuses) {
        out.push({
          messageId: entry.messageId,
          recipients: entry.recipients.map((r) => ({ pubkey: r.pubkey, state: r.state, at: r.at })),
        });
      }
    }
    return out;
  }

  /** Sets the 1–2 sentence summary shown to peers (≤ 280 chars); kept and re-applied after reconnects. */
  setSummary(summary: string): Promise<void> {
    return this.presence.setSummary(summary);
  }

  /** Sets this peer's status: `manual` (default) or the `jsonl` transcript reading (SPEC §3 status model). */
  setStatus(status: Status, source: "manual" | "jsonl" = "manual"): Promise<void> {
    return this.presence.setStatus(status, source);
  }

  /** Joins a channel (`name` or `#name`); membership is re-applied after reconnects. */
  joinChannel(name: string): Promise<void> {
    return this.presence.joinChannel(name);
  }

  /** Leaves a channel (`name` or `#name`). */
  leaveChannel(name: string): Promise<void> {
    return this.presence.leaveChannel(name);
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

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
