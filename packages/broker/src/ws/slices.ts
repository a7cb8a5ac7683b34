// Work over many items spread across event-loop turns, so timers, sockets and other I/O run in between.
import { setImmediate as nextTurn } from "node:timers/promises";

/**
 * Calls `fn` for every item, `sliceSize` per event-loop turn, yielding (setImmediate) between
 * slices; resolves after the last one. Items are visited in order; `fn` must not throw.
 */
export async function forEachInSlices<T>(
  items: readonly T[],
  sliceSize: number,
  fn: (item: T) => void,
): Promise<void> {
  for (let i = 0; i < items.length; i += sliceSize) {
    if (i > 0) await nextTurn();
    const end = Math.min(i + sliceSize, items.length);
    for (let j = i; j < end; j++) fn(items[j] as T);
  }
}

/**
 * Calls `fn` with consecutive chunks of at most `chunkSize` items, in order, one at a time: each
 * call is awaited, then the next starts on a later event-loop turn (setImmediate). The explicit
 * yield matters for a synchronous store (SQLite), whose promises are already settled when
 * returned, so awaiting them alone would run every chunk in one turn. A rejection stops the walk.
 */
export async function forEachChunk<T>(
  items: readonly T[],
  chunkSize: number,
  fn: (chunk: T[]) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < items.length; i += chunkSize) {
    if (i > 0) await nextTurn();
    await fn(items.slice(i, i + chunkSize));
  }
}
