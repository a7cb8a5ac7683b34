// Direct envelopes (SPEC §4): round trips for any text, null on every tamper or malformed input, clear argument errors.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decryptDirect,
  encryptDirect,
  fromBase64,
  fromHex,
  keypairFromSeed,
  toBase64,
  toHex,
  type DirectEnvelope,
} from "../src/index.js";
import { sodium } from "../src/sodium.js";
import {
  ALICE,
  BOB,
  CAROL,
  MIXED_ORDER_PUBKEY,
  NOT_ON_CURVE_PUBKEY,
  SMALL_ORDER_PUBKEY,
  anyText,
  expectArgumentError,
  flipBase64,
  flipHex,
} from "./helpers.js";

const open = (env: DirectEnvelope, senderPubkey = ALICE.publicKey, recipientSecret = BOB.secretKey) =>
  decryptDirect(env, senderPubkey, recipientSecret);

describe("encryptDirect / decryptDirect round trips", () => {
  it("round-trips the empty string and a 60 KiB string", () => {
    expect(open(encryptDirect("", BOB.publicKey, ALICE.secretKey))).toBe("");
    const big = "é日🙂x".repeat(6 * 1024).slice(0, 60 * 1024);
    expect(open(encryptDirect(big, BOB.publicKey, ALICE.secretKey))).toBe(big);
  });

  it("round-trips any well-formed text (property)", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        expect(open(encryptDirect(text, BOB.publicKey, ALICE.secretKey))).toBe(text);
      }),
      { numRuns: 100 },
    );
  });

  it("keeps a leading byte-order mark and NUL characters", () => {
    for (const text of ["\ufeffhello", "a\u0000b", "\ufeff"]) {
      expect(open(encryptDirect(text, BOB.publicKey, ALICE.secretKey))).toBe(text);
    }
  });

  it("encrypts to oneself", () => {
    expect(
      open(encryptDirect("note", ALICE.publicKey, ALICE.secretKey), ALICE.publicKey, ALICE.secretKey),
    ).toBe("note");
  });

  it("uses a fresh 24-byte nonce per message and a ciphertext of text length + 16-byte MAC", () => {
    const a = encryptDirect("same", BOB.publicKey, ALICE.secretKey);
    const b = encryptDirect("same", BOB.publicKey, ALICE.secretKey);
    expect(fromBase64(a.nonce)).toHaveLength(24);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(fromBase64(a.ciphertext)).toHaveLength(4 + 16);
    expect(a.nonce).toMatch(/^[A-Za-z0-9+/]{32}$/);
  });
});

