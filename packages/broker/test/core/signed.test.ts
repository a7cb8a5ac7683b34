// The signed-request pipeline (window → shape → signature → authorize → replay) and the bounded replay guard.
import { describe, expect, it } from "vitest";
import { generateKeypair, signHello, verifyHelloSignature } from "@claudemesh/crypto";
import { checkSigned, type SignedRequest } from "../../src/core/signed.js";
import { MemoryReplayGuard, type ReplayGuard } from "../../src/core/replay.js";

const T0 = 1_700_000_000_000;
const alice = generateKeypair();

/** A manual clock for the guard. */
function manualClock(start = T0): { now(): number; set(ms: number): void } {
  let t = start;
  return { now: () => t, set: (ms) => void (t = ms) };
}

/** A signed hello as a pipeline request; `over` replaces fields after signing. */
function helloRequest(
  at: number,
  over: Partial<{ pubkey: string; signature: string; timestamp: number }> = {},
): SignedRequest {
  const signed = signHello("mesh_1", "member_1", alice.publicKey, alice.secretKey, at);
  const fields = { meshId: "mesh_1", memberId: "member_1", pubkey: alice.publicKey, ...signed, ...over };
  return {
    what: "hello",
    timestamp: fields.timestamp,
    verify: (now, skewMs) => verifyHelloSignature(fields, now, skewMs),
    replayKey: fields.signature,
  };
}

describe("checkSigned", () => {
  const deps = (
    now = T0,
    skewMs = 60_000,
    replay: ReplayGuard = new MemoryReplayGuard(manualClock(now)),
  ) => ({
    replay,
    now,
    skewMs,
  });

  it("accepts an honest request inside the window, including exactly ±skew", async () => {
    expect(await checkSigned(helloRequest(T0), deps())).toMatchObject({ ok: true });
    expect(await checkSigned(helloRequest(T0 - 60_000), deps())).toMatchObject({ ok: true });
    expect(await checkSigned(helloRequest(T0 + 60_000), deps())).toMatchObject({ ok: true });
  });

  it("judges the window with the configured skew, not the protocol default", async () => {
    expect(await checkSigned(helloRequest(T0 - 5_000), deps(T0, 5_000))).toMatchObject({ ok: true });
    const old = await checkSigned(helloRequest(T0 - 5_001), deps(T0, 5_000));
    expect(old).toMatchObject({ ok: false, code: "timestamp_skew" });
    expect(await checkSigned(helloRequest(T0 + 5_001), deps(T0, 5_000))).toMatchObject({
      ok: false,
      code: "timestamp_skew",
    });
    // 61 s away is outside the default window too; 59 s is inside it but outside a 5 s one.
    expect(await checkSigned(helloRequest(T0 - 59_000), deps(T0, 5_000))).toMatchObject({
      code: "timestamp_skew",
    });
  });

  it("names the offset and the window in the timestamp_skew message", async () => {
    const verdict = await checkSigned(helloRequest(T0 - 90_000), deps());
    expect(verdict).toMatchObject({ ok: false, code: "timestamp_skew" });
    if (!verdict.ok) expect(verdict.message).toContain("-90 s away from the broker clock (allowed ±60 s)");
  });

  it("reports timestamp_skew before malformed, malformed before bad_signature", async () => {
    const skewedAndMalformed = helloRequest(T0 - 120_000, { pubkey: "A".repeat(64) });
    expect(await checkSigned(skewedAndMalformed, deps())).toMatchObject({ code: "timestamp_skew" });
    expect(await checkSigned(helloRequest(T0, { pubkey: "A".repeat(64) }), deps())).toMatchObject({
      code: "malformed",
    });
    expect(await checkSigned(helloRequest(T0, { signature: "b".repeat(127) }), deps())).toMatchObject({
      code: "malformed",
    });
    const other = generateKeypair();
    expect(await checkSigned(helloRequest(T0, { pubkey: other.publicKey }), deps())).toMatchObject({
      code: "bad_signature",
    });
  });

  it("refuses the same signature a second time (replay) until timestamp + skew", async () => {
    const clock = manualClock();
    const replay = new MemoryReplayGuard(clock);
    const request = helloRequest(T0);
    expect(await checkSigned(request, { replay, now: T0, skewMs: 60_000 })).toMatchObject({ ok: true });
    expect(await checkSigned(request, { replay, now: T0 + 1, skewMs: 60_000 })).toMatchObject({
      ok: false,
      code: "replay",
    });
    clock.set(T0 + 60_001);
    // Past the window the guard has let go; the window check refuses it instead.
    expect(await checkSigned(request, { replay, now: T0 + 60_001, skewMs: 60_000 })).toMatchObject({
      code: "timestamp_skew",
    });
  });

  it("gives the claim back on release, so the very same request is accepted again", async () => {
    const replay = new MemoryReplayGuard(manualClock());
    const first = await checkSigned(helloRequest(T0), deps(T0, 60_000, replay));
    if (!first.ok) throw new Error("expected acceptance");
    await first.release();
    expect(await checkSigned(helloRequest(T0), deps(T0, 60_000, replay))).toMatchObject({ ok: true });
  });

  it("runs authorize between signature and replay: its rejection wins, and nothing is remembered", async () => {
    const replay = new MemoryReplayGuard(manualClock());
    const calls: string[] = [];
    const refuse = async () => {
      calls.push("authorize");
      return { ok: false as const, code: "unauthorized" as const, message: "not a member" };
    };
    expect(await checkSigned(helloRequest(T0), deps(T0, 60_000, replay), refuse)).toMatchObject({
      code: "unauthorized",
    });
    expect(replay.size()).toBe(0);
    // A request that fails the signature never reaches authorize.
    await checkSigned(helloRequest(T0, { signature: "c".repeat(128) }), deps(T0, 60_000, replay), refuse);
    expect(calls).toEqual(["authorize"]);
    const accept = async () => ({ ok: true as const, value: "row" });
    const verdict = await checkSigned(helloRequest(T0), deps(T0, 60_000, replay), accept);
    expect(verdict).toMatchObject({ ok: true, value: "row" });
  });

  it("awaits an asynchronous guard (a store-backed one answers with a promise)", async () => {
    const seen = new Set<string>();
    const asyncGuard: ReplayGuard = {
      seen: async (key) => (seen.has(key) ? true : (seen.add(key), false)),
      forget: async (key) => void seen.delete(key),
    };
    expect(await checkSigned(helloRequest(T0), deps(T0, 60_000, asyncGuard))).toMatchObject({ ok: true });
    expect(await checkSigned(helloRequest(T0), deps(T0, 60_000, asyncGuard))).toMatchObject({
      code: "replay",
    });
  });
});

