// Batches `client_ack`s and `shown` receipts into one store write per round (no store round trip per message or per recipient).
import type { ReceiptChange, RecordReceiptsInput, Store } from "../store/types.js";
import type { Clock, Logger, Metrics } from "../context.js";
import { TickWriter } from "./tick-writer.js";

/** Where recorded receipt changes go once committed (the hub's ReceiptRelay). */
export interface ReceiptSink {
  /**
   * Before a write, per recipient: the senders this broker would push the recipient's receipts to
   * itself (they are stored as notified), and the recipient's pubkey when known.
   */
  targets(
    recipientMemberIds: readonly string[],
  ): ReadonlyMap<string, { pushTo: ReadonlySet<string>; recipientPubkey?: string }>;
  /** After commit: the changes, and the senders that were passed as `pushTo`. */
  pushed(changes: readonly ReceiptChange[], pushTo: ReadonlySet<string>): void;
}

interface Pending {
  delivered: Set<string>;
  shown: Set<string>;
}

/**
 * Acks and shown receipts that arrive in the same event-loop turn (or while a write is running) are
 * merged per recipient, and every recipient's are written by one `recordReceiptsMany` transaction:
 * the 1,000 acks of a broadcast arriving together cost one commit, not 1,000. A failed write is only logged: the
 * deliveries keep their lease, expire and are pushed again, and the client drops the duplicate by
 * messageId — so the guarantee stays at-least-once to the peer, exactly-once to the agent (SPEC §3).
 */
export class DeliveredBatcher {
  private pending = new Map<string, Pending>();
  private readonly writer = new TickWriter(
    () => this.write(),
    () => this.pending.size > 0,
  );

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly receipts: ReceiptSink | null = null,
  ) {}

  private entry(recipientMemberId: string): Pending {
    let entry = this.pending.get(recipientMemberId);
    if (!entry) this.pending.set(recipientMemberId, (entry = { delivered: new Set(), shown: new Set() }));
    return entry;
  }

  /** `client_ack` from the recipient. */
  add(recipientMemberId: string, messageIds: readonly string[]): void {
    const entry = this.entry(recipientMemberId);
    for (const id of messageIds) entry.delivered.add(id);
    this.writer.schedule();
  }

  /** `receipt state:"shown"` from the recipient (also acknowledges what it names). */
  addShown(recipientMemberId: string, messageIds: readonly string[]): void {
    const entry = this.entry(recipientMemberId);
    for (const id of messageIds) entry.shown.add(id);
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
      const sink = this.receipts;
      const recipients = [...batch.keys()];
      const targets = sink?.targets(recipients);
      const noTargets = new Set<string>();
      const pushTo = new Set<string>();
      // targetsMany shares one pushTo set per mesh: union each set once, not once per recipient.
      const merged = new Set<ReadonlySet<string>>();
      const inputs: RecordReceiptsInput[] = recipients.map((recipient) => {
        const { delivered, shown } = batch.get(recipient)!;
        const target = targets?.get(recipient) ?? { pushTo: noTargets };
        // Member ids are per mesh: the union of every recipient's pushTo is exact for `pushed`.
        if (!merged.has(target.pushTo)) {
          merged.add(target.pushTo);
          for (const id of target.pushTo) pushTo.add(id);
        }
        return {
          recipientMemberId: recipient,
          delivered: [...delivered],
          shown: [...shown],
          now,
          pushTo: target.pushTo,
          ...(target.recipientPubkey === undefined ? {} : { recipientPubkey: target.recipientPubkey }),
        };
      });
      try {
        const changes = await this.store.recordReceiptsMany(inputs);
        // Copies reported shown without an earlier ack were delivered by that report too.
        const newlyDelivered = changes.filter((c) => c.from === "queued").length;
        if (newlyDelivered > 0) this.metrics.inc("messages_delivered_total", undefined, newlyDelivered);
        this.metrics.inc("ack_batches_total");
        sink?.pushed(changes, pushTo);
      } catch (error) {
        this.log.error("ws.mark_delivered_failed", {
          recipients: inputs.length,
          count: inputs.reduce((n, i) => n + i.delivered.length + i.shown.length, 0),
          error,
        });
      }
    }
  }
}
