// Time-ordered message ids: protocol-valid, unique, and sorted by creation time.
import { describe, expect, it } from "vitest";
import { OpaqueIdSchema } from "@claudemesh/protocol";
import { timeOrderedId } from "../../src/store/index.js";

describe("timeOrderedId", () => {
  it("is a 28-char protocol opaque id", () => {
    const id = timeOrderedId();
    expect(id).toMatch(/^[0-9a-f]{28}$/);
    expect(OpaqueIdSchema.safeParse(id).success).toBe(true);
  });

  it("sorts lexically by time, across digit-count changes of the timestamp", () => {
    const times = [0, 1, 15, 16, 4095, 1_700_000_000_000, 1_700_000_000_001, 2 ** 47];
    const ids = times.map((t) => timeOrderedId(t));
    expect([...ids].sort()).toEqual(ids);
    expect(timeOrderedId(1_700_000_000_000).slice(0, 12)).toBe(
      (1_700_000_000_000).toString(16).padStart(12, "0"),
    );
  });

  it("is unique within one millisecond", () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => timeOrderedId(1_700_000_000_000)));
    expect(ids.size).toBe(10_000);
  });

  it("rejects a timestamp that is not a non-negative integer", () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 60]) expect(() => timeOrderedId(bad)).toThrow(RangeError);
  });
});
