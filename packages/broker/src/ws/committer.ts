// Group commit for sends: sends arriving together are stored by one store transaction.
import type { NewMessage, Store } from "../store/types.js";
import type { Metrics } from "../context.js";
import { TickWriter } from "./tick-writer.js";

/** Work the hub does around each batch's transaction (the direct-push fast path). */
export interface CommitHooks {
  /** Runs just before the batch is written; may mark deliveries as pre-leased. */
  beforeCommit(batch: readonly NewMessage[]): void;
  /** Runs once the batch is durable, before its submitters are resolved. */
  afterCommit(batch: readonly NewMessage[]): void;
}

interface Pending {
  message: NewMessage;
  resolve: (storeWoke: boolean) => void;
  reject: (error: unknown) => void;
}

/**
 * Collects messages submitted during one event-loop turn (and while a previous batch is being
 * written) into one `enqueueMessages` call of at most `maxBatch` messages. Exactly one batch is in
 * flight at a time, so under load batches grow by themselves and storage order equals submit order,
 * which keeps per-sender FIFO (SPEC §3). Each submit resolves only once its batch is durable, so an
 * `ack` is never sent for a message a crash could lose.
 *
 * A submit resolves with whether the store itself fired a delivery wake-up during the write (both
 * adapters wake local listeners right after commit): then the caller need not wake the recipients
 * again, which would cost every recipient a second, empty claim.
 */
export class GroupCommitter {
  private queue: Pending[] = [];
  private readonly writer = new TickWriter(
    () => this.drain(),
    () => this.queue.length > 0,
  );

  constructor(
    private readonly store: Store,
    private readonly maxBatch: number,
    private readonly metrics: Metrics,
    /** Counts store wake-ups seen by the hub (see class comment). */
    private readonly storeWakeups: () => number = () => 0,
    private readonly hooks: CommitHooks | null = null,
  ) {}

  submit(message: NewMessage): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      this.writer.schedule();
    });
  }

  /** Resolves once everything submitted so far has been written (or failed). */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, Math.max(1, this.maxBatch));
      // batches and messages as two counters: their ratio is the mean group-commit size.
      this.metrics.inc("commit_batches_total");
      this.metrics.inc("commit_messages_total", undefined, batch.length);
      try {
        const messages = batch.map((item) => item.message);
        this.hooks?.beforeCommit(messages);
        const before = this.storeWakeups();
        const { duplicates, revoked } = await this.store.enqueueMessages(messages);
        // A retried send (its send id already stored) was not stored again: it names the stored one.
        // A revoked sender's send was refused by the same write (SPEC §2): nothing of it is stored.
        for (const message of messages) {
          const stored = duplicates.get(message.messageId);
          if (stored !== undefined) message.duplicateOf = stored;
          if (revoked.has(message.messageId)) message.senderRevoked = true;
        }
        const storeWoke = this.storeWakeups() !== before;
        this.hooks?.afterCommit(messages);
        for (const item of batch) item.resolve(storeWoke);
      } catch (error) {
        for (const item of batch) item.reject(error);
      }
    }
  }
}
