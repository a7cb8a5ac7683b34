// End-to-end encryption of direct messages (SPEC §4): crypto_box envelopes between two peers.
import { requirePubkeyHex } from "./check.js";
import { fromBase64, isPubkeyHex, toBase64, takeText, utf8Encode } from "./encoding.js";
import { randomBytes } from "./random.js";
import { LocalKey, sharedKey } from "./shared-key.js";
import { sodium } from "./sodium.js";

/** A direct message as carried on the wire: both fields standard base64 (SPEC §4). */
export interface DirectEnvelope {
  /** 24 random bytes. */
  nonce: string;
  /** XSalsa20-Poly1305 ciphertext with its 16-byte MAC in front (crypto_box_easy layout). */
  ciphertext: string;
}

function seal(plaintext: Uint8Array, key: Uint8Array): DirectEnvelope {
  const nonce = randomBytes(sodium.crypto_box_NONCEBYTES);
  const ciphertext = sodium.crypto_box_easy_afternm(plaintext, nonce, key);
  return { nonce: toBase64(nonce), ciphertext: toBase64(ciphertext) };
}

/**
 * Encrypts `message` (text) for one recipient: crypto_box_easy with a fresh random 24-byte
 * nonce, keys converted ed25519 → X25519 (SPEC §4). Throws a CryptoArgumentError naming the
 * bad argument, including a recipient pubkey that is not a valid curve point.
 */
export function encryptDirect(
  message: string,
  recipientPubkeyHex: string,
  senderSecretKeyHex: string,
): DirectEnvelope {
  const plaintext = utf8Encode(message, "message");
  requirePubkeyHex(recipientPubkeyHex, "recipientPubkeyHex");
  const local = new LocalKey(senderSecretKeyHex, "senderSecretKeyHex");
  try {
    return seal(plaintext, sharedKey(local, recipientPubkeyHex, "recipientPubkeyHex"));
  } finally {
    local.dispose();
    sodium.memzero(plaintext);
  }
}

/**
 * Opens a direct envelope from `senderPubkeyHex`. Returns the text, or null on ANY failure —
 * wrong key, tampered or truncated data, malformed base64, wrong lengths, a sender key that
 * is no valid point, plaintext that is not UTF-8, arguments of the wrong type. Never throws:
 * a peer's bytes must not be able to crash the reader (SPEC §4).
 */
export function decryptDirect(
  envelope: DirectEnvelope,
  senderPubkeyHex: string,
  recipientSecretKeyHex: string,
): string | null {
  let local: LocalKey | undefined;
  try {
    if (typeof envelope !== "object" || envelope === null || !isPubkeyHex(senderPubkeyHex)) return null;
    const nonce = fromBase64(envelope.nonce, "envelope.nonce");
    const ciphertext = fromBase64(envelope.ciphertext, "envelope.ciphertext");
    // libsodium would throw on these lengths too; checking first spares garbage any key work.
    if (nonce.length !== sodium.crypto_box_NONCEBYTES || ciphertext.length < sodium.crypto_box_MACBYTES)
      return null;
    local = new LocalKey(recipientSecretKeyHex, "recipientSecretKeyHex");
    const key = sharedKey(local, senderPubkeyHex, "senderPubkeyHex");
    return takeText(sodium.crypto_box_open_easy_afternm(ciphertext, nonce, key));
  } catch {
    return null;
  } finally {
    local?.dispose();
  }
}
