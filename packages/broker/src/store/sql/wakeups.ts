// In-process fan-out of "new deliveries for these recipients" to the broker's listeners.
import type { DeliveryListener } from "../types.js";
import type { StoreLog } from "../options.js";

export class DeliveryWakeups {
  private readonly listeners = new Set<DeliveryListener>();

  constructor(private readonly log: StoreLog) {}

  get size(): number {
    return this.listeners.size;
  }

  subscribe(listener: DeliveryListener): () => void {
    // Wrapped so the same function may subscribe twice and each unsubscribe removes one.
    const entry: DeliveryListener = (ids, addressed) => listener(ids, addressed);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  /**
   * Calls every listener; one that throws is logged and does not stop the others or the writer.
   * `addressed`: the wake-up came on this broker's own channel (see DeliveryListener).
   */
  emit(recipientMemberIds: readonly string[], addressed = false): void {
    if (recipientMemberIds.length === 0) return;
    for (const listener of [...this.listeners]) {
      try {
        listener(recipientMemberIds, addressed);
      } catch (err) {
        this.log.warn("store.wakeup_listener_failed", {
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }
}
