// The receipt part of BrokerClient: `shown` receipts written now when connected, kept (bounded) and written after a reconnect otherwise (SPEC §3).
import { ReceiptFrameSchema } from "@claudemesh/protocol";
import { ClientError } from "./errors.js";
import type { FrameLink } from "./link.js";

/** Largest messageIds list in one receipt frame (protocol schema cap). */
export const MAX_RECEIPT_IDS_PER_FRAME = 1_000;
/** Receipt ids kept while disconnected before the oldest are dropped. */
export const DEFAULT_RECEIPT_BACKLOG_MAX = 10_000;

/** Receipts not yet written, in order; ids written once are forgotten (a receipt is metadata, not a message). */
export class ReceiptQueue {
  private readonly backlog = new Set<string>();

  constructor(
    private readonly link: FrameLink,
    private readonly max: number,
    /** Told how many of the oldest ids were dropped because the backlog was full. */
    private readonly onOverflow: (error: ClientError) => void,
  ) {}

  /** Ids waiting for a connection. */
  get waiting(): number {
    return this.backlog.size;
  }

  /**
   * Queues `messageIds` as shown and writes them at once when connected. Throws
   * `invalid_argument` (nothing queued) for a state other than `shown` or an id the protocol refuses.
   */
  add(messageIds: readonly string[], state: "shown"): void {
    if (state !== "shown") {
      throw new ClientError(
        "invalid_argument",
        `receipt state must be "shown" (got ${JSON.stringify(state)})`,
      );
    }
    if (!Array.isArray(messageIds)) {
      throw new ClientError("invalid_argument", "receipt messageIds must be an array of message ids");
    }
    if (messageIds.length === 0) return;
    const check = ReceiptFrameSchema.shape.messageIds.element;
    for (const id of messageIds) {
      if (!check.safeParse(id).success) {
        throw new ClientError(
          "invalid_argument",
          `receipt messageIds must be message ids as the broker sent them (got ${JSON.stringify(id)})`,
        );
      }
    }
    for (const id of messageIds) this.backlog.add(id);
    this.trim();
    this.flush();
  }

  /** Writes every waiting id, 1,000 per frame, while the link takes them (called after hello_ack). */
  flush(): void {
    if (!this.link.authenticated) return;
    while (this.backlog.size > 0) {
      const chunk: string[] = [];
      for (const id of this.backlog) {
        chunk.push(id);
        if (chunk.length === MAX_RECEIPT_IDS_PER_FRAME) break;
      }
      if (!this.link.write({ type: "receipt", messageIds: chunk, state: "shown" })) return;
      for (const id of chunk) this.backlog.delete(id);
    }
  }

  private trim(): void {
    const excess = this.backlog.size - this.max;
    if (excess <= 0) return;
    let dropped = 0;
    for (const id of this.backlog) {
      if (dropped === excess) break;
      this.backlog.delete(id);
      dropped += 1;
    }
    this.onOverflow(
      new ClientError(
        "queue_full",
        `dropped the ${dropped} oldest unsent "shown" receipts: at most ${this.max} wait for a connection to broker at ${this.link.httpBase} (${this.link.describeLink()}); their senders will see those messages as delivered, not shown`,
      ),
    );
  }
}
