// The `push` frame text (SPEC §3): direct form, or group form with the shared body serialised once per message.
import type { GroupBody } from "../store/types.js";

/** What every push names, whichever form it takes. */
export interface PushHead {
  messageId: string;
  meshId: string;
  senderPubkey: string;
  senderName: string;
  targetSpec: string;
  priority: string;
  createdAt: number;
}

/**
 * A group message's shared part, already JSON text: `"body":{…},"sig":"…"`. Built once per
 * message and spliced into each recipient's push, so a 64 KiB body is serialised once, not once
 * per recipient (a broadcast to 1,000 would otherwise stringify 64 MB).
 */
export type SharedBodyJson = string & { readonly __sharedBody: true };

export function sharedBodyJson(body: GroupBody): SharedBodyJson {
  return `"body":${JSON.stringify({ nonce: body.nonce, ciphertext: body.ciphertext })},"sig":${JSON.stringify(body.sig)}` as SharedBodyJson;
}

function headJson(h: PushHead): string {
  return (
    `{"type":"push","messageId":${JSON.stringify(h.messageId)},"meshId":${JSON.stringify(h.meshId)},` +
    `"senderPubkey":${JSON.stringify(h.senderPubkey)},"senderName":${JSON.stringify(h.senderName)},` +
    `"targetSpec":${JSON.stringify(h.targetSpec)},"priority":${JSON.stringify(h.priority)}`
  );
}

function createdAtJson(h: PushHead): string {
  return `"createdAt":${JSON.stringify(new Date(h.createdAt).toISOString())}}`;
}

/** Direct form: `nonce`/`ciphertext` are the recipient's own box (also an old fan-out copy queued before migration 8). */
export function directPushJson(h: PushHead, nonce: string, ciphertext: string): string {
  return `${headJson(h)},"nonce":${JSON.stringify(nonce)},"ciphertext":${JSON.stringify(ciphertext)},${createdAtJson(h)}`;
}

/** Group form: the shared body and signature, and this recipient's sealed key. */
export function groupPushJson(
  h: PushHead,
  shared: SharedBodyJson,
  keyNonce: string,
  sealedKey: string,
): string {
  return (
    `${headJson(h)},${shared},"key":{"nonce":${JSON.stringify(keyNonce)},"sealedKey":${JSON.stringify(sealedKey)}},` +
    createdAtJson(h)
  );
}
