// The shared-key cache behind direct boxes and group key sealing (SPEC §4): reuse, isolation per local key, bounds.
import { afterEach, describe, expect, it } from "vitest";
import {
  DEFAULT_KEY_CACHE_CAPACITY,
  clearKeyCache,
  decryptDirect,
  encryptDirect,
  fromBase64,
  generateKeypair,
  keyCacheStats,
  openGroup,
  sealGroup,
  setKeyCacheCapacity,
  toBase64,
  type Keypair,
} from "../src/index.js";
import { ALICE, BOB, CAROL, expectArgumentError } from "./helpers.js";

const PEERS: Keypair[] = Array.from({ length: 8 }, () => generateKeypair());

afterEach(() => {
  setKeyCacheCapacity(DEFAULT_KEY_CACHE_CAPACITY);
  clearKeyCache();
});

describe("shared-key cache", () => {
  it("converts keys once per (sender, recipient): a repeated 100-recipient fan-out has no misses", () => {
    clearKeyCache();
    const recipients = Array.from({ length: 100 }, () => generateKeypair().publicKey);
    sealGroup("first", recipients, ALICE.secretKey, "m1", "*");
    expect(keyCacheStats()).toMatchObject({ size: 100, hits: 0, misses: 100 });
    sealGroup("second", recipients, ALICE.secretKey, "m1", "*");
    expect(keyCacheStats()).toMatchObject({ size: 100, hits: 100, misses: 100 });
  });

  it("shares one cached key between encrypting to a peer and decrypting from it", () => {
    clearKeyCache();
    const env = encryptDirect("ping", BOB.publicKey, ALICE.secretKey);
    expect(decryptDirect(env, ALICE.publicKey, BOB.secretKey)).toBe("ping");
    const reply = encryptDirect("pong", BOB.publicKey, ALICE.secretKey);
    expect(decryptDirect(reply, ALICE.publicKey, BOB.secretKey)).toBe("pong");
    // ALICE→BOB and BOB←ALICE are two local keys, so two entries; the second round trip hits both.
    expect(keyCacheStats()).toMatchObject({ size: 2, hits: 2, misses: 2 });
  });

  it("keeps separate entries per local secret key, so one identity never uses another's shared key", () => {
    clearKeyCache();
    const fromAlice = encryptDirect("a", CAROL.publicKey, ALICE.secretKey);
    const fromBob = encryptDirect("b", CAROL.publicKey, BOB.secretKey);
    expect(keyCacheStats().size).toBe(2);
    expect(decryptDirect(fromAlice, ALICE.publicKey, CAROL.secretKey)).toBe("a");
    expect(decryptDirect(fromBob, BOB.publicKey, CAROL.secretKey)).toBe("b");
    expect(decryptDirect(fromBob, ALICE.publicKey, CAROL.secretKey)).toBeNull();
  });

  it("stays within its capacity and still works after evictions", () => {
    setKeyCacheCapacity(3);
    const recipients = PEERS.slice(0, 6);
    const sealed = sealGroup(
      "evicting",
      recipients.map((r) => r.publicKey),
      ALICE.secretKey,
      "m1",
      "*",
    );
    expect(keyCacheStats().size).toBe(3);
    sealed.keys.forEach((key, i) => {
      const push = { meshId: "m1", targetSpec: "*", senderPubkey: ALICE.publicKey, ...sealed, key };
      expect(openGroup(push, recipients[i]!.secretKey)).toBe("evicting");
    });
    expect(keyCacheStats().size).toBe(3);
  });

  it("starts cold again after clearKeyCache()", () => {
    encryptDirect("x", BOB.publicKey, ALICE.secretKey);
    clearKeyCache();
    expect(keyCacheStats()).toMatchObject({ size: 0, hits: 0, misses: 0 });
    encryptDirect("x", BOB.publicKey, ALICE.secretKey);
    expect(keyCacheStats()).toMatchObject({ size: 1, misses: 1 });
  });

  it("refuses an envelope with a wrong-length nonce or a too-short ciphertext before any key work", () => {
    const env = encryptDirect("x", BOB.publicKey, ALICE.secretKey);
    clearKeyCache();
    const shortNonce = { ...env, nonce: toBase64(fromBase64(env.nonce).subarray(0, 23)) };
    const shortCiphertext = { ...env, ciphertext: toBase64(fromBase64(env.ciphertext).subarray(0, 15)) };
    expect(decryptDirect(shortNonce, ALICE.publicKey, BOB.secretKey)).toBeNull();
    expect(decryptDirect(shortCiphertext, ALICE.publicKey, BOB.secretKey)).toBeNull();
    expect(keyCacheStats()).toMatchObject({ size: 0, hits: 0, misses: 0 });
  });

  it("rejects a capacity that is not a positive integer, naming it", () => {
    expectArgumentError(() => setKeyCacheCapacity(0), "capacity");
    expectArgumentError(() => setKeyCacheCapacity(2.5), "capacity");
  });
});
