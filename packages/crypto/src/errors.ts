// The one error type this package throws: a caller passed an argument of the wrong type, length or shape.
import type { ErrorCode } from "@claudemesh/protocol";

/**
 * Thrown for a bad argument (ARCHITECTURE.md practice 5). It is a TypeError so callers can
 * catch it as one; `argument` names the parameter at fault and `code` is the wire code a
 * broker would answer with if the bad value came from a peer. The message never contains the
 * value itself: it may be key material.
 */
export class CryptoArgumentError extends TypeError {
  override readonly name = "CryptoArgumentError";
  readonly code: ErrorCode = "malformed";
  constructor(
    readonly argument: string,
    problem: string,
  ) {
    super(`${argument} ${problem}`);
  }
}
