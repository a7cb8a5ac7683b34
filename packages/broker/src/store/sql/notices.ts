// In-process fan-out of one-off notices (relayed hooks and their answers) to the broker's listeners.
import type { StoreLog } from "../options.js";

export class NoticeListeners<T> {
  private readonly listeners = new Set<(notice: T) => void>();

  constructor(
    private readonly log: StoreLog,
    private readonly what: string,
  ) {}

  subscribe(listener: (notice: T) => void): () => void {
    // Wrapped so the same function may subscribe twice and each unsubscribe removes one.
    const entry = (notice: T) => listener(notice);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  /** Calls every listener; one that throws is logged and does not stop the others. */
  emit(notice: T): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(notice);
      } catch (err) {
        this.log.warn("store.notice_listener_failed", {
          what: this.what,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }
}
