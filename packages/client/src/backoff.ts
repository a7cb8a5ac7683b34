// Reconnect delay schedule (SPEC §7: 1, 2, 4, 8, 16, 30 s; the last value repeats).

/** Delay before reconnect attempt number `attempt` (0-based) under `schedule`. */
export function backoffDelay(schedule: readonly number[], attempt: number): number {
  if (schedule.length === 0) throw new RangeError("backoff schedule must not be empty");
  const index = Math.min(Math.max(0, Math.floor(attempt)), schedule.length - 1);
  return schedule[index] ?? 0;
}
