// ed25519 identities (SPEC §1): generation, derivation from a seed, and checked parsing of secret keys.
import { requireLowerHex } from "./check.js";
import { CryptoArgumentError } from "./errors.js";
import { toHex } from "./encoding.js";
import { randomBytes } from "./random.js";
import { sodium } from "./sodium.js";

/** An identity: `publicKey` 64 lowercase hex; `secretKey` 128 lowercase hex (libsodium seed‖pubkey). */
export interface Keypair {
  publicKey: string;
  secretKey: string;
}

/** A decoded, consistency-checked secret key. */
export interface ParsedSecretKey {
  /** 64 bytes, seed‖pubkey. */
  secretKey: Uint8Array;
  /** 32 bytes; equal to secretKey[32..64] and derived from the seed. */
  publicKey: Uint8Array;
}

/** A fresh random identity: a CSPRNG seed expanded as RFC 8032 §5.1.5 (crypto_sign_seed_keypair). */
export function generateKeypair(): Keypair {
  const seed = randomBytes(sodium.crypto_sign_SEEDBYTES);
  const kp = sodium.crypto_sign_seed_keypair(seed);
  const result = { publicKey: toHex(kp.publicKey), secretKey: toHex(kp.privateKey) };
  sodium.memzero(kp.privateKey);
  sodium.memzero(seed);
  return result;
}

/** The identity whose 32-byte seed is `seedHex` (64 lowercase hex); deterministic (RFC 8032 §5.1.5). */
export function keypairFromSeed(seedHex: string): Keypair {
  const seed = requireLowerHex(seedHex, "seedHex", sodium.crypto_sign_SEEDBYTES);
  const kp = sodium.crypto_sign_seed_keypair(seed);
  const result = { publicKey: toHex(kp.publicKey), secretKey: toHex(kp.privateKey) };
  sodium.memzero(kp.privateKey);
  sodium.memzero(seed);
  return result;
}

/**
 * Decodes a 128-hex secret key and checks that its second half is the public key of its
 * first half. libsodium signs with whatever public key sits in the second half; a mismatched
 * half would make signatures that verify under no published key and, for an attacker who can
 * choose that half, can leak the signing key (the "double public key" misuse of ed25519).
 */
export function parseSecretKey(secretKeyHex: unknown, name: string): ParsedSecretKey {
  const secretKey = requireLowerHex(secretKeyHex, name, sodium.crypto_sign_SECRETKEYBYTES);
  const derived = sodium.crypto_sign_seed_keypair(secretKey.subarray(0, sodium.crypto_sign_SEEDBYTES));
  sodium.memzero(derived.privateKey);
  if (!sodium.memcmp(derived.publicKey, secretKey.subarray(sodium.crypto_sign_SEEDBYTES))) {
    sodium.memzero(secretKey);
    throw new CryptoArgumentError(
      name,
      "is inconsistent: its last 32 bytes are not the public key of its seed",
    );
  }
  return { secretKey, publicKey: derived.publicKey };
}

/** The 64-hex public key of a 128-hex secret key (checked for consistency, see parseSecretKey). */
export function publicKeyFromSecretKey(secretKeyHex: string): string {
  const parsed = parseSecretKey(secretKeyHex, "secretKeyHex");
  sodium.memzero(parsed.secretKey);
  return toHex(parsed.publicKey);
}
