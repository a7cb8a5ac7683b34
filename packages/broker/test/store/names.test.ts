// Display-name suffixing (`name`, `name-2`, …) within the name length limit.
import { describe, expect, it } from "vitest";
import { MAX_DISPLAY_NAME_CHARS, pickFreeName } from "../../src/store/sql/rules.js";

describe("pickFreeName", () => {
  it("keeps a free name", () => {
    expect(pickFreeName("alice", new Set(["bob"]))).toBe("alice");
  });

  it("takes the lowest free suffix from 2", () => {
    expect(pickFreeName("alice", new Set(["alice"]))).toBe("alice-2");
    expect(pickFreeName("alice", new Set(["alice", "alice-2", "alice-4"]))).toBe("alice-3");
  });

  it("is exact: other names sharing a prefix or differing in case do not count", () => {
    expect(pickFreeName("al", new Set(["alice", "al-x", "AL"]))).toBe("al");
    expect(pickFreeName("al", new Set(["al", "alice-2", "al-2x"]))).toBe("al-2");
  });

  it("shortens the base so suffixed names stay within the limit", () => {
    const max = "n".repeat(MAX_DISPLAY_NAME_CHARS);
    const taken = new Set([max]);
    for (let n = 2; n <= 12; n++) {
      const name = pickFreeName(max, taken);
      expect(name.length).toBeLessThanOrEqual(MAX_DISPLAY_NAME_CHARS);
      expect(name.endsWith(`-${n}`)).toBe(true);
      taken.add(name);
    }
  });
});
