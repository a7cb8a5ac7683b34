// Fan-out sealing (SPEC §3–§4): one envelope per recipient, readable only by it, with shared keys reused from the cache.
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import {
  DEFAULT_KEY_CACHE_CAPACITY,
  clearKeyCache,
  decryptDirect,
  encryptDirect,
  fromBase64,
  generateKeypair,
  keyCacheStats,
  sealForRecipients,
  setKeyCacheCapacity,
  toBase64,
  type Keypair,
} from "../src/index.js";
import { ALICE, BOB, CAROL, FC, NOT_ON_CURVE_PUBKEY, anyText, expectArgumentError } from "./helpers.js";

const PEERS: Keypair[] = Array.from({ length: 8 }, () => generateKeypair());

afterEach(() => {
  setKeyCacheCapacity(DEFAULT_KEY_CACHE_CAPACITY);
  clearKeyCache();
});

describe("sealForRecipients", () => {
  it("returns one envelope per recipient, in order, each addressed by `to`", () => {
    const envelopes = sealForRecipients("hello all", [BOB.publicKey, CAROL.publicKey], ALICE.secretKey);
    expect(envelopes.map((e) => e.to)).toEqual([BOB.publicKey, CAROL.publicKey]);
    expect(decryptDirect(envelopes[0]!, ALICE.publicKey, BOB.secretKey)).toBe("hello all");
    expect(decryptDirect(envelopes[1]!, ALICE.publicKey, CAROL.secretKey)).toBe("hello all");
    expect(envelopes[0]!.nonce).not.toBe(envelopes[1]!.nonce);
  });

  it("makes each envelope readable by its own recipient only (property)", () => {
    fc.assert(
      fc.property(fc.subarray(PEERS, { minLength: 1 }), anyText, (recipients, text) => {
        const envelopes = sealForRecipients(
          text,
          recipients.map((r) => r.publicKey),
          ALICE.secretKey,
        );
        expect(envelopes).toHaveLength(recipients.length);
        envelopes.forEach((env, i) => {
          const own = recipients[i]!;
          const other = PEERS[(PEERS.indexOf(own) + 1) % PEERS.length]!;
          expect(env.to).toBe(own.publicKey);
          expect(decryptDirect(env, ALICE.publicKey, own.secretKey)).toBe(text);
          expect(decryptDirect(env, ALICE.publicKey, other.secretKey)).toBeNull();
        });
      }),
      FC,
    );
  });

  it("authenticates the sender: an envelope does not open as if sent by someone else", () => {
    const [env] = sealForRecipients("from alice", [BOB.publicKey], ALICE.secretKey);
    expect(decryptDirect(env!, CAROL.publicKey, BOB.secretKey)).toBeNull();
  });

  it("returns no envelopes for no recipients", () => {
    expect(sealForRecipients("nobody", [], ALICE.secretKey)).toEqual([]);
  });

  it("throws naming the bad argument, including the index of a bad recipient, before sealing anything", () => {
    expectArgumentError(() => sealForRecipients(1 as never, [BOB.publicKey], ALICE.secretKey), "message");
    expectArgumentError(
      () => sealForRecipients("m", BOB.publicKey as never, ALICE.secretKey),
      "recipientPubkeysHex",
    );
    expectArgumentError(
      () => sealForRecipients("m", [BOB.publicKey, "xy"], ALICE.secretKey),
      "recipientPubkeysHex[1]",
    );
    expectArgumentError(
      () => sealForRecipients("m", [BOB.publicKey, CAROL.publicKey, BOB.publicKey], ALICE.secretKey),
      "recipientPubkeysHex[2]",
    );
    expectArgumentError(
      () => sealForRecipients("m", [BOB.publicKey, NOT_ON_CURVE_PUBKEY], ALICE.secretKey),
      "recipientPubkeysHex[1]",
    );
    expectArgumentError(() => sealForRecipients("m", [BOB.publicKey], "00"), "senderSecretKeyHex");
  });
});

describe("shared-key cache", () => {
  it("converts keys once per (sender, recipient): a repeated 100-recipient fan-out has no misses", () => {
    clearKeyCache();
    const recipients = Array.from({ length: 100 }, () => generateKeypair().publicKey);
    sealForRecipients("first", recipients, ALICE.secretKey);
    expect(keyCacheStats()).toMatchObject({ size: 100, hits: 0, misses: 100 });
    sealForRecipients("second", recipients, ALICE.secretKey);
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
    const [fromAlice] = sealForRecipients("a", [CAROL.publicKey], ALICE.secretKey);
    const [fromBob] = sealForRecipients("b", [CAROL.publicKey], BOB.secretKey);
    expect(keyCacheStats().size).toBe(2);
    expect(decryptDirect(fromAlice!, ALICE.publicKey, CAROL.secretKey)).toBe("a");
    expect(decryptDirect(fromBob!, BOB.publicKey, CAROL.secretKey)).toBe("b");
    expect(decryptDirect(fromBob!, ALICE.publicKey, CAROL.secretKey)).toBeNull();
  });

  it("stays within its capacity and still works after evictions", () => {
    setKeyCacheCapacity(3);
    const recipients = PEERS.slice(0, 6);
    const envelopes = sealForRecipients(
      "evicting",
      recipients.map((r) => r.publicKey),
      ALICE.secretKey,
    );
    expect(keyCacheStats().size).toBe(3);
    envelopes.forEach((env, i) =>
      expect(decryptDirect(env, ALICE.publicKey, recipients[i]!.secretKey)).toBe("evicting"),
    );
    expect(keyCacheStats().size).toBe(3);
  });

  it("starts cold again after clearKeyCache()", () => {
    sealForRecipients("x", [BOB.publicKey], ALICE.secretKey);
    clearKeyCache();
    expect(keyCacheStats()).toMatchObject({ size: 0, hits: 0, misses: 0 });
    sealForRecipients("x", [BOB.publicKey], ALICE.secretKey);
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
