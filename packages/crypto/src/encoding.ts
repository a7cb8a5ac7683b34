// Hex, base64, base64url and strict UTF-8 codecs shared by every module of this package (SPEC §1, §4).
import { PUBKEY_HEX_RE, SIGNATURE_HEX_RE } from "@claudemesh/protocol";
import { CryptoArgumentError } from "./errors.js";
import { randomBytes } from "./random.js";
import { sodium } from "./sodium.js";

const ANY_HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;
/** Standard-alphabet base64 with padding (SPEC §4: "both base64 (standard alphabet)"). */
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** A UTF-16 surrogate that is not part of a pair (cannot be encoded as UTF-8 without loss). */
const LONE_SURROGATE_RE = /\p{Surrogate}/u;
const MAX_RANDOM_ID_BYTES = 64;

const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

function requireBytes(value: unknown, name: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new CryptoArgumentError(name, "must be a Uint8Array");
  return value;
}

function requireString(value: unknown, name: string): string {
  if (typeof value !== "string") throw new CryptoArgumentError(name, "must be a string");
  return value;
}

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  return sodium.to_hex(requireBytes(bytes, "bytes"));
}

/** Decodes hex (either case, even length); throws a CryptoArgumentError naming `name`. */
export function fromHex(hex: string, name = "hex"): Uint8Array {
  if (!ANY_HEX_RE.test(requireString(hex, name))) {
    throw new CryptoArgumentError(name, "must be an even number of hex chars");
  }
  return sodium.from_hex(hex);
}

/** Standard-alphabet, padded base64 of `bytes` (the form of every nonce and ciphertext on the wire). */
export function toBase64(bytes: Uint8Array): string {
  return sodium.to_base64(requireBytes(bytes, "bytes"), sodium.base64_variants.ORIGINAL);
}

/**
 * Decodes canonical standard-alphabet padded base64. Non-canonical spellings (url-safe
 * alphabet, missing padding, whitespace: refused by the pattern; non-zero unused trailing
 * bits: refused by libsodium) are errors, so one byte string has exactly one accepted form.
 */
export function fromBase64(b64: string, name = "base64"): Uint8Array {
  if (!BASE64_RE.test(requireString(b64, name))) {
    throw new CryptoArgumentError(name, "must be standard-alphabet padded base64");
  }
  try {
    return sodium.from_base64(b64, sodium.base64_variants.ORIGINAL);
  } catch {
    throw new CryptoArgumentError(name, "must be canonical base64 (unused trailing bits must be zero)");
  }
}

/** Unpadded base64url (RFC 4648 §5) of `bytes`. */
export function toBase64Url(bytes: Uint8Array): string {
  return sodium.to_base64(requireBytes(bytes, "bytes"), sodium.base64_variants.URLSAFE_NO_PADDING);
}

/**
 * A random url-safe id of `bytes` random bytes (default 16 → 22 chars), for invite ids and
 * message ids (Web Crypto CSPRNG).
 */
export function randomId(bytes = 16): string {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > MAX_RANDOM_ID_BYTES) {
    throw new CryptoArgumentError("bytes", `must be an integer from 1 to ${MAX_RANDOM_ID_BYTES}`);
  }
  return toBase64Url(randomBytes(bytes));
}

/** True for a 32-byte ed25519 public key written as 64 lowercase hex chars (SPEC §1). */
export function isPubkeyHex(value: unknown): value is string {
  return typeof value === "string" && PUBKEY_HEX_RE.test(value);
}

/** True for a 64-byte ed25519 signature written as 128 lowercase hex chars (SPEC §1). */
export function isSignatureHex(value: unknown): value is string {
  return typeof value === "string" && SIGNATURE_HEX_RE.test(value);
}

/** True when `text` has no lone surrogate, i.e. it converts to UTF-8 and back unchanged. */
export function isWellFormedText(text: string): boolean {
  return !LONE_SURROGATE_RE.test(text);
}

/**
 * UTF-8 bytes of `text`. A lone surrogate would be silently replaced by U+FFFD (so the
 * receiver would read something other than what was sent, and two strings would sign alike),
 * so it is rejected instead.
 */
export function utf8Encode(text: unknown, name: string): Uint8Array {
  if (!isWellFormedText(requireString(text, name))) {
    throw new CryptoArgumentError(name, "must be well-formed text (it contains a lone UTF-16 surrogate)");
  }
  return utf8Encoder.encode(text as string);
}

/** Strict UTF-8 decode (a leading BOM is kept as U+FEFF); null for any invalid sequence. */
export function utf8DecodeOrNull(bytes: Uint8Array): string | null {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    return null;
  }
}

/** The text of opened plaintext (null when it is not UTF-8); the plaintext bytes are zeroed either way. */
export function takeText(plaintext: Uint8Array): string | null {
  const text = utf8DecodeOrNull(plaintext);
  sodium.memzero(plaintext);
  return text;
}
