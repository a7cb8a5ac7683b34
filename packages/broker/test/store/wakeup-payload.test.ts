// NOTIFY wake-up payloads: every recipient named once, each payload under PostgreSQL's 8,000-byte limit.
import { describe, expect, it } from "vitest";
import { decodeWakeup, encodeWakeups, MAX_PAYLOAD_BYTES } from "../../src/store/postgres/wakeup-payload.js";

describe("wake-up payloads", () => {
  it("round-trips a small batch in one payload", () => {
    const payloads = encodeWakeups("origin-1", ["a", "b"]);
    expect(payloads).toHaveLength(1);
    expect(decodeWakeup(payloads[0] ?? "")).toEqual({
      origin: "origin-1",
      recipients: ["a", "b"],
      kind: "deliveries",
    });
  });

  it("tags receipt wake-ups, and reads an unknown kind as malformed", () => {
    const [payload] = encodeWakeups("origin-1", ["s"], "receipts");
    expect(decodeWakeup(payload ?? "")).toEqual({ origin: "origin-1", recipients: ["s"], kind: "receipts" });
    expect(decodeWakeup(JSON.stringify({ o: "x", r: ["s"], k: "other" }))).toBeNull();
  });

  it("splits many recipients into payloads under the limit that together name each once", () => {
    const ids = Array.from(
      { length: 2_000 },
      (_, i) => `mem_${String(i).padStart(6, "0")}_${"x".repeat(30)}`,
    );
    const payloads = encodeWakeups("origin-1", ids);
    expect(payloads.length).toBeGreaterThan(5);
    for (const p of payloads) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    // Full payloads are filled close to the limit (no needless NOTIFYs).
    expect(Buffer.byteLength(payloads[0] ?? "")).toBeGreaterThan(MAX_PAYLOAD_BYTES - 100);
    expect(payloads.flatMap((p) => decodeWakeup(p)?.recipients ?? [])).toEqual(ids);
  });

  it("counts bytes, not characters, for non-ASCII ids", () => {
    const ids = Array.from({ length: 500 }, (_, i) => `é${i}${"ü".repeat(20)}`);
    for (const p of encodeWakeups("o", ids))
      expect(Buffer.byteLength(p)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  });

  it("no recipients, no payload; an id too long for NOTIFY is an error", () => {
    expect(encodeWakeups("o", [])).toEqual([]);
    expect(() => encodeWakeups("o", ["x".repeat(MAX_PAYLOAD_BYTES)])).toThrow(/too long/);
  });

  it("decodes foreign or malformed payloads as null", () => {
    for (const bad of [
      "",
      "not json",
      "null",
      "[]",
      '{"o":1,"r":[]}',
      '{"o":"x","r":"a"}',
      '{"o":"x","r":[1]}',
      '{"r":["a"]}',
    ]) {
      expect(decodeWakeup(bad)).toBeNull();
    }
  });
});
