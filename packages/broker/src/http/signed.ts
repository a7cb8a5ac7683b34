// Checks shared by every signed HTTP request (SPEC §2): the ±helloSkew timestamp window and replay rejection.
import { HttpError } from "./errors.js";

/** Rejects a timestamp outside ±skewMs of the broker clock (same window as the hello, SPEC §3 check 1). */
export function assertFreshTimestamp(timestamp: number, now: number, skewMs: number): void {
  if (Math.abs(now - timestamp) > skewMs) {
    throw new HttpError(
      "timestamp_skew",
      `timestamp is ${Math.round((timestamp - now) / 1000)} s away from the broker clock (allowed ±${Math.round(skewMs / 1000)} s); check the system clock and sign again`,
    );
  }
}

/**
 * Remembers signatures of accepted requests until their timestamp leaves the skew window; a second
 * use inside the window is a replay. A claim is released when the request then fails for a reason
 * that is not the client's (storage down), so an honest retry of the same signed body still works.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();
  private claimsSincePrune = 0;

  constructor(private readonly skewMs: number) {}

  /** Records `key` (a signature) for a request signed at `timestamp`; false when already seen. */
  claim(key: string, timestamp: number, now: number): boolean {
    if (++this.claimsSincePrune >= 256) this.prune(now);
    const expiresAt = this.seen.get(key);
    if (expiresAt !== undefined && expiresAt >= now) return false;
    // Past timestamp + skew the window check rejects the request anyway, so the entry can go.
    this.seen.set(key, timestamp + this.skewMs);
    return true;
  }

  release(key: string): void {
    this.seen.delete(key);
  }

  size(): number {
    return this.seen.size;
  }

  private prune(now: number): void {
    this.claimsSincePrune = 0;
    for (const [key, expiresAt] of this.seen) if (expiresAt < now) this.seen.delete(key);
  }
}

/** Claims a signature or throws `replay`. Returns the release function for failures that are not the client's. */
export function claimSignature(
  guard: ReplayGuard,
  signature: string,
  timestamp: number,
  now: number,
): () => void {
  if (!guard.claim(signature, timestamp, now))
    throw new HttpError(
      "replay",
      "this signed request was already used; sign it again with a fresh timestamp",
    );
  return () => guard.release(signature);
}
