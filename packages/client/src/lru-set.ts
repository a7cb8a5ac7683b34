// A bounded set that forgets its oldest entries: remembers recently seen message ids for dedup (SPEC §3 delivery).

/** Insertion-ordered set of at most `max` strings; adding past the cap evicts the oldest. */
export class BoundedSet {
  private readonly items = new Set<string>();

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError("BoundedSet max must be a positive integer");
  }

  has(value: string): boolean {
    return this.items.has(value);
  }

  /** Adds `value` (refreshing its age if present) and evicts the oldest entries beyond `max`. */
  add(value: string): void {
    this.items.delete(value);
    this.items.add(value);
    while (this.items.size > this.max) {
      const oldest = this.items.values().next();
      if (oldest.done) break;
      this.items.delete(oldest.value);
    }
  }

  /** Forgets `value` (a hand-off that failed must let the redelivery through). */
  delete(value: string): void {
    this.items.delete(value);
  }

  get size(): number {
    return this.items.size;
  }
}
