// The request part of BrokerClient: id-correlated request/reply frames (list_peers, message_status) and the setter barrier (SPEC §3).
import { randomId } from "@claudemesh/crypto";
import type { ClientFrame, ErrorFrame, ServerFrame } from "@claudemesh/protocol";
import { ClientError } from "./errors.js";
import type { FrameLink } from "./link.js";

/** Server frames that answer a request by its id. */
export type ReplyFrame = Extract<ServerFrame, { type: "peers" | "message_status" }>;
export type ReplyType = ReplyFrame["type"];

interface PendingRequest {
  replyType: ReplyType;
  resolve(frame: ReplyFrame): void;
  reject(error: ClientError): void;
  timer: NodeJS.Timeout;
  /** Setter barrier: id-less error frames that arrive while it waits are attributed to it. */
  barrier: boolean;
}

/** Requests in flight on the current connection; every one settles once (reply, error, timeout or drop). */
export class Requests {
  private readonly pending = new Map<string, PendingRequest>();

  constructor(
    private readonly link: FrameLink,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Writes `build(id)` under a fresh id and resolves with the reply of type `replyType`. Rejects at
   * once with `not_connected` when not authenticated, with `timeout` after timeoutMs, with the wire
   * code on an error frame carrying the id, and with `bad_response` on a reply of another type.
   * A `barrier` request also takes the next id-less error frame (see rejectBarrier).
   */
  request<T extends ReplyType>(
    replyType: T,
    build: (id: string) => ClientFrame,
    barrier = false,
  ): Promise<Extract<ReplyFrame, { type: T }>> {
    if (!this.link.authenticated) {
      return Promise.reject(
        new ClientError(
          "not_connected",
          `not connected to broker at ${this.link.httpBase} (${this.link.describeLink()})`,
        ),
      );
    }
    const id = randomId();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new ClientError(
            "timeout",
            `broker at ${this.link.httpBase} did not answer within ${this.timeoutMs} ms`,
          ),
        );
      }, this.timeoutMs);
      this.pending.set(id, {
        replyType,
        resolve: resolve as (frame: ReplyFrame) => void,
        reject,
        timer,
        barrier,
      });
      this.link.write(build(id));
    });
  }

  /** Settles the request `frame` answers; false when none waits for its id (late or unknown). */
  resolve(frame: ReplyFrame): boolean {
    const request = this.take(frame.id);
    if (!request) return false;
    if (frame.type === request.replyType) {
      request.resolve(frame);
    } else {
      request.reject(
        new ClientError(
          "bad_response",
          `broker answered a ${request.replyType} request with a ${frame.type} frame`,
        ),
      );
    }
    return true;
  }

  /** Rejects the request an error frame with an id refers to; false when none waits for it. */
  rejectById(frame: ErrorFrame & { id: string }): boolean {
    const request = this.take(frame.id);
    if (!request) return false;
    request.reject(new ClientError(frame.code, `broker refused the request: ${frame.message}`));
    return true;
  }

  /**
   * Attributes an id-less error frame to the oldest waiting barrier: the broker answers the frames
   * of one connection in order, so an error before the barrier's reply belongs to the update
   * written just before it. False when no barrier waits.
   */
  rejectBarrier(frame: ErrorFrame): boolean {
    for (const [id, request] of this.pending) {
      if (!request.barrier) continue;
      this.take(id);
      request.reject(new ClientError(frame.code, `broker refused the update: ${frame.message}`));
      return true;
    }
    return false;
  }

  /** Rejects every waiting request with `error` (connection dropped or closed). */
  failAll(error: ClientError): void {
    const requests = [...this.pending.values()];
    this.pending.clear();
    for (const request of requests) {
      clearTimeout(request.timer);
      request.reject(error);
    }
  }

  get size(): number {
    return this.pending.size;
  }

  private take(id: string): PendingRequest | undefined {
    const request = this.pending.get(id);
    if (!request) return undefined;
    this.pending.delete(id);
    clearTimeout(request.timer);
    return request;
  }
}
