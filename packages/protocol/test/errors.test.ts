// The closed lists of wire error codes and close codes (SPEC §2, §3; ARCHITECTURE.md practice 2).
import { describe, expect, it } from "vitest";
import {
  CLOSE_CODES,
  ERROR_CODES,
  ErrorCodeSchema,
  ErrorFrameSchema,
  HANDSHAKE_REJECTIONS,
  HTTP_STATUS_BY_CODE,
  HttpErrorBodySchema,
  isErrorCode,
} from "@claudemesh/protocol";

describe("error codes - closed list", () => {
  it("is exactly the documented list; adding a code is a deliberate protocol change", () => {
    expect([...ERROR_CODES].sort()).toEqual(
      [
        "already_authenticated",
        "bad_signature",
        "capacity",
        "forbidden",
        "internal",
        "invite_exhausted",
        "invite_expired",
        "invite_invalid",
        "last_admin",
        "limit_reached",
        "malformed",
        "method_not_allowed",
        "no_hello",
        "not_found",
        "rate_limited",
        "recipients_mismatch",
        "replay",
        "revoked",
        "slug_taken",
        "storage_unavailable",
        "timestamp_skew",
        "too_large",
        "unauthorized",
        "unknown_target",
        "unsupported_media_type",
      ].sort(),
    );
  });

  it("has no duplicates and only snake_case codes", () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    for (const code of ERROR_CODES) expect(code).toMatch(/^[a-z]+(?:_[a-z]+)*$/);
  });

  it("isErrorCode accepts every listed code and nothing else", () => {
    for (const code of ERROR_CODES) expect(isErrorCode(code)).toBe(true);
    for (const other of [
      "teapot",
      "",
      "MALFORMED",
      " malformed",
      "toString",
      "constructor",
      "__proto__",
      400,
      null,
      undefined,
      {},
    ])
      expect(isErrorCode(other), String(other)).toBe(false);
  });

  it("the error frame and HTTP error body schemas accept exactly the listed codes", () => {
    expect([...ErrorCodeSchema.options]).toEqual([...ERROR_CODES]);
    for (const code of ERROR_CODES) {
      expect(ErrorFrameSchema.safeParse({ type: "error", code, message: "m" }).success).toBe(true);
      expect(HttpErrorBodySchema.safeParse({ ok: false, error: { code, message: "m" } }).success).toBe(true);
    }
    expect(ErrorFrameSchema.safeParse({ type: "error", code: "teapot", message: "m" }).success).toBe(false);
  });
});

describe("error codes - handshake rejections", () => {
  it("are error codes, in SPEC §3 check order", () => {
    for (const reason of HANDSHAKE_REJECTIONS) expect(ERROR_CODES).toContain(reason);
    expect([...HANDSHAKE_REJECTIONS]).toEqual([
      "timestamp_skew",
      "malformed",
      "bad_signature",
      "unauthorized",
      "revoked",
      "replay",
      "capacity",
    ]);
  });

  it("fit in a WebSocket close reason (at most 123 bytes, SPEC §3 sends the reason as close text)", () => {
    for (const reason of HANDSHAKE_REJECTIONS)
      expect(new TextEncoder().encode(reason).length).toBeLessThanOrEqual(123);
  });
});

describe("error codes - HTTP status", () => {
  it("every code has an HTTP error status and no unknown code has one", () => {
    expect(Object.keys(HTTP_STATUS_BY_CODE).sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) {
      const status = HTTP_STATUS_BY_CODE[code];
      expect(Number.isInteger(status), code).toBe(true);
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThanOrEqual(599);
    }
  });

  it("uses the statuses SPEC §2 names", () => {
    expect(HTTP_STATUS_BY_CODE).toMatchObject({
      malformed: 400,
      not_found: 404,
      slug_taken: 409,
      last_admin: 409,
      invite_expired: 410,
      invite_exhausted: 410,
      too_large: 413,
      rate_limited: 429,
      storage_unavailable: 503,
    });
    // Authentication failures (the signature or its freshness) are 401; authorization failures are 403.
    expect(HTTP_STATUS_BY_CODE).toMatchObject({
      timestamp_skew: 401,
      bad_signature: 401,
      replay: 401,
      unauthorized: 403,
      revoked: 403,
      forbidden: 403,
    });
  });
});

describe("close codes", () => {
  const values = Object.values(CLOSE_CODES);

  it("are valid to send: 1000–1015 or 4000–4999, never the reserved 1004/1005/1006/1015 (RFC 6455 §7.4)", () => {
    for (const code of values) {
      expect((code >= 1000 && code <= 1015) || (code >= 4000 && code <= 4999), String(code)).toBe(true);
      expect([1004, 1005, 1006, 1015], String(code)).not.toContain(code);
    }
  });

  it("are unique", () => {
    expect(new Set(values).size).toBe(values.length);
  });

  it("reject with 1008 and cap frames with 1009 (SPEC §3)", () => {
    expect(CLOSE_CODES.policyViolation).toBe(1008);
    expect(CLOSE_CODES.messageTooBig).toBe(1009);
    expect(CLOSE_CODES.normal).toBe(1000);
  });

  it("close a connection over its outbound byte budget with 1013 (SPEC §7)", () => {
    expect(CLOSE_CODES.tryAgainLater).toBe(1013);
  });
});
