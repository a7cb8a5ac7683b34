// handleMessageStatus on its own (SPEC §3): request-order answers, and `too_large` past the reply cap.
import { describe, expect, it } from "vitest";
import type { ServerFrame } from "@claudemesh/protocol";
import type { RecipientStatusRow, Store } from "../../src/store/types.js";
import { handleMessageStatus, MAX_STATUS_RECIPIENTS } from "../../src/ws/receipts.js";
import type { Session } from "../../src/ws/session.js";
import type { HubState } from "../../src/ws/state.js";

const PK = "a".repeat(64);

function harness(answer: { statuses: Map<string, RecipientStatusRow[]>; truncated: boolean }) {
  const sent: ServerFrame[] = [];
  const calls: Array<{ sender: string; ids: readonly string[]; limit: number }> = [];
  const store = {
    messageStatus: async (sender: string, ids: readonly string[], limit: number) => {
      calls.push({ sender, ids, limit });
      return answer;
    },
  } as unknown as Store;
  const state = { ctx: { store } } as unknown as HubState;
  const session = {
    me: { id: "mem_alice" },
    send: (frame: ServerFrame) => sent.push(frame),
    sendError: (code: string, message: string, extra: { id?: string } = {}) =>
      sent.push({ type: "error", code, message, ...extra } as ServerFrame),
  } as unknown as Session;
  return { state, session, sent, calls };
}

describe("handleMessageStatus", () => {
  it("asks the store for the caller's own messages, deduplicated, and answers in request order", async () => {
    const statuses = new Map([["m2", [{ recipientPubkey: PK, state: "shown" as const, at: 0 }]]]);
    const h = harness({ statuses, truncated: false });
    await handleMessageStatus(h.state, h.session, {
      type: "message_status",
      id: "q1",
      messageIds: ["m1", "m2", "m1"],
    });
    expect(h.calls).toEqual([{ sender: "mem_alice", ids: ["m1", "m2"], limit: MAX_STATUS_RECIPIENTS }]);
    expect(h.sent).toEqual([
      {
        type: "message_status",
        id: "q1",
        statuses: [
          { messageId: "m1", recipients: [] },
          { messageId: "m2", recipients: [{ pubkey: PK, state: "shown", at: "1970-01-01T00:00:00.000Z" }] },
        ],
      },
    ]);
  });

  it("refuses with too_large (echoing the id) when the answer would pass the cap", async () => {
    const h = harness({ statuses: new Map(), truncated: true });
    await handleMessageStatus(h.state, h.session, { type: "message_status", id: "q2", messageIds: ["m1"] });
    expect(h.sent).toHaveLength(1);
    expect(h.sent[0]).toMatchObject({ type: "error", code: "too_large", id: "q2" });
    expect((h.sent[0] as { message: string }).message).toMatch(/fewer messages/);
  });
});
