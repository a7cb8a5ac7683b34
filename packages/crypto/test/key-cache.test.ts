// The bounded LRU behind the shared-key cache: recency order, eviction at capacity, zeroing of dropped keys.
import { describe, expect, it } from "vitest";
import { KeyCache } from "../src/key-cache.js";
import { expectArgumentError } from "./helpers.js";

const key = (fill: number) => new Uint8Array(32).fill(fill);

describe("KeyCache", () => {
  it("evicts the least recently used entry beyond capacity and zeroes it", () => {
    const cache = new KeyCache(2);
    const a = key(1);
    const b = key(2);
    cache.set("a", a);
    cache.set("b", b);
    expect(cache.get("a")).toBe(a); // a is now most recent, b least
    cache.set("c", key(3));
    expect(cache.get("b")).toBeUndefined();
    expect(b.every((x) => x === 0)).toBe(true);
    expect(a.every((x) => x === 1)).toBe(true);
    expect(cache.stats()).toEqual({ size: 2, capacity: 2, hits: 1, misses: 1 });
  });

  it("zeroes a value replaced under the same id", () => {
    const cache = new KeyCache(4);
    const old = key(7);
    cache.set("a", old);
    cache.set("a", key(8));
    expect(old.every((x) => x === 0)).toBe(true);
    expect(cache.get("a")?.[0]).toBe(8);
  });

  it("zeroes everything on clear and on shrinking", () => {
    const cache = new KeyCache(4);
    const values = [key(1), key(2), key(3)];
    values.forEach((v, i) => cache.set(String(i), v));
    cache.resize(1);
    expect(values[0]!.every((x) => x === 0) && values[1]!.every((x) => x === 0)).toBe(true);
    expect(cache.get("2")).toBe(values[2]);
    cache.clear();
    expect(values[2]!.every((x) => x === 0)).toBe(true);
    expect(cache.stats()).toEqual({ size: 0, capacity: 1, hits: 0, misses: 0 });
  });

  it("rejects a capacity below 1 or not an integer", () => {
    expectArgumentError(() => new KeyCache(0), "capacity");
    expectArgumentError(() => new KeyCache(Number.POSITIVE_INFINITY), "capacity");
    expectArgumentError(() => new KeyCache(1).resize(-3), "capacity");
  });
});
