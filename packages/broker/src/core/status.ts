// The status model of SPEC §3 as pure functions: source ranking, fresh window, working TTL, dnd rules, priority gating.
import type { Priority, Status, StatusSource } from "@claudemesh/protocol";

/** A recorded status: what it is, who said it, and when (epoch ms). */
export interface StatusRecord {
  status: Status;
  source: StatusSource;
  at: number;
}

export interface StatusTimings {
  /** A lower-ranked source may overwrite only a record older than this (SPEC §7: 30 s). */
  statusFreshMs: number;
  /** `working` older than this reads as `idle` (SPEC §7: 60 s). */
  workingTtlMs: number;
}

/** SPEC §3: "Sources rank hook > manual > jsonl". */
export const SOURCE_RANK: Readonly<Record<StatusSource, number>> = { hook: 3, manual: 2, jsonl: 1 };

/**
 * The status a new (or returning-after-grace) session starts with: idle at the lowest rank, so the
 * first report from any source replaces it at once.
 */
export function initialStatus(now: number): StatusRecord {
  return { status: "idle", source: "jsonl", at: now };
}

/**
 * The status as it reads at `now`: a `working` record older than the working TTL has flipped to
 * `idle` (SPEC §3: "A peer stuck in working for more than 60 s flips to idle"). The flip keeps the
 * source and dates itself at the moment of expiry, so the fresh window runs from the flip.
 */
export function effectiveStatus(record: StatusRecord, now: number, timings: StatusTimings): StatusRecord {
  if (record.status === "working" && now - record.at > timings.workingTtlMs) {
    return { status: "idle", source: record.source, at: record.at + timings.workingTtlMs };
  }
  return record;
}

/** When a `working` record will flip to idle, or null when it never will. */
export function workingExpiresAt(record: StatusRecord, timings: StatusTimings): number | null {
  return record.status === "working" ? record.at + timings.workingTtlMs + 1 : null;
}

export type StatusDecision =
  | { accepted: true; record: StatusRecord; changed: boolean }
  | { accepted: false; record: StatusRecord; reason: "dnd_protected" | "lower_rank_fresh" };

/**
 * Decides whether `incoming` replaces `current` (SPEC §3 status model):
 * - a `hook` never clears `dnd` (a hook while dnd is ignored);
 * - `dnd` is left only by an explicit manual `set_status` — a transcript (`jsonl`) reading of
 *   activity must not end a do-not-disturb either, or dnd would silently expire after the fresh window;
 * - otherwise an equal or higher-ranked source always wins, and a lower-ranked source wins only when
 *   the recorded one is older than the fresh window.
 * `current` is read through the working TTL first, so an expired `working` competes as `idle`.
 */
export function applyStatus(
  current: StatusRecord,
  incoming: StatusRecord,
  timings: StatusTimings,
): StatusDecision {
  const now = incoming.at;
  const live = effectiveStatus(current, now, timings);
  if (live.status === "dnd" && incoming.status !== "dnd" && incoming.source !== "manual") {
    return { accepted: false, record: live, reason: "dnd_protected" };
  }
  const lower = SOURCE_RANK[incoming.source] < SOURCE_RANK[live.source];
  if (lower && now - live.at <= timings.statusFreshMs) {
    return { accepted: false, record: live, reason: "lower_rank_fresh" };
  }
  const changed = incoming.status !== live.status;
  return { accepted: true, record: { ...incoming }, changed };
}

const ALL: readonly Priority[] = ["now", "next", "low"];
const NOW_ONLY: readonly Priority[] = ["now"];

/** Priorities that may be pushed to a peer in `status` (SPEC §3: idle → all; working, dnd → now only). */
export function allowedPriorities(status: Status): readonly Priority[] {
  return status === "idle" ? ALL : NOW_ONLY;
}
