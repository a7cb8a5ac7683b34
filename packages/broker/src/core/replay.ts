// Replay protection for every signed request (hello and signed HTTP): the ReplayGuard interface and its bounded in-memory form.
import type { Clock } from "../context.js";

/**
 * Remembers the keys (signatures) of accepted signed requests until they expire. A signed request is
 * only accepted inside its timestamp window, so remembering it until `timestamp + skew` is enough:
 * after that the window check rejects a replay on its own. A store-backed guard (replays refused
 * across restarts and brokers) implements the same interface.
 */
export interface ReplayGuard {
  /** Records `key` until `expiresAtMs`; true when it was already recorded and has not expired (a replay). */
  seen(key: string, expiresAtMs: number): boolean | Promise<boolean>;
  /** Forgets `key`: its request failed for a reason that is not the client's, so the same body may be retried. */
  forget(key: string): void | Promise<void>;
}

/** Default bound of the in-memory guard. */
export const DEFAULT_REPLAY_ENTRIES = 100_000;

/**
 * The in-memory guard of one broker process. Only signatures that verified are recorded, so filling
 * it costs an attacker valid member signatures; at `maxEntries` the expired entries go first, then the
 * oldest ones.
 */
export class MemoryReplayGuard implements ReplayGuard {
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly maxEntries = DEFAULT_REPLAY_ENTRIES,
  ) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1)
      throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
  }

  seen(key: string, expiresAtMs: number): boolean {
    const now = this.clock.now();
    const previous = this.entries.get(key);
    if (previous !== undefined && previous >= now) return true;
    if (previous !== undefined) this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.evict(now);
    this.entries.set(key, expiresAtMs);
    return false;
  }

  forget(key: string): void {
    this.entries.delete(key);
  }

  /** Drops expired entries (the broker's periodic timer calls this; `seen` also does when full). */
  prune(now: number = this.clock.now()): void {
    for (const [key, expiresAt] of this.entries) if (expiresAt < now) this.entries.delete(key);
  }

  size(): number {
    return this.entries.size;
  }

  /** Drops expired entries, then the oldest ones while still full. */
  private evict(now: number): void {
    this.prune(now);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }
}
