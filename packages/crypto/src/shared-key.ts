// Shared crypto_box keys between this peer and another (SPEC §4), cached: the local key wrapper and the bounded cache.
import { requireLowerHex } from "./check.js";
import { CryptoArgumentError } from "./errors.js";
import { toHex } from "./encoding.js";
import { KeyCache, type KeyCacheStats } from "./key-cache.js";
import { parseSecretKey } from "./keys.js";
import { randomBytes } from "./random.js";
import { sodium } from "./sodium.js";

/** Default number of cached shared keys: a client in a few meshes of hundreds of peers. */
export const DEFAULT_KEY_CACHE_CAPACITY = 4096;

/*
 * Why caching shared keys is safe: a crypto_box shared key is a deterministic function of
 * the two parties' keys (crypto_box_beforenm = HSalsa20(X25519(sk, pk))), so a cached value is
 * exactly what recomputing would give. Entries live only in this process's memory — never
 * logged, serialised or exported — are bounded in number, and are zeroed on eviction or
 * clearKeyCache(). The cache id is a keyed BLAKE2b of the local secret key under a random
 * per-process key (so it is no stable fingerprint of the key) joined to the peer's pubkey.
 * Measured here: beforenm is most of a cold box, so a cache hit makes a 100-recipient
 * fan-out to known recipients a matter of symmetric encryption only.
 */
const sharedKeys = new KeyCache(DEFAULT_KEY_CACHE_CAPACITY);
const CACHE_ID_KEY = randomBytes(sodium.crypto_generichash_KEYBYTES);
const CACHE_ID_BYTES = 16;

/** The local party of a box operation: a secret key, converted to X25519 only when a cache miss needs it. */
export class LocalKey {
  readonly id: string;
  #curveSecret: Uint8Array | undefined;

  constructor(
    private readonly secretKeyHex: string,
    private readonly name: string,
  ) {
    const secretKey = requireLowerHex(secretKeyHex, name, sodium.crypto_sign_SECRETKEYBYTES);
    this.id = toHex(sodium.crypto_generichash(CACHE_ID_BYTES, secretKey, CACHE_ID_KEY));
    sodium.memzero(secretKey);
  }

  /** X25519 secret (crypto_sign_ed25519_sk_to_curve25519, SPEC §1); checks the key's consistency once. */
  curveSecret(): Uint8Array {
    if (this.#curveSecret === undefined) {
      const { secretKey } = parseSecretKey(this.secretKeyHex, this.name);
      this.#curveSecret = sodium.crypto_sign_ed25519_sk_to_curve25519(secretKey);
      sodium.memzero(secretKey);
    }
    return this.#curveSecret;
  }

  dispose(): void {
    if (this.#curveSecret !== undefined) sodium.memzero(this.#curveSecret);
  }
}

/**
 * X25519 public key of an ed25519 public key. libsodium refuses encodings that are not a
 * point of the prime-order subgroup (including small-order points, whose shared secret an
 * attacker could predict), which surfaces here as a clear argument error.
 */
function curvePublic(pubkeyHex: string, name: string): Uint8Array {
  try {
    return sodium.crypto_sign_ed25519_pk_to_curve25519(sodium.from_hex(pubkeyHex));
  } catch {
    throw new CryptoArgumentError(
      name,
      "is not a valid ed25519 public key (not a point of the prime-order subgroup)",
    );
  }
}

/** The shared key between `local` and `peerPubkeyHex`, from the cache or computed and cached. Use it before the next call. */
export function sharedKey(local: LocalKey, peerPubkeyHex: string, peerName: string): Uint8Array {
  const id = `${local.id}:${peerPubkeyHex}`;
  const cached = sharedKeys.get(id);
  if (cached !== undefined) return cached;
  const peer = curvePublic(peerPubkeyHex, peerName);
  const key = sodium.crypto_box_beforenm(peer, local.curveSecret());
  sharedKeys.set(id, key);
  return key;
}

/** Zeroes and forgets every cached shared key (e.g. after a key rotation or on logout). */
export function clearKeyCache(): void {
  sharedKeys.clear();
}

/** Size and hit/miss counters of the shared-key cache. */
export function keyCacheStats(): KeyCacheStats {
  return sharedKeys.stats();
}

/** Changes how many shared keys are kept (default DEFAULT_KEY_CACHE_CAPACITY). */
export function setKeyCacheCapacity(capacity: number): void {
  sharedKeys.resize(capacity);
}
