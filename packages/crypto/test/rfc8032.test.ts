// ed25519 against the RFC 8032 §7.1 test vectors: exact key derivation, exact signatures, and rejection of any flipped bit.
import { describe, expect, it } from "vitest";
import { fromHex, keypairFromSeed, signDetached, verifyDetached } from "../src/index.js";
import { RFC8032_VECTORS } from "./fixtures/rfc8032-vectors.js";
import { flipBit, flipHex } from "./helpers.js";

describe("RFC 8032 §7.1 vectors", () => {
  it("the 1024 vector's message is the RFC's 1023 bytes", () => {
    expect(fromHex(RFC8032_VECTORS[3]!.message).length).toBe(1023);
  });

  for (const v of RFC8032_VECTORS) {
    describe(v.name, () => {
      const message = fromHex(v.message);
      const secretKey = v.secretKey + v.publicKey;

      it("derives the RFC public key from the secret key (seed)", () => {
        expect(keypairFromSeed(v.secretKey)).toEqual({ publicKey: v.publicKey, secretKey });
      });

      it("signs to exactly the RFC signature", () => {
        expect(signDetached(message, secretKey)).toBe(v.signature);
      });

      it("verifies the RFC signature", () => {
        expect(verifyDetached(message, v.signature, v.publicKey)).toBe(true);
      });

      it("rejects the signature with a bit flipped in R and in S", () => {
        expect(verifyDetached(message, flipHex(v.signature, 0), v.publicKey)).toBe(false);
        expect(verifyDetached(message, flipHex(v.signature, 40, 3), v.publicKey)).toBe(false);
      });

      it("rejects a message with a bit flipped (or, when empty, one byte added)", () => {
        const changed = message.length > 0 ? flipBit(message, message.length - 1, 7) : Uint8Array.of(0);
        expect(verifyDetached(changed, v.signature, v.publicKey)).toBe(false);
      });

      it("rejects the signature under a public key with a bit flipped", () => {
        expect(verifyDetached(message, v.signature, flipHex(v.publicKey, 5))).toBe(false);
      });
    });
  }

  it("rejects one vector's signature under another vector's key", () => {
    const [a, b] = RFC8032_VECTORS;
    expect(verifyDetached(fromHex(a!.message), a!.signature, b!.publicKey)).toBe(false);
  });
});
