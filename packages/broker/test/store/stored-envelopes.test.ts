// Store.storedEnvelopes: the read-only view of what a message left in the store (the demo shows it), on both stores.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Ack } from "@claudemesh/protocol";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { createMeshWithMembers, type Member } from "../helpers/identity.js";
import { connectPeer } from "../helpers/ws-client.js";
import { STORE_KINDS } from "../helpers/stores.js";
import { directSend, fanoutSend } from "../ws/support.js";

describe.each(STORE_KINDS)("storedEnvelopes (%s)", (kind) => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker({ kind });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it("returns the stored envelope of each recipient, exactly as sent, and nothing for an unknown id", async () => {
    const { members } = await createMeshWithMembers(broker.url, ["alice", "bob", "carol"]);
    const [alice, bob, carol] = members as [Member, Member, Member];
    const a = await connectPeer(broker.wsUrl, alice);
    try {
      const frame = directSend(alice, bob, "plaintext never stored", "next", "e1");
      a.send(frame);
      const ack = await a.next<Ack>("ack");
      expect(await broker.ctx.store.storedEnvelopes(ack.messageId)).toEqual([
        {
          messageId: ack.messageId,
          targetSpec: bob.pubkey,
          priority: "next",
          nonce: frame.nonce,
          ciphertext: frame.ciphertext,
          body: null,
        },
      ]);
      a.send(fanoutSend(alice, "*", [bob, carol], "to both", "e2"));
      const fan = await a.next<Ack>((f) => f.type === "ack" && f.id === "e2");
      const rows = await broker.ctx.store.storedEnvelopes(fan.messageId);
      expect(rows).toHaveLength(2);
      expect(rows.every((r) => r.targetSpec === "*" && !r.ciphertext.includes("to both"))).toBe(true);
      expect(await broker.ctx.store.storedEnvelopes("no-such-message")).toEqual([]);
    } finally {
      await a.close();
    }
  });
});
