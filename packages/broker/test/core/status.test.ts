// Status model (SPEC §3): source ranking with the fresh window, working TTL, dnd protection, priority gating.
import { describe, expect, it } from "vitest";
import {
  allowedPriorities,
  applyStatus,
  effectiveStatus,
  initialStatus,
  workingExpiresAt,
  type StatusRecord,
} from "../../src/core/status.js";

const timings = { statusFreshMs: 30_000, workingTtlMs: 60_000 };
const rec = (status: StatusRecord["status"], source: StatusRecord["source"], at: number): StatusRecord => ({
  status,
  source,
  at,
});

describe("status - source ranking", () => {
  it("lets an equal or higher-ranked source overwrite at once", () => {
    const current = rec("working", "manual", 1_000);
    expect(applyStatus(current, rec("idle", "manual", 1_001), timings)).toMatchObject({ accepted: true });
    expect(applyStatus(current, rec("idle", "hook", 1_001), timings)).toMatchObject({ accepted: true });
    expect(applyStatus(rec("idle", "jsonl", 1_000), rec("working", "jsonl", 1_001), timings).accepted).toBe(
      true,
    );
  });

  it("refuses a lower-ranked source while the recorded one is fresh (≤ 30 s)", () => {
    const hook = rec("working", "hook", 10_000);
    expect(applyStatus(hook, rec("idle", "manual", 10_000 + 30_000), timings)).toMatchObject({
      accepted: false,
      reason: "lower_rank_fresh",
    });
    expect(applyStatus(hook, rec("idle", "jsonl", 10_000 + 29_999), timings).accepted).toBe(false);
    expect(applyStatus(rec("idle", "manual", 0), rec("working", "jsonl", 5_000), timings).accepted).toBe(
      false,
    );
  });

  it("lets a lower-ranked source overwrite once the recorded one is older than the fresh window", () => {
    const hook = rec("idle", "hook", 10_000);
    const decision = applyStatus(hook, rec("working", "jsonl", 10_000 + 30_001), timings);
    expect(decision).toMatchObject({
      accepted: true,
      changed: true,
      record: rec("working", "jsonl", 40_001),
    });
  });

  it("starts as idle that any source may replace at once", () => {
    for (const source of ["jsonl", "manual", "hook"] as const)
      expect(applyStatus(initialStatus(5), rec("working", source, 6), timings).accepted).toBe(true);
  });
});

describe("status - dnd", () => {
  it("is never cleared by a hook, however old", () => {
    const dnd = rec("dnd", "manual", 0);
    expect(applyStatus(dnd, rec("idle", "hook", 10), timings)).toMatchObject({
      accepted: false,
      reason: "dnd_protected",
    });
    expect(applyStatus(dnd, rec("working", "hook", 10_000_000), timings).accepted).toBe(false);
  });

  it("is not ended by a transcript reading either, only by a manual status", () => {
    const dnd = rec("dnd", "manual", 0);
    expect(applyStatus(dnd, rec("working", "jsonl", 10_000_000), timings).accepted).toBe(false);
    expect(applyStatus(dnd, rec("idle", "manual", 5), timings)).toMatchObject({
      accepted: true,
      changed: true,
    });
  });

  it("may be set by a hook when the recorded status is not dnd", () => {
    expect(applyStatus(rec("idle", "manual", 0), rec("dnd", "hook", 5), timings).accepted).toBe(true);
  });
});

describe("status - working TTL", () => {
  it("reads working older than the TTL as idle, dated at the expiry", () => {
    const working = rec("working", "hook", 1_000);
    expect(effectiveStatus(working, 61_000, timings)).toBe(working);
    expect(effectiveStatus(working, 61_001, timings)).toEqual(rec("idle", "hook", 61_000));
    expect(workingExpiresAt(working, timings)).toBe(61_001);
    expect(workingExpiresAt(rec("idle", "hook", 1_000), timings)).toBeNull();
  });

  it("lets a lower source replace an expired working once the flip is older than the fresh window", () => {
    const working = rec("working", "hook", 0);
    // flipped to idle at 60 s; a jsonl reading at 70 s is inside the fresh window of the flip
    expect(applyStatus(working, rec("working", "jsonl", 70_000), timings).accepted).toBe(false);
    expect(applyStatus(working, rec("working", "jsonl", 90_001), timings).accepted).toBe(true);
  });

  it("does not flip dnd or idle", () => {
    expect(effectiveStatus(rec("dnd", "manual", 0), 1e9, timings).status).toBe("dnd");
  });
});

describe("status - priority gating", () => {
  it("lets idle take every priority and working/dnd take now only", () => {
    expect(allowedPriorities("idle")).toEqual(["now", "next", "low"]);
    expect(allowedPriorities("working")).toEqual(["now"]);
    expect(allowedPriorities("dnd")).toEqual(["now"]);
  });
});
