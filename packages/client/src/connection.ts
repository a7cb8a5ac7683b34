// The connection part of BrokerClient: one socket at a time, the signed hello, reconnect backoff, liveness and close verdicts (SPEC §3, §7).
import { signHello } from "@claudemesh/crypto";
import {
  CLOSE_CODES,
  parseServerFrame,
  type ClientFrame,
  type ErrorFrame,
  type Hello,
  type ServerFrame,
} from "@claudemesh/protocol";
import { backoffDelay } from "./backoff.js";
import { classifyClose, type IdentityLabel } from "./close-reasons.js";
import { ClientError, isHandshakeRejection } from "./errors.js";
import type { FrameLink } from "./link.js";
import { describeNetworkError } from "./net-errors.js";
import type { ClientSocket, SocketFactory } from "./transport.js";
import type { ConnectionState } from "./types.js";

/** close() waits at most this long for the close handshake before dropping the socket. */
export const CLOSE_WAIT_MS = 1_000;

/** Who connects, and where (everything the hello needs). */
export interface ConnectionIdentity {
  httpBase: string;
  wsUrl: string;
  meshId: string;
  meshSlug: string;
  memberId: string;
  pubkey: string;
  secretKey: string;
  sessionId: string;
  pid: number;
  cwd: string;
}

export interface ConnectionOptions {
  helloAckTimeoutMs: number;
  backoffMs: number[];
  deadAfterMs: number;
  socketFactory: SocketFactory;
  now: () => number;
}

/** What the connection tells the parts above it. None of these may throw. */
export interface ConnectionListener {
  /** hello_ack arrived: authenticated, frames may be written now. */
  opened(): void;
  /** A frame that arrived while authenticated (every type but hello_ack). */
  frame(frame: ServerFrame): void;
  /** The socket is gone (authenticated or not); work tied to it must be undone. A reconnect or stopped() follows. */
  dropped(): void;
  /** Stopped for good, by close() (`closed`) or by a fatal verdict; pending work fails with `reason`. */
  stopped(reason: ClientError): void;
  state(state: ConnectionState): void;
  error(error: ClientError): void;
}

interface Waiter {
  resolve(): void;
  reject(error: ClientError): void;
  timer?: NodeJS.Timeout;
}

/** A reconnecting, authenticated socket; knows nothing about messages, only frames. */
export class Connection implements FrameLink {
  private _state: ConnectionState = "idle";
  private _displayName: string | undefined;
  private _presenceId: string | undefined;
  private socket: ClientSocket | null = null;
  /** Incremented per socket so late events of an old socket are ignored. */
  private generation = 0;
  private _authenticated = false;
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
  private _closedError: ClientError | null = null;
  private _reconnects = 0;

  constructor(
    private readonly who: ConnectionIdentity,
    private readonly opts: ConnectionOptions,
    private readonly listener: ConnectionListener,
    displayName?: string,
  ) {
    this._displayName = displayName;
  }

  get httpBase(): string {
    return this.who.httpBase;
  }

  get state(): ConnectionState {
    return this._state;
  }

  get authenticated(): boolean {
    return this._authenticated;
  }

  get displayName(): string | undefined {
    return this._displayName;
  }

  get presenceId(): string | undefined {
    return this._presenceId;
  }

  /** Successful hellos after the first one. */
  get reconnects(): number {
    return this._reconnects;
  }

  /** The fatal error that stopped this connection (null when it is open, or was closed by close()). */
  get closedError(): ClientError | null {
    return this._closedError;
  }

  /** The error for work attempted after the connection stopped. */
  closedReason(): ClientError {
    return this._closedError ?? new ClientError("closed", "this client was closed; create a new one");
  }

  write(frame: ClientFrame): boolean {
    return this.writeText(JSON.stringify(frame));
  }

  writeText(text: string): boolean {
    if (!this._authenticated || !this.socket) return false;
    return this.socket.send(text);
  }

  describeLink(): string {
    return this._state === "open" ? "connected" : `${this._state}: ${this.lastFailure}`;
  }

