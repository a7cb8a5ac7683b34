// Hello prechecks (SPEC §3 checks 1–2, in order) and the bounded replay set (check 5).
import { describe, expect, it } from "vitest";
import type { Hello } from "@claudemesh/protocol";
import { precheckHello } from "../../src/core/hello.js";
import { ReplayGuard } from "../../src/core/replay.js";

const hello = (over: Partial<Hello> = {}): Hello => ({
  type: "hello",
  meshId: "m",
  memberId: "u",
  pubkey: "a".repeat(64),
  sessionId: "s",
  pid: 1,
  cwd: "/",
  timestamp: 1_000_000,
  signature: "b".repeat(128),
  ...over,
});

describe("hello precheck", () => {
  it("accepts ±skew inclusive and rejects beyond", () => {
    expect(precheckHello(hello(), 1_060_000, 60_000).ok).toBe(true);
    expect(precheckHello(hello(), 940_000, 60_000).ok).toBe(true);
    expect(precheckHello(hello(), 1_060_001, 60_000)).toMatchObject({ ok: false, code: "timestamp_skew" });
    expect(precheckHello(hello(), 939_999, 60_000)).toMatchObject({ ok: false, code: "timestamp_skew" });
  });

  it("checks the window before the shape", () => {
    expect(precheckHello(hello({ pubkey: "nope" }), 0, 60_000)).toMatchObject({ code: "timestamp_skew" });
  });

  it("rejects uppercase or short keys and signatures as malformed", () => {
    expect(precheckHello(hello({ pubkey: "A".repeat(64) }), 1_000_000, 60_000)).toMatchObject({
      code: "malformed",
    });
    expect(precheckHello(hello({ pubkey: "a".repeat(63) }), 1_000_000, 60_000)).toMatchObject({
      code: "malformed",
    });
    expect(precheckHello(hello({ signature: "b".repeat(127) }), 1_000_000, 60_000)).toMatchObject({
      code: "malformed",
    });
  });
});

describe("replay guard", () => {
  it("refuses a signature seen before until it expires", () => {
    const guard = new ReplayGuard();
    expect(guard.checkAndRecord("sig", 100, 0)).toBe(true);
    expect(guard.checkAndRecord("sig", 100, 50)).toBe(false);
    expect(guard.checkAndRecord("sig", 100, 100)).toBe(false);
    expect(guard.checkAndRecord("sig", 300, 101)).toBe(true);
  });

  it("stays bounded, dropping expired then oldest entries", () => {
    const guard = new ReplayGuard(3);
    guard.checkAndRecord("a", 10, 0);
    guard.checkAndRecord("b", 1_000, 0);
    guard.checkAndRecord("c", 1_000, 0);
    guard.checkAndRecord("d", 1_000, 20); // "a" expired: evicted first
    expect(guard.size()).toBe(3);
    expect(guard.checkAndRecord("b", 1_000, 21)).toBe(false);
    guard.checkAndRecord("e", 1_000, 22); // full of live entries: the oldest ("b") goes
    expect(guard.size()).toBe(3);
    expect(guard.checkAndRecord("c", 1_000, 23)).toBe(false);
  });

  it("prunes expired entries", () => {
    const guard = new ReplayGuard();
    guard.checkAndRecord("a", 10, 0);
    guard.checkAndRecord("b", 100, 0);
    guard.prune(50);
    expect(guard.size()).toBe(1);
  });
});
