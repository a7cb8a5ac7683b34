// Hello signatures (SPEC §3): the seed's seven cases, the ±60 s boundaries, check order, and argument checks.
import fc from "fast-check";
import { HELLO_SKEW_MS, canonicalHello } from "@claudemesh/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import { signHello, verifyDetached, verifyHelloSignature } from "../src/index.js";
import { ALICE, BOB, FC, NOW, expectArgumentError, flipHex } from "./helpers.js";

const MESH = "mesh_1";
const MEMBER = "member_1";

function signedHello(at = NOW) {
  return {
    meshId: MESH,
    memberId: MEMBER,
    pubkey: ALICE.publicKey,
    ...signHello(MESH, MEMBER, ALICE.publicKey, ALICE.secretKey, at),
  };
}

describe("verifyHelloSignature - the seed's seven cases", () => {
  it("accepts a valid signature", () => {
    expect(verifyHelloSignature(signedHello(), NOW)).toEqual({ ok: true });
  });

  it("rejects a hello signed with the wrong key as bad_signature", () => {
    const forged = signHello(MESH, MEMBER, BOB.publicKey, BOB.secretKey, NOW);
    const hello = { meshId: MESH, memberId: MEMBER, pubkey: ALICE.publicKey, ...forged };
    expect(verifyHelloSignature(hello, NOW)).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("rejects a timestamp more than 60 s old as timestamp_skew", () => {
    expect(verifyHelloSignature(signedHello(NOW - 61_000), NOW)).toEqual({
      ok: false,
      reason: "timestamp_skew",
    });
  });

  it("rejects a timestamp more than 60 s in the future as timestamp_skew", () => {
    expect(verifyHelloSignature(signedHello(NOW + 61_000), NOW)).toEqual({
      ok: false,
      reason: "timestamp_skew",
    });
  });

  it("rejects a tampered canonical field (different meshId at verify time) as bad_signature", () => {
    expect(verifyHelloSignature({ ...signedHello(), meshId: "mesh_2" }, NOW)).toEqual({
      ok: false,
      reason: "bad_signature",
    });
  });

  it("rejects a malformed hex pubkey as malformed", () => {
    const hello = signedHello();
    for (const pubkey of [
      hello.pubkey.slice(2),
      `${hello.pubkey}00`,
      `zz${hello.pubkey.slice(2)}`,
      hello.pubkey.toUpperCase(),
    ]) {
      expect(verifyHelloSignature({ ...hello, pubkey }, NOW)).toEqual({ ok: false, reason: "malformed" });
    }
  });

  it("rejects a signature of the wrong length as malformed", () => {
    const hello = signedHello();
    for (const signature of [hello.signature.slice(2), `${hello.signature}00`, ""]) {
      expect(verifyHelloSignature({ ...hello, signature }, NOW)).toEqual({ ok: false, reason: "malformed" });
    }
  });
});

describe("verifyHelloSignature - the ±60 s window boundaries", () => {
  it("accepts a timestamp exactly 60 000 ms behind or ahead of now", () => {
    expect(HELLO_SKEW_MS).toBe(60_000);
    expect(verifyHelloSignature(signedHello(NOW - 60_000), NOW)).toEqual({ ok: true });
    expect(verifyHelloSignature(signedHello(NOW + 60_000), NOW)).toEqual({ ok: true });
  });

  it("rejects a timestamp 60 001 ms behind or ahead of now", () => {
    expect(verifyHelloSignature(signedHello(NOW - 60_001), NOW)).toEqual({
      ok: false,
      reason: "timestamp_skew",
    });
    expect(verifyHelloSignature(signedHello(NOW + 60_001), NOW)).toEqual({
      ok: false,
      reason: "timestamp_skew",
    });
  });
});

describe("verifyHelloSignature - a configured skew window", () => {
  it("applies the skewMs the broker was configured with instead of the default", () => {
    const late = signedHello(NOW - 90_000);
    expect(verifyHelloSignature(late, NOW)).toEqual({ ok: false, reason: "timestamp_skew" });
    expect(verifyHelloSignature(late, NOW, 120_000)).toEqual({ ok: true });
    expect(verifyHelloSignature(signedHello(NOW - 30_000), NOW, 10_000)).toEqual({
      ok: false,
      reason: "timestamp_skew",
    });
  });

  it("throws on a negative or non-finite skewMs (a caller bug, not peer input)", () => {
    expectArgumentError(() => verifyHelloSignature(signedHello(), NOW, -1), "skewMs");
    expectArgumentError(() => verifyHelloSignature(signedHello(), NOW, Number.NaN), "skewMs");
  });
});

describe("verifyHelloSignature - check order (skew, then shape, then signature)", () => {
  it("reports timestamp_skew for a hello that is both skewed and malformed", () => {
    const hello = { ...signedHello(NOW - 120_000), pubkey: "not-hex", signature: "short" };
    expect(verifyHelloSignature(hello, NOW)).toEqual({ ok: false, reason: "timestamp_skew" });
  });

  it("reports malformed, not bad_signature, for a well-timed hello with a bad pubkey", () => {
    const hello = { ...signedHello(), pubkey: BOB.publicKey.slice(1) };
    expect(verifyHelloSignature(hello, NOW)).toEqual({ ok: false, reason: "malformed" });
  });

  it("calls an infinite timestamp skewed and a NaN, fractional or non-number one malformed", () => {
    const hello = signedHello();
    expect(verifyHelloSignature({ ...hello, timestamp: Infinity }, NOW)).toEqual({
      ok: false,
      reason: "timestamp_skew",
    });
    expect(verifyHelloSignature({ ...hello, timestamp: -Infinity }, NOW)).toEqual({
      ok: false,
      reason: "timestamp_skew",
    });
    for (const timestamp of [NaN, NOW + 0.5, String(NOW), null, undefined]) {
      const odd = { ...hello, timestamp } as unknown as Parameters<typeof verifyHelloSignature>[0];
      expect(verifyHelloSignature(odd, NOW)).toEqual({ ok: false, reason: "malformed" });
    }
  });

  it("calls uppercase hex, ids containing |, empty ids and non-string ids malformed", () => {
    const hello = signedHello();
    const cases: Array<Record<string, unknown>> = [
      { signature: hello.signature.toUpperCase() },
      { meshId: "mesh|1" },
      { memberId: "" },
      { memberId: 7 },
      { meshId: "\ud800" },
    ];
    for (const change of cases) {
      const odd = { ...hello, ...change } as unknown as Parameters<typeof verifyHelloSignature>[0];
      expect(verifyHelloSignature(odd, NOW)).toEqual({ ok: false, reason: "malformed" });
    }
  });

  it("calls a non-object malformed instead of throwing", () => {
    for (const value of [null, undefined, "hello", 42]) {
      expect(verifyHelloSignature(value as never, NOW)).toEqual({ ok: false, reason: "malformed" });
    }
  });

  it("rejects a signature over a different timestamp inside the window as bad_signature", () => {
    expect(verifyHelloSignature({ ...signedHello(), timestamp: NOW + 1 }, NOW)).toEqual({
      ok: false,
      reason: "bad_signature",
    });
  });

  it("throws naming now when the verifier's own clock value is unusable", () => {
    for (const now of [NaN, -1, 1.5, "1" as unknown as number]) {
      expect(() => verifyHelloSignature(signedHello(), now)).toThrow(/^now must be/);
    }
  });
});

describe("signHello", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("signs exactly the protocol's canonical hello string", () => {
    const { timestamp, signature } = signHello(MESH, MEMBER, ALICE.publicKey, ALICE.secretKey, NOW);
    expect(timestamp).toBe(NOW);
    expect(
      verifyDetached(canonicalHello(MESH, MEMBER, ALICE.publicKey, NOW), signature, ALICE.publicKey),
    ).toBe(true);
  });

  it("defaults both timestamp and verification clock to Date.now()", () => {
    vi.useFakeTimers();
    vi.setSystemTime(NOW);
    const signed = signHello(MESH, MEMBER, ALICE.publicKey, ALICE.secretKey);
    expect(signed.timestamp).toBe(NOW);
    vi.setSystemTime(NOW + 60_001);
    expect(
      verifyHelloSignature({ meshId: MESH, memberId: MEMBER, pubkey: ALICE.publicKey, ...signed }),
    ).toEqual({
      ok: false,
      reason: "timestamp_skew",
    });
  });

  it("throws a CryptoArgumentError naming each bad argument", () => {
    const cases: Array<[string, () => unknown]> = [
      ["meshId", () => signHello("", MEMBER, ALICE.publicKey, ALICE.secretKey, NOW)],
      ["meshId", () => signHello("a|b", MEMBER, ALICE.publicKey, ALICE.secretKey, NOW)],
      ["memberId", () => signHello(MESH, 5 as never, ALICE.publicKey, ALICE.secretKey, NOW)],
      ["pubkey", () => signHello(MESH, MEMBER, ALICE.publicKey.slice(2), ALICE.secretKey, NOW)],
      ["secretKey", () => signHello(MESH, MEMBER, ALICE.publicKey, ALICE.secretKey.slice(2), NOW)],
      ["secretKey", () => signHello(MESH, MEMBER, ALICE.publicKey, BOB.secretKey, NOW)],
      ["secretKey", () => signHello(MESH, MEMBER, ALICE.publicKey, flipHex(ALICE.secretKey, 40), NOW)],
      ["now", () => signHello(MESH, MEMBER, ALICE.publicKey, ALICE.secretKey, -1)],
      ["now", () => signHello(MESH, MEMBER, ALICE.publicKey, ALICE.secretKey, 1.5)],
    ];
    for (const [argument, call] of cases) expectArgumentError(call, argument);
  });

  it("never puts the secret key in an error message", () => {
    expect(() => signHello(MESH, MEMBER, ALICE.publicKey, BOB.secretKey, NOW)).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(BOB.secretKey.slice(0, 16)) }),
    );
  });
});

