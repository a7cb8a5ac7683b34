// Message ids: opaque-id shaped, time-ordered, unique across many pool refills.
import { describe, expect, it } from "vitest";
import { OpaqueIdSchema } from "@claudemesh/protocol";
import { messageId, pooledRandomId } from "../../src/core/ids.js";

describe("message ids", () => {
  it("are 28 hex chars that pass OpaqueIdSchema and never repeat, even within one millisecond", () => {
    const ids = Array.from({ length: 5_000 }, () => messageId(1_700_000_000_000));
    for (const id of ids.slice(0, 50)) {
      expect(id).toMatch(/^[0-9a-f]{28}$/);
      expect(OpaqueIdSchema.safeParse(id).success).toBe(true);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("sort by creation time", () => {
    const earlier = messageId(1_700_000_000_000);
    const later = messageId(1_700_000_000_001);
    expect(earlier.slice(0, 12) < later.slice(0, 12)).toBe(true);
    expect(earlier.slice(0, 12)).toBe((1_700_000_000_000).toString(16).padStart(12, "0"));
  });
});

describe("pooled random ids", () => {
  it("are base64url of the asked length, pass OpaqueIdSchema and never repeat across pool refills", () => {
    const ids = Array.from({ length: 3_000 }, (_, i) => pooledRandomId(i % 2 === 0 ? 16 : 8));
    for (const [i, id] of ids.slice(0, 50).entries()) {
      expect(id).toMatch(i % 2 === 0 ? /^[A-Za-z0-9_-]{22}$/ : /^[A-Za-z0-9_-]{11}$/);
      expect(OpaqueIdSchema.safeParse(id).success).toBe(true);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});
