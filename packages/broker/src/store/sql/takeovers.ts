// In-process fan-out of takeover notices (Store.onTakeovers) to the broker's listeners.
import type { Takeover, TakeoverListener } from "../admission.js";
import type { StoreLog } from "../options.js";

export class TakeoverFanout {
  private readonly listeners = new Set<TakeoverListener>();

  constructor(private readonly log: StoreLog) {}

  subscribe(listener: TakeoverListener): () => void {
    const entry: TakeoverListener = (takeovers) => listener(takeovers);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  /** Calls every listener; one that throws is logged and does not stop the others. */
  emit(takeovers: readonly Takeover[]): void {
    if (takeovers.length === 0) return;
    for (const listener of [...this.listeners]) {
      try {
        listener(takeovers);
      } catch (err) {
        this.log.warn("store.takeover_listener_failed", {
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }
}