describe("verifyHelloSignature - properties", () => {
  const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,24}$/);

  it("accepts every honestly signed hello within the window", () => {
    fc.assert(
      fc.property(
        id,
        id,
        fc.integer({ min: -HELLO_SKEW_MS, max: HELLO_SKEW_MS }),
        (meshId, memberId, offset) => {
          const signed = signHello(meshId, memberId, ALICE.publicKey, ALICE.secretKey, NOW + offset);
          expect(verifyHelloSignature({ meshId, memberId, pubkey: ALICE.publicKey, ...signed }, NOW)).toEqual(
            { ok: true },
          );
        },
      ),
      FC,
    );
  });

  it("rejects the hello when any canonical field is changed", () => {
    fc.assert(
      fc.property(
        id,
        id,
        fc.constantFrom("meshId", "memberId", "pubkey", "timestamp"),
        id,
        fc.integer({ min: 1, max: HELLO_SKEW_MS }),
        (meshId, memberId, field, replacement, delta) => {
          const hello = {
            meshId,
            memberId,
            pubkey: ALICE.publicKey,
            ...signHello(meshId, memberId, ALICE.publicKey, ALICE.secretKey, NOW),
          };
          const changed = {
            meshId: field === "meshId" ? `${meshId}${replacement}` : meshId,
            memberId: field === "memberId" ? `${replacement}${memberId}` : memberId,
            pubkey: field === "pubkey" ? BOB.publicKey : hello.pubkey,
            timestamp: field === "timestamp" ? NOW - delta : NOW,
          };
          expect(verifyHelloSignature({ ...hello, ...changed }, NOW)).toEqual({
            ok: false,
            reason: "bad_signature",
          });
        },
      ),
      FC,
    );
  });
});
