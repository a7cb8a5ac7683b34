// forEachInSlices / forEachChunk: every item once, in order, with other event-loop work running between slices.
import { describe, expect, it } from "vitest";
import { forEachChunk, forEachInSlices } from "../../src/ws/slices.js";

describe("forEachInSlices", () => {
  it("visits every item in order and yields to the event loop between slices", async () => {
    const seen: string[] = [];
    const items = Array.from({ length: 7 }, (_, i) => `i${i}`);
    // Queued before the walk starts: runs after the first slice, not after the whole walk.
    setImmediate(() => seen.push("other work"));
    await forEachInSlices(items, 3, (item) => seen.push(item));
    expect(seen).toEqual(["i0", "i1", "i2", "other work", "i3", "i4", "i5", "i6"]);
  });

  it("does nothing for no items and handles a slice larger than the list", async () => {
    const seen: number[] = [];
    await forEachInSlices([], 10, (n: number) => seen.push(n));
    await forEachInSlices([1, 2], 10, (n) => seen.push(n));
    expect(seen).toEqual([1, 2]);
  });
});

describe("forEachChunk", () => {
  it("awaits each chunk in order and yields to the event loop between chunks, even when they settle at once", async () => {
    const seen: string[] = [];
    setImmediate(() => seen.push("other work"));
    // Already-settled promises (a synchronous store): the yield must come from forEachChunk itself.
    await forEachChunk([1, 2, 3, 4, 5], 2, (chunk) => {
      seen.push(chunk.join("+"));
      return Promise.resolve();
    });
    expect(seen).toEqual(["1+2", "other work", "3+4", "5"]);
  });

  it("starts a chunk only after the previous one resolved, and stops at a rejection", async () => {
    const seen: string[] = [];
    let running = 0;
    const walk = forEachChunk(["a", "b", "c"], 1, async ([item]) => {
      expect(running).toBe(0);
      running++;
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      if (item === "b") throw new Error("b failed");
      seen.push(item!);
    });
    await expect(walk).rejects.toThrow("b failed");
    expect(seen).toEqual(["a"]);
  });
});
