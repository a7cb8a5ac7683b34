// End-to-end encryption (SPEC §4): direct crypto_box envelopes and per-recipient fan-out sealing.
import { requireLowerHex, requirePubkeyHex } from "./check.js";
import { CryptoArgumentError } from "./errors.js";
import { fromBase64, isPubkeyHex, toBase64, toHex, utf8DecodeOrNull, utf8Encode } from "./encoding.js";
import { KeyCache, type KeyCacheStats } from "./key-cache.js";
import { parseSecretKey } from "./keys.js";
import { randomBytes } from "./random.js";
import { sodium } from "./sodium.js";

/** A direct message as carried on the wire: both fields standard base64 (SPEC §4). */
export interface DirectEnvelope {
  /** 24 random bytes. */
  nonce: string;
  /** XSalsa20-Poly1305 ciphertext with its 16-byte MAC in front (crypto_box_easy layout). */
  ciphertext: string;
}

/** One envelope of a broadcast/channel fan-out, addressed to the recipient pubkey `to`. */
export interface SealedEnvelope extends DirectEnvelope {
  to: string;
}

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
class LocalKey {
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
function sharedKey(local: LocalKey, peerPubkeyHex: string, peerName: string): Uint8Array {
  const id = `${local.id}:${peerPubkeyHex}`;
  const cached = sharedKeys.get(id);
  if (cached !== undefined) return cached;
  const peer = curvePublic(peerPubkeyHex, peerName);
  const key = sodium.crypto_box_beforenm(peer, local.curveSecret());
  sharedKeys.set(id, key);
  return key;
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
    const plaintext = sodium.crypto_box_open_easy_afternm(ciphertext, nonce, key);
    const text = utf8DecodeOrNull(plaintext);
    sodium.memzero(plaintext);
    return text;
  } catch {
    return null;
  } finally {
    local?.dispose();
  }
}

/**
 * Seals `message` once per recipient for a broadcast (`*`) or channel (`#name`) send
 * (SPEC §3–§4): one direct envelope each, every one with its own fresh nonce and
 * authenticating the sender. Order follows `recipientPubkeysHex`; duplicates are refused
 * because the broker requires the envelope set to equal its recipient set. Every recipient is
 * checked before anything is returned.
 */
export function sealForRecipients(
  message: string,
  recipientPubkeysHex: readonly string[],
  senderSecretKeyHex: string,
): SealedEnvelope[] {
  const plaintext = utf8Encode(message, "message");
  if (!Array.isArray(recipientPubkeysHex))
    throw new CryptoArgumentError("recipientPubkeysHex", "must be an array");
  const seen = new Set<string>();
  recipientPubkeysHex.forEach((to, i) => {
    requirePubkeyHex(to, `recipientPubkeysHex[${i}]`);
    if (seen.has(to))
      throw new CryptoArgumentError(`recipientPubkeysHex[${i}]`, "repeats an earlier recipient");
    seen.add(to);
  });
  const local = new LocalKey(senderSecretKeyHex, "senderSecretKeyHex");
  try {
    return recipientPubkeysHex.map((to, i) => ({
      to,
      ...seal(plaintext, sharedKey(local, to, `recipientPubkeysHex[${i}]`)),
    }));
  } finally {
    local.dispose();
    sodium.memzero(plaintext);
  }
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
