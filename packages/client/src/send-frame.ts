// Building and checking outbound `send` frames (SPEC §3): argument validation, frame text, frame size limit.
import type { SealedGroup } from "@claudemesh/crypto";
import {
  PrioritySchema,
  PubkeySchema,
  groupFrameCap,
  isFanoutTarget,
  type Priority,
} from "@claudemesh/protocol";
import { ClientError } from "./errors.js";
import type { PendingSend } from "./outbox.js";

/** Checks send() arguments; returns whether the target is a fan-out (`*` / `#name`). */
export function validateSend(
  targetSpec: string,
  message: string,
  priority: Priority,
  selfPubkey: string,
): boolean {
  if (!PrioritySchema.safeParse(priority).success) {
    throw new ClientError(
      "invalid_argument",
      `priority must be now, next or low (got ${JSON.stringify(priority)})`,
    );
  }
  if (typeof message !== "string" || message.length === 0) {
    throw new ClientError("invalid_argument", "message must be a non-empty string");
  }
  const fanout = isFanoutTarget(targetSpec);
  if (!fanout && !PubkeySchema.safeParse(targetSpec).success) {
    throw new ClientError(
      "invalid_argument",
      "targetSpec must be a 64-hex pubkey, * or #channel (resolve names with resolveTarget first)",
    );
  }
  if (targetSpec === selfPubkey) {
    throw new ClientError("invalid_argument", "cannot send a direct message to this session itself");
  }
  return fanout;
}

/** The JSON text of a send frame under the send's stable id: direct (nonce + ciphertext) or group (body, sig, keys). */
export function sendFrameText(item: PendingSend, group?: SealedGroup): string {
  const head = { type: "send", id: item.id, targetSpec: item.targetSpec, priority: item.priority };
  return JSON.stringify(item.direct !== undefined ? { ...head, ...item.direct } : { ...head, ...group });
}

/** The frame limit of a send (SPEC §7): the plain cap for direct sends, the group cap for `recipients` keys. */
export function sendFrameCap(maxFrameBytes: number, recipients?: number): number {
  return recipients === undefined ? maxFrameBytes : groupFrameCap(recipients, maxFrameBytes);
}

/** Throws `too_large` when `text` exceeds the frame cap (the broker would close the socket with 1009). */
export function assertFrameSize(text: string, maxFrameBytes: number, recipients?: number): void {
  const bytes = Buffer.byteLength(text, "utf8");
  const cap = sendFrameCap(maxFrameBytes, recipients);
  if (bytes <= cap) return;
  const who = recipients === undefined ? "" : ` for ${recipients} recipients`;
  throw new ClientError(
    "too_large",
    `message too large: ${bytes} bytes once encrypted${who}, the frame limit is ${cap} — shorten it or send a file path instead`,
  );
}
