// One JSON-over-HTTP call to a broker: timeout, network-error mapping, `{ok:false,error}` decoding, schema validation.
import { describeIssues, HttpErrorBodySchema } from "@claudemesh/protocol";
import { ClientError } from "./errors.js";
import { unreachableError } from "./net-errors.js";

/** Default time to wait for any broker HTTP answer. */
export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;

export interface HttpCallOptions {
  /** Abort after this long with ClientError `timeout` (default 10 s). */
  timeoutMs?: number;
  /** Sent as `Authorization: Bearer <token>` (never logged or echoed). */
  token?: string;
  /** Injectable fetch for tests; defaults to the global fetch of Node 20. */
  fetch?: typeof fetch;
}

/** The slice of a zod schema this module uses (keeps zod a dependency of protocol only). */
export interface BodySchema<T> {
  safeParse(
    value: unknown,
  ): { success: true; data: T } | { success: false; error: Parameters<typeof describeIssues>[0] };
}

export interface HttpCall<T> {
  httpBase: string;
  method: "GET" | "POST";
  path: string;
  body?: unknown;
  /** Schema of a successful body. */
  schema: BodySchema<T>;
  /** HTTP statuses whose body is still parsed with `schema` (e.g. 503 for a degraded /health). */
  acceptStatuses?: readonly number[];
  /** Prefix for wire-error messages, e.g. "join failed". */
  what: string;
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
}

/** Performs the call and returns the validated body, or throws one ClientError. */
export async function callBroker<T>(call: HttpCall<T>, options: HttpCallOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  const doFetch = options.fetch ?? fetch;
  const headers: Record<string, string> = { accept: "application/json" };
  if (call.body !== undefined) headers["content-type"] = "application/json";
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const route = `${call.method} ${call.path}`;

  let response: Response;
  let text: string;
  try {
    response = await doFetch(call.httpBase + call.path, {
      method: call.method,
      headers,
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await response.text();
  } catch (err) {
    if (isTimeout(err)) {
      throw new ClientError(
        "timeout",
        `broker at ${call.httpBase} did not answer ${route} within ${timeoutMs} ms — is it overloaded or unreachable?`,
        { cause: err },
      );
    }
    throw unreachableError(call.httpBase, err);
  }

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ClientError(
      "bad_response",
      `broker at ${call.httpBase} answered ${route} with status ${response.status} and a non-JSON body — is that URL a claudemesh broker?`,
      { status: response.status },
    );
  }

  if (response.ok || call.acceptStatuses?.includes(response.status)) {
    const parsed = call.schema.safeParse(json);
    if (parsed.success) return parsed.data;
    if (response.ok) {
      throw new ClientError(
        "bad_response",
        `broker at ${call.httpBase} answered ${route} with an unexpected body (${describeIssues(parsed.error)}) — client and broker versions may differ`,
        { status: response.status },
      );
    }
  }

  const wire = HttpErrorBodySchema.safeParse(json);
  if (wire.success) {
    throw new ClientError(wire.data.error.code, `${call.what}: ${wire.data.error.message}`, {
      status: response.status,
    });
  }
  throw new ClientError(
    "bad_response",
    `broker at ${call.httpBase} answered ${route} with status ${response.status} and no claudemesh error body`,
    { status: response.status },
  );
}
