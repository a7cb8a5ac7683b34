// Public value types of BrokerClient: inbound messages, undecryptable notices, drop notices, connection states, receipts.
import type { Priority, ReceiptState } from "@claudemesh/protocol";

/** `direct` to this peer, `broadcast` (`*`) or `channel` (`#name`), from the push's targetSpec. */
export type MessageKind = "direct" | "broadcast" | "channel";

/** A decrypted inbound message, as handed to the agent (SPEC §3 push, §5). */
export interface InboundMessage {
  messageId: string;
  meshId: string;
  meshSlug: string;
  /** The sender's display name at send time. */
  from: string;
  fromPubkey: string;
  /** The recipient pubkey for direct messages, `*` or `#name` for fan-out. */
  targetSpec: string;
  kind: MessageKind;
  priority: Priority;
  text: string;
  /** ISO 8601 time the broker stored the message. */
  sentAt: string;
  /**
   * The sender's nonce of this message (the direct box's, or a group body's): fresh per message, so
   * a durable record of what was handed on can also catch a copy re-stored under a new messageId.
   */
  nonce?: string;
}

/** A push that failed to decrypt (wrong key, tampered, malformed): metadata only, never ciphertext. */
export type UndecryptableMessage = Omit<InboundMessage, "text">;

/** Emitted when the push buffer was full and its oldest message was dropped. */
export interface DroppedNotice {
  /** Id of the message that was dropped. */
  messageId: string;
  /** Messages dropped so far by this client. */
  droppedTotal: number;
  /** The push buffer cap (SPEC §7, default 500). */
  bufferMax: number;
}

/**
 * `idle` before connect(); `connecting` until the first hello_ack; `open` while authenticated;
 * `reconnecting` after a drop; `closed` after close() or a fatal rejection.
 */
export type ConnectionState = "idle" | "connecting" | "open" | "reconnecting" | "closed";

/** The resolved result of a send (SPEC §3 ack). */
export interface SendResult {
  messageId: string;
  /** True when at least one recipient was offline or gated and the message waits in its queue. */
  queued: boolean;
}

/** A state change of one recipient's copy of a message this session sent (SPEC §3 broker → client `receipt`). */
export interface Receipt {
  messageId: string;
  recipientPubkey: string;
  /** `delivered`, `shown`, `expired` or `revoked` (see RECEIPT_STATES). */
  state: ReceiptState;
  /** ISO 8601 time the broker recorded this state. */
  at: string;
}

/** Where one message this session sent stands, per recipient (SPEC §3 `message_status` reply). */
export interface MessageStatus {
  messageId: string;
  /** Empty when the broker knows no such message sent by this session. */
  recipients: Array<{ pubkey: string; state: ReceiptState; at: string }>;
}

/** kind from a push's targetSpec. */
export function messageKind(targetSpec: string): MessageKind {
  if (targetSpec === "*") return "broadcast";
  if (targetSpec.startsWith("#")) return "channel";
  return "direct";
}
