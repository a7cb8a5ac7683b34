// Group messages (SPEC §4 revision 2): a `*` / `#name` message encrypted once under a fresh key, signed once,
// and only that 32-byte key sealed per recipient — the hybrid scheme of multi-recipient tools such as age.
import { canonicalGroup, isFanoutTarget, MAX_GROUP_RECIPIENTS } from "@claudemesh/protocol";
import { requireCanonicalField, requirePubkeyHex } from "./check.js";
import { CryptoArgumentError } from "./errors.js";
import {
  fromBase64,
  isPubkeyHex,
  isSignatureHex,
  toBase64,
  toHex,
  takeText,
  utf8Encode,
} from "./encoding.js";
import { parseSecretKey } from "./keys.js";
import { randomBytes } from "./random.js";
import { LocalKey, sharedKey } from "./shared-key.js";
import { sodium } from "./sodium.js";

/** The group body as carried on the wire: secretbox nonce and ciphertext, both standard base64. */
export interface GroupBody {
  nonce: string;
  ciphertext: string;
}

/** The message key sealed for one recipient (`to`): crypto_box of the 32-byte key. */
export interface GroupKeyEnvelope {
  to: string;
  nonce: string;
  sealedKey: string;
}

/** What sealGroup produces: the fields a group `send` frame carries besides its routing. */
export interface SealedGroup {
  body: GroupBody;
  /** 128-hex ed25519 signature of the canonical group string (SPEC §4 step 2). */
  sig: string;
  keys: GroupKeyEnvelope[];
}

/** The fields of a group `push` a recipient needs to open it. */
export interface GroupPushFields {
  meshId: string;
  targetSpec: string;
  senderPubkey: string;
  body: GroupBody;
  sig: string;
  key: { nonce: string; sealedKey: string };
}

const KEY_BYTES = 32;
const SEALED_KEY_BYTES = KEY_BYTES + 16;
const HASH_BYTES = 32;

/** The canonical signing string of a group body (SPEC §4 step 2), from its wire fields and ciphertext bytes. */
function groupCanonical(
  meshId: string,
  targetSpec: string,
  bodyNonce: string,
  ciphertext: Uint8Array,
): string {
  return canonicalGroup(
    meshId,
    targetSpec,
    bodyNonce,
    toHex(sodium.crypto_generichash(HASH_BYTES, ciphertext, null)),
  );
}

function requireRecipients(value: unknown): readonly string[] {
  if (!Array.isArray(value)) throw new CryptoArgumentError("recipientPubkeysHex", "must be an array");
  if (value.length === 0 || value.length > MAX_GROUP_RECIPIENTS) {
    throw new CryptoArgumentError("recipientPubkeysHex", `must hold 1 to ${MAX_GROUP_RECIPIENTS} pubkeys`);
  }
  const seen = new Set<string>();
  value.forEach((to: unknown, i) => {
    requirePubkeyHex(to, `recipientPubkeysHex[${i}]`);
    if (seen.has(to as string))
      throw new CryptoArgumentError(`recipientPubkeysHex[${i}]`, "repeats an earlier recipient");
    seen.add(to as string);
  });
  return value as readonly string[];
}

/**
 * Seals `message` for a broadcast (`*`) or channel (`#name`) send (SPEC §4): the text is
 * encrypted once with crypto_secretbox under a fresh random key K, the canonical group string
 * (mesh, target, body nonce, BLAKE2b-256 of the ciphertext) is signed with the sender's ed25519
 * key, and K is sealed with crypto_box for each recipient (own fresh nonce each). `keys` follows
 * the order of `recipientPubkeysHex`; duplicates and invalid keys are refused before any work,
 * because the broker requires the key set to equal its recipient set. K is zeroed afterwards.
 */
