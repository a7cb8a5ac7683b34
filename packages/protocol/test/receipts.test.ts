// Limits of the receipt and message_status frames (SPEC §3) that are too bulky for corpus fixtures.
import { describe, expect, it } from "vitest";
import {
  RECEIPT_STATES,
  MessageStatusReplySchema,
  parseClientFrame,
  parseServerFrame,
} from "@claudemesh/protocol";

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `msg_${i}`);

describe("receipt frames", () => {
  it("the receipt states are the closed list of SPEC §3, in forward order", () => {
    expect(RECEIPT_STATES).toEqual(["queued", "delivered", "shown", "expired", "revoked"]);
  });

  for (const type of ["receipt", "message_status"] as const) {
    const frame = (messageIds: string[]) =>
      type === "receipt" ? { type, messageIds, state: "shown" } : { type, id: "req-1", messageIds };

    it(`${type} accepts 1000 message ids`, () => {
      expect(parseClientFrame(JSON.stringify(frame(ids(1_000)))).ok).toBe(true);
    });

    it(`${type} refuses 1001 message ids, naming messageIds`, () => {
      const result = parseClientFrame(JSON.stringify(frame(ids(1_001))));
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.code).toBe("malformed");
        expect(result.message).toContain("messageIds:");
      }
    });
  }

  it("a message_status reply carries at most 1000 entries", () => {
    const statuses = (n: number) => ids(n).map((messageId) => ({ messageId, recipients: [] }));
    const reply = (n: number) => ({ type: "message_status", id: "req-1", statuses: statuses(n) });
    expect(MessageStatusReplySchema.safeParse(reply(1_000)).success).toBe(true);
    expect(parseServerFrame(JSON.stringify(reply(1_001))).ok).toBe(false);
  });
});
