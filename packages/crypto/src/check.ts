// Argument checks shared by the signing and box modules: type, length and shape, naming the argument.
import { CryptoArgumentError } from "./errors.js";
import { fromHex, isPubkeyHex } from "./encoding.js";

const SEPARATOR = "|";

/** Decodes a lowercase-hex value of exactly `bytes` bytes or throws naming `name`. */
export function requireLowerHex(value: unknown, name: string, bytes: number): Uint8Array {
  if (typeof value !== "string" || value.length !== bytes * 2 || !/^[0-9a-f]*$/.test(value)) {
    throw new CryptoArgumentError(name, `must be ${bytes * 2} lowercase hex chars`);
  }
  return fromHex(value, name);
}

/** Requires a 64-lowercase-hex ed25519 public key (SPEC §1); returns it unchanged. */
export function requirePubkeyHex(value: unknown, name: string): string {
  if (!isPubkeyHex(value)) throw new CryptoArgumentError(name, "must be 64 lowercase hex chars");
  return value;
}

/**
 * True for a value that may sit between `|` separators of a canonical string (SPEC §2–§3):
 * a non-empty string without `|`. A field containing `|` would let two different field lists
 * produce the same signed string, so such a value is never signed or accepted.
 */
export function isCanonicalField(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && !value.includes(SEPARATOR);
}

/** Throws naming `name` unless `value` is a canonical-string field (see isCanonicalField). */
export function requireCanonicalField(value: unknown, name: string): string {
  if (!isCanonicalField(value)) throw new CryptoArgumentError(name, 'must be a non-empty string without "|"');
  return value;
}

/** True for a Unix-epoch millisecond timestamp as signed on the wire: a non-negative safe integer. */
export function isTimestamp(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** Throws naming `name` unless `value` is a timestamp (see isTimestamp). */
export function requireTimestamp(value: unknown, name: string): number {
  if (!isTimestamp(value)) throw new CryptoArgumentError(name, "must be a non-negative integer (Unix ms)");
  return value;
}
