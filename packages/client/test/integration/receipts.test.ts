// BrokerClient against a real broker: durable hand-off through inboundSink, receipts to the sender, message_status.
import { describe, expect, it } from "vitest";
import type { BrokerClient } from "../../src/broker-client.js";
import type { InboundMessage, Receipt } from "../../src/types.js";
import { FAST, liveBroker, meshWith, waitFor, type LiveMember } from "../helpers/live.js";

const live = liveBroker();
const connect = (m: LiveMember, options = FAST): Promise<BrokerClient> => live.connect(m, options);

describe("BrokerClient live - receipts", () => {
  it("the sender sees delivered after the sink took it, then shown after sendReceipt; message_status agrees", async () => {
    const [alice, bob] = await meshWith(live.url, ["alice", "bob"]);
    if (!alice || !bob) throw new Error("setup");
    const a = await connect(alice);
    const receipts: Receipt[] = [];
    a.on("receipt", (r) => receipts.push(r));
    const handed: InboundMessage[] = [];
    const b = await connect(bob, { ...FAST, inboundSink: (m) => void handed.push(m) });

    const sent = await a.send(bob.pubkey, "status please", "now");
    await waitFor(() => handed.length === 1, 5_000, "bob's sink");
    expect(handed[0]).toMatchObject({ messageId: sent.messageId, text: "status please" });
    await waitFor(() => receipts.some((r) => r.state === "delivered"), 5_000, "delivered receipt");

    b.sendReceipt([sent.messageId], "shown");
    await waitFor(() => receipts.some((r) => r.state === "shown"), 5_000, "shown receipt");
    for (const r of receipts)
      expect(r).toMatchObject({ messageId: sent.messageId, recipientPubkey: bob.pubkey });

    const [status] = await a.messageStatus([sent.messageId]);
    expect(status?.messageId).toBe(sent.messageId);
    expect(status?.recipients).toEqual([{ pubkey: bob.pubkey, state: "shown", at: expect.any(String) }]);
  });

  it("a message the sink refuses is delivered again, and handed on once it is accepted", async () => {
    const [alice, bob] = await meshWith(live.url, ["alice", "bob"]);
    if (!alice || !bob) throw new Error("setup");
    const a = await connect(alice);
    let refusals = 1;
    const accepted: string[] = [];
    const b = await connect(bob, {
      ...FAST,
      inboundSink: (m) => {
        if (refusals > 0) {
          refusals -= 1;
          throw new Error("disk not ready");
        }
        accepted.push(m.messageId);
      },
    });
    const errors: string[] = [];
    b.on("error", (e) => errors.push(e.code));
    const sent = await a.send(bob.pubkey, "try again", "now");
    await waitFor(() => errors.includes("handoff_failed"), 5_000, "the refusal");
    // Unacked: the broker hands it out again when the connection drops (or its lease ends).
    await b.close();
    live.forget(b);
    const again = await connect(bob, {
      ...FAST,
      inboundSink: (m) => void accepted.push(m.messageId),
    });
    await waitFor(() => accepted.length === 1, 5_000, "the redelivery");
    expect(accepted).toEqual([sent.messageId]);
    expect(again.isOpen).toBe(true);
  });
});
