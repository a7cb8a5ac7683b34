// The one way a frame reaches a socket: corked writes under a per-connection outbound byte budget (SPEC §7, close 1013).
import type { Socket } from "node:net";
import type { WebSocket } from "ws";
import { CLOSE_CODES } from "@claudemesh/protocol";

/**
 * Loops that write many frames (the claim/drain loop, receipt pulls) pause while more than this is
 * queued on the socket, so a slow but reading peer is throttled long before it reaches the budget.
 */
export const SOCKET_HIGH_WATER_BYTES = 512 * 1024;

/** A socket closed for its budget is cut this much later if it has not taken our close frame. */
export const OVERFLOW_TERMINATE_MS = 1_000;

/** What the connection is told when a write would overflow the budget. */
export interface Overflow {
  /** Bytes already queued on the socket. */
  queued: number;
  /** Bytes of the frame that did not fit. */
  frameBytes: number;
  limit: number;
}

/**
 * Every frame the broker writes to one socket passes through `write`: it checks the bytes already
 * queued (`socket.bufferedAmount`, which counts what the peer has not read yet) plus the frame
 * against the budget. A frame that does not fit is not written; the connection is closed with 1013
 * (try again later) and `onOverflow` runs, whose owner releases the connection's leases. Nothing
 * is written after that, so one connection holds at most `limit` bytes of unread output.
 */
export class Outbound {
  private corked = false;
  private overflowed = false;
  private limitBytes: number;
  /** Most bytes seen queued on this socket right after a write. */
  peak = 0;

  constructor(
    private readonly socket: WebSocket,
    limitBytes: number,
    private readonly onOverflow: (overflow: Overflow) => void,
    /** Called with each new per-socket peak (a broker-wide gauge). */
    private readonly onPeak: (bytes: number) => void = () => undefined,
  ) {
    this.limitBytes = limitBytes;
  }

  /** The budget in force (small before hello, the full one after). */
  get limit(): number {
    return this.limitBytes;
  }

  /** Switches the budget (at hello_ack). */
  setLimit(bytes: number): void {
    this.limitBytes = bytes;
  }

  /** Bytes written and not yet taken by the peer. */
  get queued(): number {
    return this.socket.bufferedAmount;
  }

  /** Where writing loops should pause: the high-water mark, or a quarter of a smaller budget. */
  get highWater(): number {
    return Math.min(SOCKET_HIGH_WATER_BYTES, Math.floor(this.limitBytes / 4));
  }

  /** True once the budget was exceeded (the socket is closing). */
  get closed(): boolean {
    return this.overflowed;
  }

  /**
   * Writes one text frame; false when it was not written (socket not open, or the budget would be
   * exceeded, in which case the connection is being closed with 1013). Frames written in the same
   * tick (a claim batch of pushes, the acks of one group commit) are corked into one write: a
   * syscall per frame dominated the broker's profile.
   */
  write(raw: string): boolean {
    if (this.overflowed || this.socket.readyState !== this.socket.OPEN) return false;
    const queued = this.socket.bufferedAmount;
    const frameBytes = Buffer.byteLength(raw);
    if (queued + frameBytes > this.limitBytes) {
      this.overflow({ queued, frameBytes, limit: this.limitBytes });
      return false;
    }
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
    const after = queued + frameBytes;
    if (after > this.peak) {
      this.peak = after;
      this.onPeak(after);
    }
    return true;
  }

  private overflow(overflow: Overflow): void {
    this.overflowed = true;
    // The close frame queues behind the unread bytes; a peer that is not reading never takes it,
    // so the socket (and everything queued on it) is cut shortly after.
    this.socket.close(CLOSE_CODES.tryAgainLater, "outbound_overflow: read your frames faster");
    setTimeout(() => this.socket.terminate(), OVERFLOW_TERMINATE_MS).unref();
    this.onOverflow(overflow);
  }
}