export function sealGroup(
  message: string,
  recipientPubkeysHex: readonly string[],
  senderSecretKeyHex: string,
  meshId: string,
  targetSpec: string,
): SealedGroup {
  requireCanonicalField(meshId, "meshId");
  if (typeof targetSpec !== "string" || !isFanoutTarget(targetSpec) || targetSpec.includes("|")) {
    throw new CryptoArgumentError("targetSpec", 'must be "*" or "#name"');
  }
  const recipients = requireRecipients(recipientPubkeysHex);
  const plaintext = utf8Encode(message, "message");
  const { secretKey } = parseSecretKey(senderSecretKeyHex, "senderSecretKeyHex");
  const local = new LocalKey(senderSecretKeyHex, "senderSecretKeyHex");
  const key = randomBytes(KEY_BYTES);
  try {
    // Every recipient key is converted (and checked to be a curve point) before anything is sealed.
    const shared = recipients.map((to, i) => sharedKey(local, to, `recipientPubkeysHex[${i}]`).slice());
    const nonce = randomBytes(sodium.crypto_secretbox_NONCEBYTES);
    const ciphertext = sodium.crypto_secretbox_easy(plaintext, nonce, key);
    const body = { nonce: toBase64(nonce), ciphertext: toBase64(ciphertext) };
    const canonical = groupCanonical(meshId, targetSpec, body.nonce, ciphertext);
    const sig = toHex(sodium.crypto_sign_detached(utf8Encode(canonical, "canonical"), secretKey));
    const keys = recipients.map((to, i) => {
      const keyNonce = randomBytes(sodium.crypto_box_NONCEBYTES);
      const sealedKey = sodium.crypto_box_easy_afternm(key, keyNonce, shared[i]!);
      sodium.memzero(shared[i]!);
      return { to, nonce: toBase64(keyNonce), sealedKey: toBase64(sealedKey) };
    });
    return { body, sig, keys };
  } finally {
    sodium.memzero(key);
    sodium.memzero(secretKey);
    sodium.memzero(plaintext);
    local.dispose();
  }
}

/**
 * Opens a group push for the holder of `recipientSecretKeyHex`: opens the sealed key with the
 * sender's key, verifies `sig` against `senderPubkey` over the canonical string rebuilt from the
 * push's own meshId, targetSpec and body, then opens the body. Returns the text, or null on ANY
 * failure — tampered body, signature, sealed key or canonical field, wrong recipient, malformed
 * input of any type. Never throws: a peer's (or the broker's) bytes must not crash the reader.
 */
export function openGroup(push: GroupPushFields, recipientSecretKeyHex: string): string | null {
  let local: LocalKey | undefined;
  let key: Uint8Array | undefined;
  try {
    if (typeof push !== "object" || push === null) return null;
    const { meshId, targetSpec, senderPubkey, body, sig } = push;
    const sealed = push.key;
    if (!isPubkeyHex(senderPubkey) || !isSignatureHex(sig)) return null;
    if (typeof meshId !== "string" || typeof targetSpec !== "string" || !isFanoutTarget(targetSpec))
      return null;
    if (typeof body !== "object" || body === null || typeof sealed !== "object" || sealed === null)
      return null;
    const keyNonce = fromBase64(sealed.nonce, "key.nonce");
    const sealedKey = fromBase64(sealed.sealedKey, "key.sealedKey");
    const nonce = fromBase64(body.nonce, "body.nonce");
    const ciphertext = fromBase64(body.ciphertext, "body.ciphertext");
    if (
      keyNonce.length !== sodium.crypto_box_NONCEBYTES ||
      sealedKey.length !== SEALED_KEY_BYTES ||
      nonce.length !== sodium.crypto_secretbox_NONCEBYTES ||
      ciphertext.length < sodium.crypto_secretbox_MACBYTES
    )
      return null;
    const canonical = groupCanonical(meshId, targetSpec, body.nonce, ciphertext);
    if (
      !sodium.crypto_sign_verify_detached(
        sodium.from_hex(sig),
        utf8Encode(canonical, "canonical"),
        sodium.from_hex(senderPubkey),
      )
    )
      return null;
    local = new LocalKey(recipientSecretKeyHex, "recipientSecretKeyHex");
    key = sodium.crypto_box_open_easy_afternm(
      sealedKey,
      keyNonce,
      sharedKey(local, senderPubkey, "senderPubkey"),
    );
    if (key.length !== KEY_BYTES) return null;
    return takeText(sodium.crypto_secretbox_open_easy(ciphertext, nonce, key));
  } catch {
    return null;
  } finally {
    if (key !== undefined) sodium.memzero(key);
    local?.dispose();
  }
}
