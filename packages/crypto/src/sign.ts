// Detached ed25519 signatures over bytes or UTF-8 text (RFC 8032 via libsodium crypto_sign_detached).
import { CryptoArgumentError } from "./errors.js";
import { fromHex, isPubkeyHex, isSignatureHex, toHex, utf8Encode } from "./encoding.js";
import { parseSecretKey } from "./keys.js";
import { sodium } from "./sodium.js";

/** What can be signed: raw bytes, or text signed as its UTF-8 bytes. */
export type SignableMessage = string | Uint8Array;

function messageBytes(message: unknown, name: string): Uint8Array {
  if (message instanceof Uint8Array) return message;
  if (typeof message === "string") return utf8Encode(message, name);
  throw new CryptoArgumentError(name, "must be a string or a Uint8Array");
}

/** Signs `message` with a 128-hex secret key; returns the 128-hex detached signature. */
export function signDetached(message: SignableMessage, secretKeyHex: string): string {
  const bytes = messageBytes(message, "message");
  const { secretKey } = parseSecretKey(secretKeyHex, "secretKeyHex");
  try {
    return toHex(sodium.crypto_sign_detached(bytes, secretKey));
  } finally {
    sodium.memzero(secretKey);
  }
}

/**
 * True only when `signatureHex` (128 lowercase hex) is a valid ed25519 signature of `message`
 * by `pubkeyHex` (64 lowercase hex). Never throws: any malformed input is simply `false`.
 * libsodium additionally rejects small-order public keys and non-canonical S (RFC 8032 §5.1.7).
 */
export function verifyDetached(message: SignableMessage, signatureHex: string, pubkeyHex: string): boolean {
  try {
    if (!isSignatureHex(signatureHex) || !isPubkeyHex(pubkeyHex)) return false;
    const bytes = messageBytes(message, "message");
    return sodium.crypto_sign_verify_detached(fromHex(signatureHex), bytes, fromHex(pubkeyHex));
  } catch {
    return false;
  }
}
