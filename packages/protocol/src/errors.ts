// The closed lists of wire error codes and WebSocket close codes (ARCHITECTURE.md practice 2).

/**
 * Every `code` that may appear in a wire error (`{type:"error", code}` frames and
 * `{ok:false, error:{code}}` HTTP bodies). Clients switch on these, never on message text.
 */
export const ERROR_CODES = [
  // handshake rejections (SPEC §3, in check order) — each closes the socket with 1008
  "timestamp_skew",
  "malformed",
  "bad_signature",
  "unauthorized",
  "revoked",
  "replay",
  "capacity",
  // frame / session errors (connection stays usable)
  "no_hello",
  "already_authenticated",
  "unknown_target",
  "recipients_mismatch",
  "rate_limited",
  "too_large",
  "internal",
  "storage_unavailable",
  "limit_reached",
  // HTTP-only
  "not_found",
  "method_not_allowed",
  "unsupported_media_type",
  "slug_taken",
  "invite_invalid",
  "invite_expired",
  "invite_exhausted",
  "forbidden",
  "last_admin",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const ERROR_CODE_SET: ReadonlySet<string> = new Set(ERROR_CODES);

/** True when `value` is one of the closed list of wire error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && ERROR_CODE_SET.has(value);
}

/** Handshake rejection reasons: error frame, then close 1008 with the reason as close text. */
export const HANDSHAKE_REJECTIONS = [
  "timestamp_skew",
  "malformed",
  "bad_signature",
  "unauthorized",
  "revoked",
  "replay",
  "capacity",
] as const satisfies readonly ErrorCode[];

export type HandshakeRejection = (typeof HANDSHAKE_REJECTIONS)[number];

/** HTTP status for each error code used on HTTP routes (SPEC §2). */
export const HTTP_STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  timestamp_skew: 401,
  malformed: 400,
  bad_signature: 401,
  unauthorized: 403,
  revoked: 403,
  replay: 401,
  capacity: 503,
  no_hello: 400,
  already_authenticated: 409,
  unknown_target: 404,
  recipients_mismatch: 409,
  rate_limited: 429,
  too_large: 413,
  internal: 500,
  storage_unavailable: 503,
  limit_reached: 409,
  not_found: 404,
  method_not_allowed: 405,
  unsupported_media_type: 415,
  slug_taken: 409,
  invite_invalid: 400,
  invite_expired: 410,
  invite_exhausted: 410,
  forbidden: 403,
  last_admin: 409,
};

/** WebSocket close codes used by the broker (RFC 6455 §7.4.1 plus claudemesh's 4xxx). */
export const CLOSE_CODES = {
  /** Normal closure. */
  normal: 1000,
  /** Broker shutting down (SIGTERM/SIGINT). */
  goingAway: 1001,
  /** Handshake rejected or policy violation; close text is the reason code. */
  policyViolation: 1008,
  /** Frame over the size cap. */
  messageTooBig: 1009,
  /** Unexpected broker failure. */
  internalError: 1011,
  /** Try again later: more than the outbound byte budget was waiting to be read (SPEC §7). */
  tryAgainLater: 1013,
  /** An identical identity connected again; the older connection is closed (newest wins). */
  replaced: 4001,
  /** No hello arrived in time after the upgrade. */
  helloTimeout: 4002,
  /** The member was revoked while connected. */
  revoked: 4003,
  /** Peer was silent past the dead-after window. */
  deadPeer: 4004,
} as const;

export type CloseCode = (typeof CLOSE_CODES)[keyof typeof CLOSE_CODES];
