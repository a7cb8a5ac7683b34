// Token-bucket rate limiting: one bucket per key, refilled continuously from an injectable clock.
import type { Clock } from "./context.js";

/** A single token bucket: `ratePerSec` tokens refill per second up to `burst`. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    now: number,
  ) {
    if (!(ratePerSec > 0) || !(burst >= 1)) throw new RangeError("rate must be > 0 and burst >= 1");
    this.tokens = burst;
    this.updatedAt = now;
  }

  private refill(now: number): void {
    // A clock that steps backwards must never mint tokens or make the bucket negative.
    const elapsed = Math.max(0, now - this.updatedAt);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSec) / 1000);
    this.updatedAt = Math.max(this.updatedAt, now);
  }

  /** Takes `cost` tokens when available; false (and nothing taken) otherwise. */
  take(now: number, cost = 1): boolean {
    this.refill(now);
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }

  /** Milliseconds until `cost` tokens will be available (0 when they are now). */
  retryAfterMs(now: number, cost = 1): number {
    this.refill(now);
    if (this.tokens >= cost) return 0;
    return Math.ceil(((cost - this.tokens) * 1000) / this.ratePerSec);
  }

  /** True once the bucket is full again, i.e. forgetting it changes nothing. */
  isFull(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.burst;
  }
}

export interface KeyedRateLimiterOptions {
  ratePerSec: number;
  burst: number;
  clock: Clock;
  /** Most keys tracked at once; full buckets are evicted first, then the oldest. Default 100,000. */
  maxKeys?: number;
}

/**
 * Buckets by key (an IP, a pubkey, a member id). Memory stays bounded: full buckets carry no
 * information and are dropped during periodic pruning, and the map never exceeds `maxKeys`.
 */
export class KeyedRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly maxKeys: number;
  private takesSincePrune = 0;

  constructor(private readonly options: KeyedRateLimiterOptions) {
    this.maxKeys = options.maxKeys ?? 100_000;
  }

  /** Takes `cost` tokens from `key`'s bucket; false when the key is over its rate. */
  take(key: string, cost = 1): boolean {
    const now = this.options.clock.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.prune(now, true);
      bucket = new TokenBucket(this.options.ratePerSec, this.options.burst, now);
      this.buckets.set(key, bucket);
    }
    if (++this.takesSincePrune >= 1024) this.prune(now, false);
    return bucket.take(now, cost);
  }

  /** Milliseconds until `key` may take `cost` tokens. */
  retryAfterMs(key: string, cost = 1): number {
    const bucket = this.buckets.get(key);
    return bucket ? bucket.retryAfterMs(this.options.clock.now(), cost) : 0;
  }

  /** Number of keys currently tracked (for tests and metrics). */
  size(): number {
    return this.buckets.size;
  }

  private prune(now: number, mustFree: boolean): void {
    this.takesSincePrune = 0;
    for (const [key, bucket] of this.buckets) if (bucket.isFull(now)) this.buckets.delete(key);
    if (mustFree && this.buckets.size >= this.maxKeys) {
      // Still full of active keys: drop the oldest insertion (Map iterates in insertion order).
      const oldest = this.buckets.keys().next();
      if (!oldest.done) this.buckets.delete(oldest.value);
    }
  }
}
