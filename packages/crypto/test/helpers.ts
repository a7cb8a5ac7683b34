// Shared fixtures for the crypto tests: fixed identities, bad curve points, text arbitraries and byte-flipping helpers.
import fc from "fast-check";
import {
  CryptoArgumentError,
  fromBase64,
  fromHex,
  keypairFromSeed,
  toBase64,
  toHex,
  type Keypair,
} from "../src/index.js";

/** Deterministic identities so failures reproduce; seeds are arbitrary. */
export const ALICE: Keypair = keypairFromSeed("a1".repeat(32));
export const BOB: Keypair = keypairFromSeed("b0".repeat(32));
export const CAROL: Keypair = keypairFromSeed("c4".repeat(32));

/** y = 2 has no x on edwards25519 (checked against @noble in cross-check.test.ts). */
export const NOT_ON_CURVE_PUBKEY = "02" + "00".repeat(31);
/** The identity point (small order: its X25519 shared secret would be predictable). */
export const SMALL_ORDER_PUBKEY = "01" + "00".repeat(31);
/** y = 3 is on the curve but outside the prime-order subgroup (checked in cross-check.test.ts). */
export const MIXED_ORDER_PUBKEY = "03" + "00".repeat(31);

/** Keeps property tests to a few seconds for the whole file. */
export const FC = { numRuns: 40 } as const;

/** `bytes` with bit `bit` of byte `index` inverted (a copy). */
export function flipBit(bytes: Uint8Array, index: number, bit = 0): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[index] = (copy[index] ?? 0) ^ (1 << bit);
  return copy;
}

/** Hex string with one bit of byte `index` flipped. */
export function flipHex(hex: string, index: number, bit = 0): string {
  return toHex(flipBit(fromHex(hex), index, bit));
}

/** Base64 string with one bit of decoded byte `index` flipped, re-encoded canonically. */
export function flipBase64(b64: string, index: number, bit = 0): string {
  return toBase64(flipBit(fromBase64(b64), index, bit));
}

/** A fixed clock reading for signing tests (2026-01-01T00:00:00Z). */
export const NOW = Date.UTC(2026, 0, 1);

/** Runs `call` and checks it threw a CryptoArgumentError (a TypeError) whose message starts with `argument`. */
export function expectArgumentError(call: () => unknown, argument: string): void {
  let caught: unknown;
  try {
    call();
  } catch (err) {
    caught = err;
  }
  if (!(caught instanceof CryptoArgumentError)) {
    throw new Error(`expected a CryptoArgumentError naming ${argument}, got ${String(caught)}`);
  }
  if (
    !(caught instanceof TypeError) ||
    caught.argument !== argument ||
    !caught.message.startsWith(`${argument} `)
  ) {
    throw new Error(`expected an error naming ${argument}, got "${caught.message}"`);
  }
}

/** Any Unicode scalar value (every code point but the surrogates). */
const scalar = fc.oneof(fc.integer({ min: 0, max: 0xd7ff }), fc.integer({ min: 0xe000, max: 0x10ffff }));

/**
 * Any well-formed text: ASCII, real grapheme clusters, and arbitrary scalar values across all
 * planes. (fast-check's own full-Unicode unit costs ~1.5 s of table building per test file.)
 */
export const anyText: fc.Arbitrary<string> = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme", maxLength: 32 }),
  fc.array(scalar, { maxLength: 200 }).map((codePoints) => String.fromCodePoint(...codePoints)),
);
