// Batches `client_ack`s into few `markDelivered` writes (issue 3 item 7: no store round trip per message).
import type { Store } from "../store/types.js";
import type { Clock, Logger, Metrics } from "../context.js";
import { TickWriter } from "./tick-writer.js";

/**
 * Acks that arrive in the same event-loop turn (or while a write is running) are merged per
 * recipient into one `markDelivered` call. A failed write is only logged: the deliveries keep their
 * lease, expire and are pushed again, and the client drops the duplicate by messageId — so the
 * guarantee stays at-least-once to the peer, exactly-once to the agent (SPEC §3).
 */
export class DeliveredBatcher {
  private pending = new Map<string, Set<string>>();
  private readonly writer = new TickWriter(
    () => this.write(),
    () => this.pending.size > 0,
  );

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  add(recipientMemberId: string, messageIds: readonly string[]): void {
    let set = this.pending.get(recipientMemberId);
    if (!set) this.pending.set(recipientMemberId, (set = new Set()));
    for (const id of messageIds) set.add(id);
    this.writer.schedule();
  }

  /** Resolves once every ack received so far has been written (or failed). */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  private async write(): Promise<void> {
    while (this.pending.size > 0) {
      const batch = this.pending;
      this.pending = new Map();
      const now = this.clock.now();
      await Promise.all(
        [...batch].map(async ([recipient, ids]) => {
          try {
            const changed = await this.store.markDelivered(recipient, [...ids], now);
            if (changed > 0) this.metrics.inc("messages_delivered_total", undefined, changed);
          } catch (error) {
            this.log.error("ws.mark_delivered_failed", { memberId: recipient, count: ids.size, error });
          }
        }),
      );
    }
  }
}
