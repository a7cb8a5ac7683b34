// Group-message helpers for the broker suites (SPEC §4 revision 2): seal a `*`/`#name` send and open a group push, written
// straight against libsodium from the spec text, so the broker tests do not depend on the crypto package's own implementation.
import sodium from "libsodium-wrappers";
import { canonicalGroup, type Priority, type Push } from "@claudemesh/protocol";
import type { Member } from "../helpers/identity.js";

await sodium.ready;

const B64 = sodium.base64_variants.ORIGINAL;
const b64 = (bytes: Uint8Array): string => sodium.to_base64(bytes, B64);
const unb64 = (text: string): Uint8Array => sodium.from_base64(text, B64);

function curveSecret(secretKeyHex: string): Uint8Array {
  return sodium.crypto_sign_ed25519_sk_to_curve25519(sodium.from_hex(secretKeyHex));
}

function curvePublic(pubkeyHex: string): Uint8Array {
  return sodium.crypto_sign_ed25519_pk_to_curve25519(sodium.from_hex(pubkeyHex));
}

export interface SealedGroup {
  body: { nonce: string; ciphertext: string };
  sig: string;
  keys: Array<{ to: string; nonce: string; sealedKey: string }>;
}

/** SPEC §4 steps 1–3: encrypt once under a fresh key, sign the canonical string, seal the key per recipient. */
export function sealGroupForTest(
  text: string,
  recipients: readonly string[],
  sender: Pick<Member, "secretKey" | "meshId">,
  targetSpec: string,
): SealedGroup {
  const key = sodium.randombytes_buf(32);
  const nonce = sodium.randombytes_buf(24);
  const ciphertext = sodium.crypto_secretbox_easy(sodium.from_string(text), nonce, key);
  const hash = sodium.to_hex(sodium.crypto_generichash(32, ciphertext, null));
  const canonical = canonicalGroup(sender.meshId, targetSpec, b64(nonce), hash);
  const sig = sodium.to_hex(
    sodium.crypto_sign_detached(sodium.from_string(canonical), sodium.from_hex(sender.secretKey)),
  );
  const mine = curveSecret(sender.secretKey);
  // One shared key per recipient pair (crypto_box_beforenm): sealing 1,000 keys stays quick.
  const keys = recipients.map((to) => {
    const keyNonce = sodium.randombytes_buf(24);
    const shared = sodium.crypto_box_beforenm(curvePublic(to), mine);
    return {
      to,
      nonce: b64(keyNonce),
      sealedKey: b64(sodium.crypto_box_easy_afternm(key, keyNonce, shared)),
    };
  });
  return { body: { nonce: b64(nonce), ciphertext: b64(ciphertext) }, sig, keys };
}

let seq = 0;

/** A group `send` frame from `from` to `targetSpec`, sealed for `recipients`. */
export function groupSend(
  from: Member,
  targetSpec: string,
  recipients: readonly Member[],
  text: string,
  options: { id?: string; priority?: Priority } = {},
) {
  const sealed = sealGroupForTest(
    text,
    recipients.map((r) => r.pubkey),
    from,
    targetSpec,
  );
  return {
    type: "send" as const,
    id: options.id ?? `grp${++seq}`,
    targetSpec,
    priority: options.priority ?? ("now" as const),
    ...sealed,
  };
}

/**
 * Opens a group push for `me` (key, signature against senderPubkey, then body); null on any failure.
 * The push's meshId and targetSpec are part of what the signature covers.
 */
export function openGroupForTest(push: Push, me: Pick<Member, "secretKey">): string | null {
  try {
    if (!push.body || !push.sig || !push.key) return null;
    const shared = sodium.crypto_box_beforenm(curvePublic(push.senderPubkey), curveSecret(me.secretKey));
    const key = sodium.crypto_box_open_easy_afternm(unb64(push.key.sealedKey), unb64(push.key.nonce), shared);
    const ciphertext = unb64(push.body.ciphertext);
    const canonical = canonicalGroup(
      push.meshId,
      push.targetSpec,
      push.body.nonce,
      sodium.to_hex(sodium.crypto_generichash(32, ciphertext, null)),
    );
    if (
      !sodium.crypto_sign_verify_detached(
        sodium.from_hex(push.sig),
        sodium.from_string(canonical),
        sodium.from_hex(push.senderPubkey),
      )
    )
      return null;
    return sodium.to_string(sodium.crypto_secretbox_open_easy(ciphertext, unb64(push.body.nonce), key));
  } catch {
    return null;
  }
}
