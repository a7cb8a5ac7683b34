// A bounded LRU of secret-derived byte strings (crypto_box shared keys) that zeroes what it drops.
import { CryptoArgumentError } from "./errors.js";
import { sodium } from "./sodium.js";

/** Counters for observing the cache (no key material). */
export interface KeyCacheStats {
  size: number;
  capacity: number;
  hits: number;
  misses: number;
}

/**
 * Least-recently-used map from an opaque id to secret bytes. Entries are overwritten with
 * zeros when evicted, replaced or cleared, so dropped keys do not linger in the heap.
 * Holders must use a value before the next `set` (which may evict and zero it).
 */
export class KeyCache {
  readonly #entries = new Map<string, Uint8Array>();
  #capacity: number;
  #hits = 0;
  #misses = 0;

  constructor(capacity: number) {
    this.#capacity = KeyCache.#checkCapacity(capacity);
  }

  static #checkCapacity(capacity: number): number {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new CryptoArgumentError("capacity", "must be a positive integer");
    }
    return capacity;
  }

  /** The value for `id`, now the most recently used; undefined (a miss) when absent. */
  get(id: string): Uint8Array | undefined {
    const value = this.#entries.get(id);
    if (value === undefined) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    this.#entries.delete(id);
    this.#entries.set(id, value);
    return value;
  }

  /** Stores `value` under `id` as the most recently used entry, evicting the least recent beyond capacity. */
  set(id: string, value: Uint8Array): void {
    const previous = this.#entries.get(id);
    if (previous !== undefined && previous !== value) sodium.memzero(previous);
    this.#entries.delete(id);
    this.#entries.set(id, value);
    this.#evictBeyond(this.#capacity);
  }

  /** Changes the bound, evicting least-recently-used entries if it shrank. */
  resize(capacity: number): void {
    this.#capacity = KeyCache.#checkCapacity(capacity);
    this.#evictBeyond(this.#capacity);
  }

  /** Zeroes and drops every entry and resets the counters. */
  clear(): void {
    this.#evictBeyond(0);
    this.#hits = 0;
    this.#misses = 0;
  }

  stats(): KeyCacheStats {
    return { size: this.#entries.size, capacity: this.#capacity, hits: this.#hits, misses: this.#misses };
  }

  #evictBeyond(limit: number): void {
    while (this.#entries.size > limit) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) return;
      const value = this.#entries.get(oldest.value);
      if (value !== undefined) sodium.memzero(value);
      this.#entries.delete(oldest.value);
    }
  }
}
