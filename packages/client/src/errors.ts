// ClientError: the one typed error family thrown by @claudemesh/client (wire codes from the broker plus local codes).
import { HANDSHAKE_REJECTIONS, type ErrorCode } from "@claudemesh/protocol";

/**
 * Local error codes (ARCHITECTURE.md practice 2): they describe what happened on this side of
 * the wire and are never sent to the broker.
 */
export const LOCAL_ERROR_CODES = [
  /** The broker could not be reached (refused, DNS, reset). */
  "unreachable",
  /** No answer within the configured time. */
  "timeout",
  /** The broker answered with something that is not the documented shape. */
  "bad_response",
  /** The operation needs a live connection and there is none right now. */
  "not_connected",
  /** The outbound queue is at its cap (SPEC §7, default 100). */
  "queue_full",
  /** The client was closed; nothing more will be sent. */
  "closed",
  /** The target matched more than one peer (SPEC §5). */
  "ambiguous_target",
  /** Another session connected with this identity and the broker closed this one (close 4001). */
  "replaced",
  /** An argument failed local validation before anything was sent. */
  "invalid_argument",
  /** The operation was aborted by the caller's AbortSignal. */
  "aborted",
  /** The inbound sink refused a message; it was not acknowledged, so the broker delivers it again. */
  "handoff_failed",
] as const;

export type LocalErrorCode = (typeof LOCAL_ERROR_CODES)[number];

/** Either a wire code (from `{ok:false,error}` bodies and error frames) or a local code. */
export type ClientErrorCode = ErrorCode | LocalErrorCode;

export interface ClientErrorDetails {
  /** HTTP status when the error came from an HTTP response. */
  status?: number;
  /** True when the client stopped reconnecting because of it (handshake rejection, replaced, revoked). */
  fatal?: boolean;
  /** With `recipients_mismatch`: the pubkeys the broker expects envelopes for. */
  expected?: string[];
  /** Underlying error, kept for debugging; never contains key material. */
  cause?: unknown;
}

/** Every failure surfaced by this package. Switch on `code`, never on `message`. */
export class ClientError extends Error {
  override readonly name = "ClientError";
  readonly status: number | undefined;
  readonly fatal: boolean;
  readonly expected: string[] | undefined;

  constructor(
    readonly code: ClientErrorCode,
    message: string,
    details: ClientErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.fatal = details.fatal ?? false;
    this.expected = details.expected;
  }
}

/** True for ClientError instances (also across duplicated module copies, by name and code). */
export function isClientError(value: unknown): value is ClientError {
  return (
    value instanceof ClientError ||
    (value instanceof Error &&
      value.name === "ClientError" &&
      typeof (value as { code?: unknown }).code === "string")
  );
}

const HANDSHAKE_SET: ReadonlySet<string> = new Set(HANDSHAKE_REJECTIONS);

/** True when `code` is one of the hello rejection reasons of SPEC §3. */
export function isHandshakeRejection(code: string): boolean {
  return HANDSHAKE_SET.has(code);
}
