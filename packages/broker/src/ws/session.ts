// One WebSocket connection: its handshake phase, outbound frames (through its byte budget), and per-connection limits.
import type { WebSocket } from "ws";
import { CLOSE_CODES, type ErrorCode, type ServerFrame, type Status } from "@claudemesh/protocol";
import type { MemberRow } from "../store/types.js";
import { TokenBucket } from "../rate-limit.js";
import type { Drainer } from "./drain.js";
import { Outbound, type Overflow } from "./outbound.js";
import { ErrorReplyBudget, type ErrorReplyLimits } from "./outbound-errors.js";
import type { LocalPeer } from "./presence.js";

export type Phase = "awaiting_hello" | "authenticating" | "ready" | "closed";

/** Frames read while the hello is being checked; more than this before hello_ack get `no_hello`. */
export const MAX_HELD_FRAMES = 64;

/** Per-connection limits (options) a session is created with. */
export interface SessionLimits {
  framesPerSec: number;
  burst: number;
  errors: ErrorReplyLimits;
  /** Outbound byte budget before the hello completes (the full one is set at hello_ack). */
  preHelloOutboundBytes: number;
}

/** What the owner of the session does when a limit closes it (release leases, count it). */
export interface SessionHooks {
  now(): number;
  /** The outbound byte budget was exceeded: the socket is closing with 1013. */
  onOverflow(overflow: Overflow): void;
  /** The error-reply allowance was used up: the socket is closing with 1008 `rate_limited`. */
  onErrorFlood(): void;
  /** A new per-socket peak of queued outbound bytes. */
  onPeak?(bytes: number): void;
}

/** Everything the broker knows about one socket. Created on upgrade, dropped on close. */
export class Session {
  phase: Phase = "awaiting_hello";
  /** Last frame or pong (liveness, SPEC §3). */
  lastSeenAt: number;
  helloTimer: NodeJS.Timeout | null = null;
  /** Frames that arrived after the hello while it was being checked; replayed once it succeeds. */
  held: string[] = [];
  member: MemberRow | null = null;
  presenceId: string | null = null;
  peer: LocalPeer | null = null;
  drainer: Drainer | null = null;
  /** Set when a newer connection of the same identity took over (newest wins). */
  replaced = false;
  /** Serializes the routing of this connection's sends so their storage order is their arrival order. */
  sendChain: Promise<void> = Promise.resolve();
  /** Serializes channel joins and leaves, so the per-member channel cap is checked one join at a time. */
  channelChain: Promise<void> = Promise.resolve();
  teardown: Promise<void> | null = null;
  /** A hook status that arrived (over HTTP) while this connection's hello was being completed. */
  earlyHook: { status: Status; at: number } | null = null;
  readonly frames: TokenBucket;
  /** Every write to the socket (the outbound byte budget, SPEC §7). */
  readonly outbound: Outbound;
  private readonly errors: ErrorReplyBudget;

  constructor(
    readonly socket: WebSocket,
    readonly connId: string,
    readonly remote: string,
    now: number,
    limits: SessionLimits,
    private readonly hooks: SessionHooks,
  ) {
    this.lastSeenAt = now;
    this.frames = new TokenBucket(limits.framesPerSec, limits.burst, now);
    this.errors = new ErrorReplyBudget(limits.errors);
    this.outbound = new Outbound(
      socket,
      limits.preHelloOutboundBytes,
      (overflow) => hooks.onOverflow(overflow),
      hooks.onPeak,
    );
  }

  /** True once teardown has begun (a getter, so checks after an await are not narrowed away). */
  get closed(): boolean {
    return this.phase === "closed";
  }

  get isOpen(): boolean {
    return this.socket.readyState === this.socket.OPEN && !this.outbound.closed;
  }

  /** The authenticated member; only valid once `phase` is `ready`. */
  get me(): MemberRow {
    if (!this.member) throw new Error("session is not authenticated");
    return this.member;
  }

  /** Lifts the pre-hello limits to the authenticated ones; called right before hello_ack. */
  authenticated(maxOutboundBytes: number): void {
    this.outbound.setLimit(maxOutboundBytes);
    this.errors.authenticated(this.hooks.now());
  }

  /** Sends one text frame under the outbound byte budget; false when it was not written. */
  sendRaw(raw: string): boolean {
    return this.outbound.write(raw);
  }

  send(frame: ServerFrame): boolean {
    return this.sendRaw(JSON.stringify(frame));
  }

  /**
   * `{type:"error", code, message, id?, expected?}` (SPEC §3); the connection stays open — unless
   * it has used up its error-reply allowance, in which case nothing is written and it is closed
   * with 1008 `rate_limited` (a flood of bad frames is closed, not answered).
   */
  sendError(
    code: ErrorCode,
    message: string,
    extra: { id?: string | undefined; expected?: string[] } = {},
  ): void {
    if (!this.isOpen) return;
    if (!this.errors.take(this.hooks.now())) {
      this.close(CLOSE_CODES.policyViolation, "rate_limited: too many rejected frames on this connection");
      this.hooks.onErrorFlood();
      return;
    }
    const frame: ServerFrame = { type: "error", code, message };
    if (extra.id !== undefined) frame.id = extra.id;
    if (extra.expected !== undefined) frame.expected = extra.expected;
    this.send(frame);
  }

  /** Closes with `code` and `reason` as close text (≤ 123 bytes per RFC 6455 §5.5). */
  close(code: number, reason: string): void {
    const state = this.socket.readyState;
    if (state === this.socket.CLOSED || state === this.socket.CLOSING) return;
    this.socket.close(code, Buffer.from(reason).subarray(0, 123).toString());
  }
}
