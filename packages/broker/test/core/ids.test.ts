// Message ids: opaque-id shaped, 128 bits, unique across many pool refills.
import { describe, expect, it } from "vitest";
import { OpaqueIdSchema } from "@claudemesh/protocol";
import { messageId } from "../../src/core/ids.js";

describe("message ids", () => {
  it("are 22 base64url chars that pass OpaqueIdSchema and never repeat", () => {
    const ids = Array.from({ length: 5_000 }, () => messageId());
    for (const id of ids.slice(0, 50)) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(OpaqueIdSchema.safeParse(id).success).toBe(true);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});
