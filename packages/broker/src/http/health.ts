// GET /health (SPEC §2): store liveness with a short cache so probes cannot hammer the database.
import type { Store } from "../store/types.js";
import type { Clock } from "../context.js";

/** Caches store.ping() for `cacheMs`; concurrent probes share one in-flight ping. */
export class HealthProbe {
  private cached: { up: boolean; at: number } | null = null;
  private inflight: Promise<boolean> | null = null;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly cacheMs: number,
  ) {}

  async isUp(): Promise<boolean> {
    const now = this.clock.now();
    if (this.cached && now - this.cached.at < this.cacheMs) return this.cached.up;
    if (!this.inflight) {
      this.inflight = this.store
        .ping()
        .catch(() => false) // ping should never throw, but a broken adapter must not break /health
        .then((up) => {
          this.cached = { up, at: this.clock.now() };
          this.inflight = null;
          return up;
        });
    }
    return this.inflight;
  }
}
