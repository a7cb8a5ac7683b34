// Detached signatures: text is signed as UTF-8, bad arguments are named, and verification never throws.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { signDetached, verifyDetached } from "../src/index.js";
import { ALICE, BOB, FC, anyText, expectArgumentError, flipHex } from "./helpers.js";

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

  it("returns false, never throws, for any malformed input (property)", () => {
    const signature = signDetached("m", ALICE.secretKey);
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (message, sig, pubkey) => {
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
