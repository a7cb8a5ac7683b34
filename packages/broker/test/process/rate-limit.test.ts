// rate-limit - token buckets refill from the injected clock, per key, with bounded memory.
import { describe, expect, it } from "vitest";
import { KeyedRateLimiter, TokenBucket } from "../../src/rate-limit.js";

describe("rate-limit - token bucket", () => {
  it("allows a burst, then refills at the rate", () => {
    const b = new TokenBucket(10, 3, 0);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    expect(b.retryAfterMs(0)).toBe(100);
    expect(b.take(99)).toBe(false);
    expect(b.take(100)).toBe(true);
    expect(b.take(10_000) && b.take(10_000) && b.take(10_000)).toBe(true);
    expect(b.take(10_000)).toBe(false); // never more than the burst
  });

  it("mints nothing when the clock steps backwards", () => {
    const b = new TokenBucket(1, 1, 1_000);
    expect(b.take(1_000)).toBe(true);
    expect(b.take(0)).toBe(false);
    expect(b.take(1_500)).toBe(false);
    expect(b.take(2_000)).toBe(true);
  });

  it("rejects nonsense parameters", () => {
    expect(() => new TokenBucket(0, 1, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(1, 0, 0)).toThrow(RangeError);
  });
});

describe("rate-limit - keyed limiter", () => {
  it("keeps one bucket per key", () => {
    let now = 0;
    const l = new KeyedRateLimiter({ ratePerSec: 1, burst: 1, clock: { now: () => now } });
    expect(l.take("a")).toBe(true);
    expect(l.take("a")).toBe(false);
    expect(l.take("b")).toBe(true);
    expect(l.retryAfterMs("a")).toBe(1_000);
    now = 1_000;
    expect(l.take("a")).toBe(true);
  });

  it("never tracks more than maxKeys", () => {
    const l = new KeyedRateLimiter({ ratePerSec: 1, burst: 5, clock: { now: () => 0 }, maxKeys: 10 });
    for (let i = 0; i < 100; i++) l.take(`k${i}`);
    expect(l.size()).toBeLessThanOrEqual(10);
  });
});
