// Replay protection for every signed request (hello and signed HTTP): the ReplayGuard interface, its bounded in-memory form and the store-backed guard.
import { createHash } from "node:crypto";
import { setImmediate as nextTurn } from "node:timers/promises";
import type { Clock } from "../context.js";
import type { Store } from "../store/types.js";

/**
 * Remembers the keys (signatures) of accepted signed requests until they expire. A signed request is
 * only accepted inside its timestamp window, so remembering it until `timestamp + skew` is enough:
 * after that the window check rejects a replay on its own. StoreReplayGuard (replays refused across
 * restarts and brokers, SPEC §2 and §3 check 5) is the broker's; MemoryReplayGuard is its fast path.
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

  /** Drops expired entries (`seen` does this when full). */
  prune(now: number = this.clock.now()): void {
    for (const [key, expiresAt] of this.entries) if (expiresAt < now) this.entries.delete(key);
  }

  /**
   * `prune` spread over event-loop turns, `sliceSize` entries looked at per turn (the broker's
   * liveness tick: up to `maxEntries` entries are never walked in one turn). Entries recorded
   * meanwhile are looked at too; they have not expired, so they stay.
   */
  async pruneInSlices(now: number, sliceSize: number): Promise<void> {
    let visited = 0;
    for (const [key, expiresAt] of this.entries) {
      if (expiresAt < now) this.entries.delete(key);
      if (++visited % sliceSize === 0) await nextTurn();
    }
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

/** What the store remembers for a replay key: its SHA-256 (hex), a fixed 64 characters whatever the key. */
export function storedReplayKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/**
 * The broker's guard: the claim is recorded in the store (table replay_keys), so a signed request is
 * accepted once on every broker sharing the store and across restarts. A request whose claim this
 * process holds is refused from memory without a store round trip; every other one is claimed
 * atomically in the store. A claim that fails (storage down) leaves nothing recorded, so the client
 * can retry the same signed body.
 */
export class StoreReplayGuard implements ReplayGuard {
  private readonly recent: MemoryReplayGuard;

  constructor(
    private readonly store: Pick<Store, "claimReplayKey" | "releaseReplayKey">,
    private readonly clock: Clock,
    maxEntries = DEFAULT_REPLAY_ENTRIES,
  ) {
    this.recent = new MemoryReplayGuard(clock, maxEntries);
  }

  async seen(key: string, expiresAtMs: number): Promise<boolean> {
    if (this.recent.seen(key, expiresAtMs)) return true;
    let claimed = false;
    try {
      claimed = await this.store.claimReplayKey(storedReplayKey(key), expiresAtMs, this.clock.now());
      return !claimed;
    } finally {
      // Memory only remembers claims this process holds: another holder may still give its claim back.
      if (!claimed) this.recent.forget(key);
    }
  }

  async forget(key: string): Promise<void> {
    this.recent.forget(key);
    await this.store.releaseReplayKey(storedReplayKey(key));
  }

  /** Drops expired entries of the in-memory fast path (the store's rows go with the sweep). */
  prune(now: number = this.clock.now()): void {
    this.recent.prune(now);
  }

  /** `prune`, `sliceSize` entries per event-loop turn (see MemoryReplayGuard.pruneInSlices). */
  pruneInSlices(now: number, sliceSize: number): Promise<void> {
    return this.recent.pruneInSlices(now, sliceSize);
  }
}