describe("decryptDirect returns null on any failure", () => {
  const envelope = encryptDirect("secret plan", BOB.publicKey, ALICE.secretKey);

  it("opens the untouched envelope (control)", () => {
    expect(open(envelope)).toBe("secret plan");
  });

  it("returns null when any bit of the nonce or the ciphertext is flipped (property)", () => {
    const nonceBytes = fromBase64(envelope.nonce).length;
    const ctBytes = fromBase64(envelope.ciphertext).length;
    fc.assert(
      fc.property(fc.boolean(), fc.nat(), fc.integer({ min: 0, max: 7 }), (inNonce, index, bit) => {
        const tampered = inNonce
          ? { ...envelope, nonce: flipBase64(envelope.nonce, index % nonceBytes, bit) }
          : { ...envelope, ciphertext: flipBase64(envelope.ciphertext, index % ctBytes, bit) };
        expect(open(tampered)).toBeNull();
      }),
      { numRuns: 100 },
    );
  });

  it("returns null when any byte of the sender pubkey or the recipient secret key is changed (every byte)", () => {
    for (let i = 0; i < 32; i++)
      expect(open(envelope, flipHex(ALICE.publicKey, i, 0)), `pubkey byte ${i}`).toBeNull();
    for (let i = 0; i < 32; i++) {
      const inverted = fromHex(ALICE.publicKey);
      inverted[i] = inverted[i]! ^ 0xff;
      expect(open(envelope, toHex(inverted)), `pubkey byte ${i} inverted`).toBeNull();
    }
    for (let i = 0; i < 64; i++) {
      for (let bit = 0; bit < 8; bit++) {
        expect(
          open(envelope, ALICE.publicKey, flipHex(BOB.secretKey, i, bit)),
          `secret key ${i}:${bit}`,
        ).toBeNull();
      }
    }
  });

  it("returns null when any bit of the sender pubkey except the x-sign bit is flipped (every bit)", () => {
    for (let i = 0; i < 32; i++) {
      for (let bit = 0; bit < 8; bit++) {
        if (i === 31 && bit === 7) continue;
        expect(open(envelope, flipHex(ALICE.publicKey, i, bit)), `pubkey ${i}:${bit}`).toBeNull();
      }
    }
  });

  it("opens under the negated sender key (x-sign bit flipped): ed25519 A and -A share one X25519 key", () => {
    // The Edwards→Montgomery map u = (1+y)/(1−y) ignores the sign of x, so -A converts to A's
    // X25519 key. Harmless for authenticity: -A's secret scalar is L−a, so only A's holder could
    // ever authenticate as -A, and the broker names the sender from the authenticated hello.
    expect(open(envelope, flipHex(ALICE.publicKey, 31, 7))).toBe("secret plan");
  });

  it("returns null for a valid but different recipient key, even one a single seed bit away", () => {
    expect(open(envelope, ALICE.publicKey, CAROL.secretKey)).toBeNull();
    const near = keypairFromSeed(flipHex(BOB.secretKey.slice(0, 64), 0));
    expect(open(envelope, ALICE.publicKey, near.secretKey)).toBeNull();
    expect(open(envelope, CAROL.publicKey)).toBeNull();
  });

  it("returns null for malformed envelopes and arguments instead of throwing", () => {
    const nonce = fromBase64(envelope.nonce);
    const ct = fromBase64(envelope.ciphertext);
    const cases: Array<[string, () => string | null]> = [
      ["null envelope", () => decryptDirect(null as never, ALICE.publicKey, BOB.secretKey)],
      ["string envelope", () => decryptDirect("x" as never, ALICE.publicKey, BOB.secretKey)],
      ["missing nonce", () => open({ ciphertext: envelope.ciphertext } as never)],
      ["numeric ciphertext", () => open({ nonce: envelope.nonce, ciphertext: 5 } as never)],
      ["not base64", () => open({ ...envelope, ciphertext: "!!!!" })],
      [
        "url-safe alphabet",
        () => open({ ...envelope, nonce: envelope.nonce.replace(/\+/g, "-").replace(/\//g, "_") + "-" }),
      ],
      [
        "unpadded base64",
        () => open({ ...envelope, ciphertext: envelope.ciphertext.replace(/=+$/, "") + "A" }),
      ],
      ["whitespace in base64", () => open({ ...envelope, nonce: ` ${envelope.nonce}` })],
      ["23-byte nonce", () => open({ ...envelope, nonce: toBase64(nonce.subarray(0, 23)) })],
      ["25-byte nonce", () => open({ ...envelope, nonce: toBase64(Uint8Array.of(...nonce, 0)) })],
      [
        "ciphertext shorter than the MAC",
        () => open({ ...envelope, ciphertext: toBase64(ct.subarray(0, 15)) }),
      ],
      [
        "truncated ciphertext",
        () => open({ ...envelope, ciphertext: toBase64(ct.subarray(0, ct.length - 1)) }),
      ],
      ["extended ciphertext", () => open({ ...envelope, ciphertext: toBase64(Uint8Array.of(...ct, 0)) })],
      ["uppercase sender pubkey", () => open(envelope, ALICE.publicKey.toUpperCase())],
      ["short sender pubkey", () => open(envelope, ALICE.publicKey.slice(2))],
      ["non-string sender pubkey", () => decryptDirect(envelope, 7 as never, BOB.secretKey)],
      ["sender pubkey not on the curve", () => open(envelope, NOT_ON_CURVE_PUBKEY)],
      ["small-order sender pubkey", () => open(envelope, SMALL_ORDER_PUBKEY)],
      ["mixed-order sender pubkey", () => open(envelope, MIXED_ORDER_PUBKEY)],
      ["short recipient secret key", () => open(envelope, ALICE.publicKey, BOB.secretKey.slice(2))],
      ["non-string recipient secret key", () => decryptDirect(envelope, ALICE.publicKey, undefined as never)],
      [
        "recipient key whose halves disagree",
        () => open(envelope, ALICE.publicKey, BOB.secretKey.slice(0, 64) + CAROL.publicKey),
      ],
    ];
    for (const [name, call] of cases) expect(call(), name).toBeNull();
  });

  it("returns null for an authentic envelope whose plaintext is not UTF-8", () => {
    const nonce = sodium.randombytes_buf(24);
    const ct = sodium.crypto_box_easy(
      Uint8Array.of(0x68, 0xff, 0xfe),
      nonce,
      sodium.crypto_sign_ed25519_pk_to_curve25519(sodium.from_hex(BOB.publicKey)),
      sodium.crypto_sign_ed25519_sk_to_curve25519(sodium.from_hex(ALICE.secretKey)),
    );
    const env = { nonce: toBase64(nonce), ciphertext: toBase64(ct) };
    expect(open(env)).toBeNull();
    // Control: the same path with valid UTF-8 opens, so the null above is the UTF-8 check.
    const okCt = sodium.crypto_box_easy(
      Uint8Array.of(0x68, 0x69),
      nonce,
      sodium.crypto_sign_ed25519_pk_to_curve25519(sodium.from_hex(BOB.publicKey)),
      sodium.crypto_sign_ed25519_sk_to_curve25519(sodium.from_hex(ALICE.secretKey)),
    );
    expect(open({ nonce: env.nonce, ciphertext: toBase64(okCt) })).toBe("hi");
  });
});

describe("encryptDirect argument checks", () => {
  it("throws a CryptoArgumentError naming each bad argument", () => {
    const cases: Array<[string, () => unknown]> = [
      ["message", () => encryptDirect(42 as never, BOB.publicKey, ALICE.secretKey)],
      ["message", () => encryptDirect("lone \ud83d surrogate", BOB.publicKey, ALICE.secretKey)],
      ["recipientPubkeyHex", () => encryptDirect("hi", BOB.publicKey.slice(1), ALICE.secretKey)],
      ["recipientPubkeyHex", () => encryptDirect("hi", BOB.publicKey.toUpperCase(), ALICE.secretKey)],
      ["recipientPubkeyHex", () => encryptDirect("hi", null as never, ALICE.secretKey)],
      ["senderSecretKeyHex", () => encryptDirect("hi", BOB.publicKey, ALICE.secretKey.slice(2))],
      ["senderSecretKeyHex", () => encryptDirect("hi", BOB.publicKey, ALICE.publicKey)],
      [
        "senderSecretKeyHex",
        () => encryptDirect("hi", BOB.publicKey, ALICE.secretKey.slice(0, 64) + CAROL.publicKey),
      ],
    ];
    for (const [argument, call] of cases) expectArgumentError(call, argument);
  });

  it("rejects recipient pubkeys that are not points of the prime-order subgroup with a clear TypeError", () => {
    for (const pubkey of [NOT_ON_CURVE_PUBKEY, SMALL_ORDER_PUBKEY, MIXED_ORDER_PUBKEY]) {
      expectArgumentError(() => encryptDirect("hi", pubkey, ALICE.secretKey), "recipientPubkeyHex");
      expect(() => encryptDirect("hi", pubkey, ALICE.secretKey)).toThrow("is not a valid ed25519 public key");
    }
  });

  it("never echoes the secret key or the message in an error", () => {
    let message = "";
    try {
      encryptDirect("TOP-SECRET-TEXT", NOT_ON_CURVE_PUBKEY, ALICE.secretKey);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).not.toContain("TOP-SECRET-TEXT");
    expect(message).not.toContain(ALICE.secretKey.slice(0, 16));
    expect(message).not.toContain(NOT_ON_CURVE_PUBKEY);
  });
});
