// Replay protection for signed hellos (SPEC §3 check 5): a bounded set of recently seen signatures with expiry.

/**
 * Remembers signatures until they expire. A hello's signature is only ever accepted inside the
 * timestamp window, so remembering it until `timestamp + skew` is enough: after that the skew check
 * rejects the replay on its own. Only signatures that verified are recorded, so filling the set
 * costs an attacker valid member signatures; at `maxEntries` the oldest entries go first.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(private readonly maxEntries = 100_000) {}

  /** Records `signature` until `expiresAt`; false when it was already recorded and has not expired. */
  checkAndRecord(signature: string, expiresAt: number, now: number): boolean {
    const previous = this.seen.get(signature);
    if (previous !== undefined && previous >= now) return false;
    if (previous !== undefined) this.seen.delete(signature);
    if (this.seen.size >= this.maxEntries) this.evict(now);
    this.seen.set(signature, expiresAt);
    return true;
  }

  /** Drops expired entries, then the oldest ones while still full. */
  private evict(now: number): void {
    for (const [signature, expiresAt] of this.seen) if (expiresAt < now) this.seen.delete(signature);
    while (this.seen.size >= this.maxEntries) {
      const oldest = this.seen.keys().next();
      if (oldest.done) break;
      this.seen.delete(oldest.value);
    }
  }

  /** Removes expired entries (called from the broker's periodic timer). */
  prune(now: number): void {
    for (const [signature, expiresAt] of this.seen) if (expiresAt < now) this.seen.delete(signature);
  }

  size(): number {
    return this.seen.size;
  }
}
