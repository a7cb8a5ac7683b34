// How many error replies one connection may earn: a few before hello, a token bucket after (floods are closed, not answered).
import { TokenBucket } from "../rate-limit.js";

export interface ErrorReplyLimits {
  /** Sustained error replies per second once authenticated. */
  perSec: number;
  /** Error replies in a burst once authenticated. */
  burst: number;
  /** Error replies in total before the hello completes. */
  preHello: number;
}

/**
 * Every error frame costs outbound bytes the peer chose to cause, so a peer sending garbage (or
 * frames faster than its rate limit) could otherwise make the broker write without end. Each
 * error reply takes one unit here first; when none is left the reply is not written and the
 * connection is closed instead (1008 `rate_limited`), so a flood produces at most `burst` replies.
 */
export class ErrorReplyBudget {
  private preHelloLeft: number;
  private bucket: TokenBucket | null = null;

  constructor(private readonly limits: ErrorReplyLimits) {
    this.preHelloLeft = limits.preHello;
  }

  /** Switches to the authenticated allowance (at hello_ack). */
  authenticated(now: number): void {
    this.bucket ??= new TokenBucket(this.limits.perSec, this.limits.burst, now);
  }

  /** Takes one error reply; false when the connection has used up its allowance. */
  take(now: number): boolean {
    if (this.bucket) return this.bucket.take(now);
    if (this.preHelloLeft <= 0) return false;
    this.preHelloLeft--;
    return true;
  }
}
