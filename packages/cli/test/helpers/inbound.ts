// One inbound message from "beta" in mesh "team", as the delivery tests take it; fields overridable.
import type { ReceivedMessage } from "../../src/delivery/ledger.js";

export function inboundMessage(id: string, extra: Partial<ReceivedMessage> = {}): ReceivedMessage {
  return {
    messageId: id,
    meshId: "mesh-1",
    meshSlug: "team",
    from: "beta",
    fromPubkey: "b".repeat(64),
    targetSpec: "a".repeat(64),
    kind: "direct",
    priority: "next",
    text: `text ${id}`,
    sentAt: "2026-12-02T00:00:00.000Z",
    nonce: `nonce-${id}`,
    ...extra,
  };
}
