// NOTIFY payloads of relayed hooks and their answers, and the per-broker channel names of targeted wake-ups.
import { describe, expect, it } from "vitest";
import type { HookAnswer, HookNotice } from "../../src/store/index.js";
import {
  decodeHookMessage,
  encodeHookAnswer,
  encodeHookNotice,
} from "../../src/store/postgres/hook-payload.js";
import { brokerChannel, idsPerPayload } from "../../src/store/postgres/holder-wakeups.js";
import { decodeWakeup, encodeWakeups, MAX_PAYLOAD_BYTES } from "../../src/store/postgres/wakeup-payload.js";

const notice: HookNotice = {
  requestId: "req-1",
  fromBrokerId: "0123456789abcdef01234567",
  memberId: "mem_1",
  meshId: "mesh_1",
  pubkey: "a".repeat(64),
  status: "working",
  at: 1_700_000_000_000,
};
const answer: HookAnswer = { requestId: "req-1", toBrokerId: "0123456789abcdef01234567", result: "ignored" };

describe("hook notice and answer payloads", () => {
  it("round-trip, and are never read as delivery wake-ups", () => {
    const n = encodeHookNotice("origin-1", notice);
    const a = encodeHookAnswer("origin-1", answer);
    expect(decodeHookMessage(n)).toEqual({ kind: "hook", origin: "origin-1", notice });
    expect(decodeHookMessage(a)).toEqual({ kind: "hook_answer", origin: "origin-1", answer });
    expect(decodeWakeup(n)).toBeNull();
    expect(decodeWakeup(a)).toBeNull();
    for (const payload of encodeWakeups("origin-1", ["mem_1"], "receipts"))
      expect(decodeHookMessage(payload)).toBeNull();
  });

  it("reads malformed or foreign payloads as null", () => {
    const good = JSON.parse(encodeHookNotice("o", notice)) as Record<string, unknown>;
    const variants = [
      "not json",
      JSON.stringify({ ...good, s: "sleeping" }),
      JSON.stringify({ ...good, t: "yesterday" }),
      JSON.stringify({ ...good, m: 7 }),
      JSON.stringify({ ...good, q: "" }),
      JSON.stringify({ ...good, k: "hooks" }),
      JSON.stringify({ o: "o", k: "hook_answer", q: "r", b: "x", r: "done" }),
      JSON.stringify({ o: "o", k: "hook_answer", q: "r", r: "applied" }),
    ];
    for (const payload of variants) expect(decodeHookMessage(payload)).toBeNull();
  });
});

describe("per-broker channels", () => {
  it("a broker id names a channel within PostgreSQL's 63 bytes; anything else names none", () => {
    const id = "0123456789abcdef01234567";
    expect(brokerChannel(id)).toBe(`claudemesh_b_${id}`);
    expect(Buffer.byteLength(brokerChannel("x".repeat(48)) ?? "")).toBeLessThanOrEqual(63);
    for (const bad of ["", "x".repeat(49), 'a"b', "a b", "é"]) expect(brokerChannel(bad)).toBeNull();
  });

  it("fits as many ids in a payload as the widest of them allows", () => {
    const short = idsPerPayload(["a"]);
    const long = idsPerPayload(["a", "x".repeat(500)]);
    expect(long).toBeLessThan(short);
    expect(long * (500 + 4)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(idsPerPayload(["x".repeat(20_000)])).toBe(1);
  });
});
