// Detached signatures: text is signed as UTF-8, bad arguments are named, and verification never throws.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { signDetached, verifyDetached } from "../src/index.js";
import { RFC8032_VECTORS } from "./fixtures/rfc8032-vectors.js";
import { ALICE, BOB, FC, SMALL_ORDER_PUBKEY, anyText, expectArgumentError, flipHex } from "./helpers.js";

describe("signDetached / verifyDetached", () => {
  it("signs text exactly as its UTF-8 bytes and verifies it either way", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const signature = signDetached(text, ALICE.secretKey);
        expect(signature).toMatch(/^[0-9a-f]{128}$/);
        expect(signDetached(new TextEncoder().encode(text), ALICE.secretKey)).toBe(signature);
        expect(verifyDetached(text, signature, ALICE.publicKey)).toBe(true);
        expect(verifyDetached(text, signature, BOB.publicKey)).toBe(false);
      }),
      FC,
    );
  });

  it("rejects any single flipped signature bit (property)", () => {
    const signature = signDetached("payload", ALICE.secretKey);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 7 }), (index, bit) => {
        expect(verifyDetached("payload", flipHex(signature, index, bit), ALICE.publicKey)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it("throws naming the bad argument when signing", () => {
    expectArgumentError(() => signDetached(42 as never, ALICE.secretKey), "message");
    expectArgumentError(() => signDetached("bad \udc00 text", ALICE.secretKey), "message");
    expectArgumentError(() => signDetached("m", ALICE.publicKey), "secretKeyHex");
    expectArgumentError(
      () => signDetached("m", ALICE.secretKey.slice(0, 64) + BOB.publicKey),
      "secretKeyHex",
    );
  });

  /** True for "m" as text or as its UTF-8 bytes: the message signed below. */
  const isSignedMessage = (value: unknown): boolean =>
    value === "m" || (value instanceof Uint8Array && value.length === 1 && value[0] === "m".charCodeAt(0));

  it("returns false, never throws, for any malformed input (property)", () => {
    const signature = signDetached("m", ALICE.secretKey);
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (message, sig, pubkey) => {
        // fc.anything() can produce the signed message itself, whose signature does verify.
        fc.pre(!isSignedMessage(message));
        expect(verifyDetached(message as never, sig as never, pubkey as never)).toBe(false);
        expect(verifyDetached("m", signature, pubkey as never)).toBe(false);
        expect(verifyDetached(message as never, signature, ALICE.publicKey)).toBe(false);
      }),
      FC,
    );
    expect(verifyDetached("m", signature.toUpperCase(), ALICE.publicKey)).toBe(false);
    expect(verifyDetached("m\ud800", signature, ALICE.publicKey)).toBe(false);
  });
});

describe("verifyDetached - strictness beyond a bare RFC 8032 equation check", () => {
  /** Order of the ed25519 base point (RFC 8032 §5.1). */
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  const littleEndian = (hex: string): bigint => BigInt(`0x${hex.match(/../g)!.reverse().join("")}`);
  const toLittleEndianHex = (n: bigint): string =>
    n.toString(16).padStart(64, "0").match(/../g)!.reverse().join("");

  it("rejects a malleated signature whose S is replaced by S + L", () => {
    const v = RFC8032_VECTORS[1]!;
    const s = littleEndian(v.signature.slice(64));
    const malleated = v.signature.slice(0, 64) + toLittleEndianHex(s + L);
    expect(verifyDetached(new Uint8Array([0x72]), v.signature, v.publicKey)).toBe(true);
    expect(verifyDetached(new Uint8Array([0x72]), malleated, v.publicKey)).toBe(false);
  });

  it("rejects the identity key with the (identity, 0) signature, which a bare equation check accepts for any message", () => {
    const identitySignature = SMALL_ORDER_PUBKEY + "00".repeat(32);
    expect(verifyDetached("any message at all", identitySignature, SMALL_ORDER_PUBKEY)).toBe(false);
  });
});
