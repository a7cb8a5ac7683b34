// Encrypted direct sends and push collection for delivery tests (SPEC §3 send/ack/push/client_ack, §4 direct box).
import { isGroupPush, type Ack, type Push } from "@claudemesh/protocol";
import { decryptDirect, encryptDirect, openGroup } from "@claudemesh/crypto";
import type { Identity, Member } from "./identity.js";
import type { TestPeer } from "./ws-client.js";

/** A `send` frame carrying `text` sealed for `to` (SPEC §4 direct). */
export function directSend(
  from: Identity,
  to: Identity,
  id: string,
  text: string,
  priority: "now" | "next" | "low" = "now",
) {
  const envelope = encryptDirect(text, to.pubkey, from.secretKey);
  return {
    type: "send" as const,
    id,
    targetSpec: to.pubkey,
    priority,
    nonce: envelope.nonce,
    ciphertext: envelope.ciphertext,
  };
}

/** Acks received so far, by request id. */
export function acksById(peer: TestPeer): Map<string, Ack> {
  const out = new Map<string, Ack>();
  for (const frame of peer.frames) if (frame.type === "ack") out.set(frame.id, frame);
  return out;
}

export interface Inbox {
  /** messageId → decrypted text, first copy only (client-side dedup, SPEC §3). */
  unique: Map<string, string>;
  /** Every push received, duplicates included. */
  pushes: Push[];
  /** Pushes that failed to decrypt. */
  undecryptable: number;
}

/**
 * Reads pushes as they arrive on `peer`, decrypts them as `me`, and client_acks each one, so
 * the broker marks them delivered. Call `inbox()` at any time for the deduplicated view.
 */
export function autoAckInbox(peer: TestPeer, me: Member): { inbox(): Inbox; stop(): void } {
  let seen = 0;
  const state: Inbox = { unique: new Map(), pushes: [], undecryptable: 0 };
  const drain = (): void => {
    const fresh = peer.frames.slice(seen);
    seen = peer.frames.length;
    const ids: string[] = [];
    for (const frame of fresh) {
      if (frame.type !== "push") continue;
      state.pushes.push(frame);
      ids.push(frame.messageId);
      if (state.unique.has(frame.messageId)) continue;
      const text = openPushText(frame, me);
      if (text === null) state.undecryptable++;
      else state.unique.set(frame.messageId, text);
    }
    if (ids.length > 0 && peer.ws.readyState === peer.ws.OPEN)
      peer.send({ type: "client_ack", messageIds: ids });
  };
  peer.ws.on("message", drain);
  drain();
  return { inbox: () => state, stop: () => peer.ws.off("message", drain) };
}

/** The text of a direct or group push for `me`, or null when it does not open. */
export function openPushText(push: Push, me: Pick<Member, "secretKey">): string | null {
  if (isGroupPush(push)) return openGroup(push, me.secretKey);
  return decryptDirect(
    { nonce: push.nonce ?? "", ciphertext: push.ciphertext ?? "" },
    push.senderPubkey,
    me.secretKey,
  );
}