describe("MemoryReplayGuard", () => {
  it("reports a key seen before until it expires", () => {
    const clock = manualClock(0);
    const guard = new MemoryReplayGuard(clock);
    expect(guard.seen("sig", 100)).toBe(false);
    clock.set(50);
    expect(guard.seen("sig", 100)).toBe(true);
    clock.set(100);
    expect(guard.seen("sig", 100)).toBe(true);
    clock.set(101);
    expect(guard.seen("sig", 300)).toBe(false);
  });

  it("stays bounded, dropping expired then oldest entries", () => {
    const clock = manualClock(0);
    const guard = new MemoryReplayGuard(clock, 3);
    guard.seen("a", 10);
    guard.seen("b", 1_000);
    guard.seen("c", 1_000);
    clock.set(20);
    guard.seen("d", 1_000); // "a" expired: evicted first
    expect(guard.size()).toBe(3);
    clock.set(21);
    expect(guard.seen("b", 1_000)).toBe(true);
    clock.set(22);
    guard.seen("e", 1_000); // full of live entries: the oldest ("b") goes
    expect(guard.size()).toBe(3);
    expect(guard.seen("c", 1_000)).toBe(true);
    expect(guard.seen("b", 1_000)).toBe(false);
  });

  it("prunes expired entries and forgets a key on request", () => {
    const clock = manualClock(0);
    const guard = new MemoryReplayGuard(clock);
    guard.seen("a", 10);
    guard.seen("b", 100);
    guard.prune(50);
    expect(guard.size()).toBe(1);
    guard.forget("b");
    expect(guard.seen("b", 100)).toBe(false);
  });

  it("prunes in slices: every expired entry goes, live ones stay, other work runs between slices", async () => {
    const clock = manualClock(0);
    const guard = new MemoryReplayGuard(clock);
    for (let i = 0; i < 10; i++) guard.seen(`k${i}`, i % 2 === 0 ? 10 : 100);
    const order: string[] = [];
    setImmediate(() => order.push(`other work at size ${guard.size()}`));
    await guard.pruneInSlices(50, 4);
    order.push(`done at size ${guard.size()}`);
    // After the first slice of 4 entries (two of them expired), before the rest.
    expect(order).toEqual(["other work at size 8", "done at size 5"]);
    for (let i = 1; i < 10; i += 2) expect(guard.seen(`k${i}`, 100)).toBe(true);
    expect(guard.seen("k0", 100)).toBe(false);
  });

  it("refuses a bound that is not a positive integer", () => {
    expect(() => new MemoryReplayGuard(manualClock(), 0)).toThrow(RangeError);
  });
});
