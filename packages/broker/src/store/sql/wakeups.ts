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
    const entry: DeliveryListener = (ids) => listener(ids);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  /** Calls every listener; one that throws is logged and does not stop the others or the writer. */
  emit(recipientMemberIds: readonly string[]): void {
    if (recipientMemberIds.length === 0) return;
    for (const listener of [...this.listeners]) {
      try {
        listener(recipientMemberIds);
      } catch (err) {
        this.log.warn("store.wakeup_listener_failed", {
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }
}
