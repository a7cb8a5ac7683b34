// Hex, base64 and id helpers: exact round trips, strict decoding, and agreement with the protocol's schemas.
import fc from "fast-check";
import { PubkeySchema, SignatureSchema } from "@claudemesh/protocol";
import { describe, expect, it } from "vitest";
import { fromBase64, fromHex, isPubkeyHex, isSignatureHex, randomId, toBase64, toHex } from "../src/index.js";
import { ALICE, FC, expectArgumentError } from "./helpers.js";

describe("hex", () => {
  it("round-trips any bytes as lowercase hex", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const hex = toHex(bytes);
        expect(hex).toMatch(/^[0-9a-f]*$/);
        expect(fromHex(hex)).toEqual(bytes);
        expect(Buffer.from(bytes).toString("hex")).toBe(hex);
      }),
      FC,
    );
  });

  it("decodes uppercase too, but rejects odd length and non-hex, naming the argument", () => {
    expect(fromHex("ABcd")).toEqual(Uint8Array.of(0xab, 0xcd));
    expectArgumentError(() => fromHex("abc"), "hex");
    expectArgumentError(() => fromHex("zz", "seedHex"), "seedHex");
    expectArgumentError(() => fromHex(12 as never), "hex");
    expectArgumentError(() => toHex("ab" as never), "bytes");
  });
});

describe("base64 (standard alphabet, padded)", () => {
  it("round-trips any bytes and matches Node's encoder", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const b64 = toBase64(bytes);
        expect(b64).toBe(Buffer.from(bytes).toString("base64"));
        expect(fromBase64(b64)).toEqual(bytes);
      }),
      FC,
    );
  });

  it("rejects url-safe, unpadded, whitespace and non-canonical encodings, naming the argument", () => {
    expect(fromBase64("+/8=")).toEqual(Uint8Array.of(0xfb, 0xff));
    for (const bad of ["-_8=", "+/8", " +/8=", "+/8=\n", "AB==", "AAB=", "A===", "====", "ab$="]) {
      expectArgumentError(() => fromBase64(bad), "base64");
    }
    expectArgumentError(() => fromBase64("x", "envelope.nonce"), "envelope.nonce");
    expectArgumentError(() => fromBase64(null as never), "base64");
  });
});

describe("randomId", () => {
  it("is base64url without padding, 22 chars for the default 16 bytes, and does not repeat", () => {
    const ids = new Set(Array.from({ length: 200 }, () => randomId()));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(randomId(6)).toMatch(/^[A-Za-z0-9_-]{8}$/);
    expect(randomId(64)).toHaveLength(86);
  });

  it("rejects a byte count outside 1..64, naming it", () => {
    for (const bad of [0, 65, 1.5, Number.NaN, "16" as never])
      expectArgumentError(() => randomId(bad), "bytes");
  });
});

describe("isPubkeyHex / isSignatureHex", () => {
  it("agree with the protocol's PubkeySchema and SignatureSchema on any string", () => {
    const hexish = fc.string({
      unit: fc.constantFrom(..."0123456789abcdefABCDEFxz"),
      minLength: 62,
      maxLength: 130,
    });
    fc.assert(
      fc.property(fc.oneof(hexish, fc.string()), (value) => {
        expect(isPubkeyHex(value)).toBe(PubkeySchema.safeParse(value).success);
        expect(isSignatureHex(value)).toBe(SignatureSchema.safeParse(value).success);
      }),
      { numRuns: 200 },
    );
  });

  it("accept real keys and signatures and refuse non-strings", () => {
    expect(isPubkeyHex(ALICE.publicKey)).toBe(true);
    expect(isSignatureHex(ALICE.secretKey)).toBe(true); // same shape: 64 bytes of lowercase hex
    expect(isPubkeyHex(ALICE.publicKey.toUpperCase())).toBe(false);
    expect(isPubkeyHex(undefined)).toBe(false);
    expect(isSignatureHex(123)).toBe(false);
  });
});
