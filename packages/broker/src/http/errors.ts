// The HTTP error type and JSON writers: every failure becomes `{ok:false, error:{code, message}}` (SPEC §2).
import type { ServerResponse } from "node:http";
import { HTTP_STATUS_BY_CODE, type ErrorCode } from "@claudemesh/protocol";

/** A request failure with a wire code; `status` defaults to HTTP_STATUS_BY_CODE[code]. */
export class HttpError extends Error {
  override readonly name = "HttpError";
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options: { status?: number; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.status = options.status ?? HTTP_STATUS_BY_CODE[code];
    this.headers = options.headers ?? {};
  }
  readonly headers: Record<string, string>;
}

/** Writes a JSON body with an exact Content-Length; ignores a response that is already finished. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.writableEnded) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    ...headers,
  });
  res.end(text);
}

/** Writes the SPEC §2 error body for `error`. */
export function sendError(res: ServerResponse, error: HttpError): void {
  sendJson(
    res,
    error.status,
    { ok: false, error: { code: error.code, message: error.message } },
    error.headers,
  );
}
