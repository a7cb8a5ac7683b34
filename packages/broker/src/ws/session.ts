// One WebSocket connection: its handshake phase, outbound frame helpers, and per-connection limits.
import type { Socket } from "node:net";
import type { WebSocket } from "ws";
import type { ErrorCode, ServerFrame, Status } from "@claudemesh/protocol";
import type { MemberRow } from "../store/types.js";
import { TokenBucket } from "../rate-limit.js";
import type { Drainer } from "./drain.js";
import type { LocalPeer } from "./presence.js";

export type Phase = "awaiting_hello" | "authenticating" | "ready" | "closed";

/** Frames read while the hello is being checked; more than this before hello_ack get `no_hello`. */
export const MAX_HELD_FRAMES = 64;

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
  teardown: Promise<void> | null = null;
  /** A hook status that arrived (over HTTP) while this connection's hello was being completed. */
  earlyHook: { status: Status; at: number } | null = null;
  readonly frames: TokenBucket;
  private corked = false;

  constructor(
    readonly socket: WebSocket,
    readonly connId: string,
    readonly remote: string,
    now: number,
    limits: { framesPerSec: number; burst: number },
  ) {
    this.lastSeenAt = now;
    this.frames = new TokenBucket(limits.framesPerSec, limits.burst, now);
  }

  /** True once teardown has begun (a getter, so checks after an await are not narrowed away). */
  get closed(): boolean {
    return this.phase === "closed";
  }

  get isOpen(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  /** The authenticated member; only valid once `phase` is `ready`. */
  get me(): MemberRow {
    if (!this.member) throw new Error("session is not authenticated");
    return this.member;
  }

  /**
   * Sends one text frame. Frames sent in the same tick (a claim batch of pushes, the acks of one
   * group commit) are corked into one write: a syscall per frame dominated the broker's profile.
   */
  sendRaw(raw: string): void {
    if (!this.isOpen) return;
    if (!this.corked) {
      // ws keeps the net.Socket as `_socket`; cork/uncork are counted, so ws's own corking nests.
      const net = (this.socket as unknown as { _socket?: Socket })._socket;
      if (net) {
        net.cork();
        this.corked = true;
        process.nextTick(() => {
          this.corked = false;
          net.uncork();
        });
      }
    }
    this.socket.send(raw);
  }

  send(frame: ServerFrame): void {
    this.sendRaw(JSON.stringify(frame));
  }

  /** `{type:"error", code, message, id?, expected?}` (SPEC §3); the connection stays open. */
  sendError(
    code: ErrorCode,
    message: string,
    extra: { id?: string | undefined; expected?: string[] } = {},
  ): void {
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
