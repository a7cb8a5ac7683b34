// Identities (SPEC §1): 64-hex public keys, 128-hex seed‖pubkey secret keys, and refusal of inconsistent keys.
import { describe, expect, it } from "vitest";
import { generateKeypair, keypairFromSeed, publicKeyFromSecretKey } from "../src/index.js";
import { ALICE, BOB, expectArgumentError, flipHex } from "./helpers.js";

describe("generateKeypair", () => {
  it("returns a 64-hex public key and a 128-hex secret key laid out as seed‖pubkey", () => {
    const kp = generateKeypair();
    expect(kp.publicKey).toMatch(/^[0-9a-f]{64}$/);
    expect(kp.secretKey).toMatch(/^[0-9a-f]{128}$/);
    expect(kp.secretKey.slice(64)).toBe(kp.publicKey);
    expect(keypairFromSeed(kp.secretKey.slice(0, 64))).toEqual(kp);
  });

  it("gives a different identity each call", () => {
    const keys = new Set(Array.from({ length: 50 }, () => generateKeypair().publicKey));
    expect(keys.size).toBe(50);
  });
});

describe("keypairFromSeed", () => {
  it("is deterministic and rejects a seed that is not 64 lowercase hex chars", () => {
    expect(keypairFromSeed("a1".repeat(32))).toEqual(ALICE);
    for (const bad of ["a1".repeat(31), "A1".repeat(32), "g1".repeat(32), 5 as never]) {
      expectArgumentError(() => keypairFromSeed(bad), "seedHex");
    }
  });
});

describe("publicKeyFromSecretKey", () => {
  it("returns the public half of a secret key", () => {
    expect(publicKeyFromSecretKey(BOB.secretKey)).toBe(BOB.publicKey);
  });

  it("refuses a secret key whose public half is not the seed's public key", () => {
    expectArgumentError(
      () => publicKeyFromSecretKey(ALICE.secretKey.slice(0, 64) + BOB.publicKey),
      "secretKeyHex",
    );
    expectArgumentError(() => publicKeyFromSecretKey(flipHex(ALICE.secretKey, 3)), "secretKeyHex");
    expect(() => publicKeyFromSecretKey(flipHex(ALICE.secretKey, 3))).toThrow("is inconsistent");
  });

  it("refuses a secret key of the wrong length or case", () => {
    for (const bad of [
      ALICE.publicKey,
      `${ALICE.secretKey}00`,
      ALICE.secretKey.toUpperCase(),
      null as never,
    ]) {
      expectArgumentError(() => publicKeyFromSecretKey(bad), "secretKeyHex");
    }
  });
});
