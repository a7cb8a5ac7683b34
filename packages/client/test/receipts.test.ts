// ReceiptQueue on its own: write now when connected, 1,000 ids per frame, keep (bounded) while disconnected, validate.
import { describe, expect, it } from "vitest";
import type { ClientError } from "../src/errors.js";
import { MAX_RECEIPT_IDS_PER_FRAME, ReceiptQueue } from "../src/receipts.js";
import { fakeLink } from "./helpers/fake-link.js";

function ids(n: number, prefix = "msg_"): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}

describe("ReceiptQueue", () => {
  it("writes at once when connected, in frames of at most 1,000 ids", () => {
    const link = fakeLink();
    const queue = new ReceiptQueue(link, 10_000, () => undefined);
    queue.add(ids(2_500), "shown");
    const frames = link.socket.framesOfType("receipt");
    expect(frames.map((f) => (f.messageIds as string[]).length)).toEqual([
      MAX_RECEIPT_IDS_PER_FRAME,
      MAX_RECEIPT_IDS_PER_FRAME,
      500,
    ]);
    expect(frames.every((f) => f.state === "shown")).toBe(true);
    expect(frames.flatMap((f) => f.messageIds as string[])).toEqual(ids(2_500));
    expect(queue.waiting).toBe(0);
  });

  it("keeps receipts while disconnected and writes them on flush after reconnect, once", () => {
    const link = fakeLink(false);
    const queue = new ReceiptQueue(link, 10_000, () => undefined);
    queue.add(["msg_a", "msg_b"], "shown");
    queue.add(["msg_b", "msg_c"], "shown");
    expect(link.socket.sent).toEqual([]);
    expect(queue.waiting).toBe(3);
    link.authenticated = true;
    queue.flush();
    queue.flush();
    expect(link.socket.framesOfType("receipt")).toEqual([
      { type: "receipt", messageIds: ["msg_a", "msg_b", "msg_c"], state: "shown" },
    ]);
  });

  it("keeps what the socket refused to take", () => {
    const link = fakeLink();
    const queue = new ReceiptQueue(link, 10_000, () => undefined);
    link.socket.serverClose(1006); // the fake socket now refuses writes, the link still says authenticated
    queue.add(["msg_a"], "shown");
    expect(queue.waiting).toBe(1);
  });

  it("drops the oldest beyond the bound with a queue_full error", () => {
    const link = fakeLink(false);
    const errors: ClientError[] = [];
    const queue = new ReceiptQueue(link, 3, (e) => errors.push(e));
    queue.add(["msg_1", "msg_2"], "shown");
    expect(errors).toEqual([]);
    queue.add(["msg_3", "msg_4", "msg_5"], "shown");
    expect(errors.map((e) => e.code)).toEqual(["queue_full"]);
    expect(errors[0]?.message).toMatch(/dropped the 2 oldest/);
    link.authenticated = true;
    queue.flush();
    expect(link.socket.framesOfType("receipt")[0]?.messageIds).toEqual(["msg_3", "msg_4", "msg_5"]);
  });

  it("refuses another state or a malformed id with invalid_argument, queuing nothing", () => {
    const link = fakeLink(false);
    const queue = new ReceiptQueue(link, 10, () => undefined);
    expect(() => queue.add(["msg_1"], "delivered" as "shown")).toThrow(
      expect.objectContaining({ code: "invalid_argument" }),
    );
    expect(() => queue.add(["msg_1", ""], "shown")).toThrow(
      expect.objectContaining({ code: "invalid_argument" }),
    );
    expect(() => queue.add("msg_1" as unknown as string[], "shown")).toThrow(
      expect.objectContaining({ code: "invalid_argument" }),
    );
    expect(queue.waiting).toBe(0);
    queue.add([], "shown");
    expect(queue.waiting).toBe(0);
  });
});