  /**
   * Connects and resolves on the first hello_ack. Network failures are retried with the
   * backoff schedule; a fatal hello rejection rejects with that code and stops.
   */
  connect(timeoutMs?: number): Promise<void> {
    if (this._state === "closed") return Promise.reject(this.closedReason());
    if (this._state === "open") return Promise.resolve();
    const promise = new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      if (timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          this.connectWaiters = this.connectWaiters.filter((w) => w !== waiter);
          reject(this.connectTimeoutError(timeoutMs));
        }, timeoutMs);
      }
      this.connectWaiters.push(waiter);
    });
    if (this._state === "idle") {
      this.setState("connecting");
      this.openSocket();
    }
    return promise;
  }

  /** Stops reconnecting, fails pending work with `closed` and closes the socket with 1000. */
  async close(): Promise<void> {
    if (this._state === "closed") return;
    const socket = this.socket;
    this.shutdown(new ClientError("closed", "client closed"));
    if (!socket) return;
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

  private shutdown(reason: ClientError): void {
    this._closedError = reason.code === "closed" ? null : reason;
    this.generation += 1; // ignore every later event of the current socket
    this.socket = null;
    this._authenticated = false;
    this.clearTimers();
    this.listener.stopped(reason);
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
    this._authenticated = false;
    const guard =
      <A extends unknown[]>(fn: (...args: A) => void) =>
      (...args: A): void => {
        if (gen === this.generation) fn(...args);
      };
    try {
      this.socket = this.opts.socketFactory(this.who.wsUrl, {
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
    const { meshId, memberId, pubkey, secretKey, sessionId, pid, cwd } = this.who;
    const { timestamp, signature } = signHello(meshId, memberId, pubkey, secretKey, this.opts.now());
    const hello: Hello = {
      type: "hello",
      meshId,
      memberId,
      pubkey,
      sessionId,
      pid,
      cwd,
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
    this._authenticated = false;
    this.clearTimers();
    this.listener.dropped();
    const verdict = classifyClose(code, reason, this.handshakeCode, this.identity());
    if (verdict.fatal) {
      this.shutdown(verdict.fatal);
      this.listener.error(verdict.fatal);
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
    this._authenticated = true;
    this.attempt = 0;
    this._presenceId = presenceId;
    this._displayName = displayName;
    if (this.everOpened) this._reconnects += 1;
    this.everOpened = true;
    this.touchLiveness();
    // Presence re-apply and receipts are written before the state event, as before the split.
    this.listener.opened();
    this.setState("open");
    for (const waiter of this.connectWaiters.splice(0)) {
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.resolve();
    }
  }

  private touchLiveness(): void {
    if (!this._authenticated) return;
    if (this.livenessTimer) clearTimeout(this.livenessTimer);
    this.livenessTimer = setTimeout(() => {
      this.livenessTimer = null;
      this.noteFailure(`broker silent for ${this.opts.deadAfterMs} ms`);
      this.dropSocket();
    }, this.opts.deadAfterMs);
  }

  private onSocketMessage(text: string): void {
    this.touchLiveness();
    const parsed = parseServerFrame(text);
    if (!parsed.ok) {
      this.listener.error(
        new ClientError("bad_response", `broker sent a frame this client cannot read: ${parsed.message}`),
      );
      return;
    }
    const frame = parsed.value;
    if (frame.type === "hello_ack") {
      if (!this._authenticated) this.onHelloAck(frame.presenceId, frame.memberDisplayName);
      return;
    }
    if (this._authenticated) {
      this.listener.frame(frame);
    } else if (frame.type === "error") {
      this.onHandshakeError(frame);
    }
  }

  /** Before hello_ack an error is the handshake verdict; the 1008 close that follows acts on it. */
  private onHandshakeError(frame: ErrorFrame): void {
    if (isHandshakeRejection(frame.code)) this.handshakeCode = frame.code;
    this.noteFailure(`hello rejected: ${frame.code}`);
  }

  private connectTimeoutError(timeoutMs: number): ClientError {
    if (this.lastFailure.startsWith("no hello_ack")) {
      return new ClientError(
        "timeout",
        `broker at ${this.who.httpBase} accepted the connection but did not answer the hello within ${timeoutMs} ms (${this.lastFailure})`,
      );
    }
    return new ClientError(
      "unreachable",
      `cannot reach broker at ${this.who.httpBase} (${this.lastFailure}) — is \`claudemesh broker\` running?`,
    );
  }

  private identity(): IdentityLabel {
    const { httpBase, meshSlug, memberId, pubkey } = this.who;
    return { httpBase, meshSlug, memberId, pubkey };
  }

  private setState(state: ConnectionState): void {
    if (this._state === state) return;
    this._state = state;
    this.listener.state(state);
  }
}
