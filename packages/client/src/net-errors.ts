// Turns Node/undici/ws network failures into short human phrases and `unreachable` ClientErrors.
import { ClientError } from "./errors.js";

const PHRASES: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "DNS lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
  EPIPE: "connection closed",
  UND_ERR_SOCKET: "connection closed by the broker",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  CERT_HAS_EXPIRED: "TLS certificate expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "self-signed TLS certificate",
  ERR_TLS_CERT_ALTNAME_INVALID: "TLS certificate does not match the host",
};

function errorCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/**
 * One short phrase for why a connection failed, e.g. "connection refused". Looks through
 * `cause` chains (fetch wraps the socket error in `TypeError: fetch failed`) and AggregateErrors
 * (happy-eyeballs tries several addresses).
 */
export function describeNetworkError(err: unknown): string {
  const seen = new Set<unknown>();
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current !== undefined && !seen.has(current); depth++) {
    seen.add(current);
    const code = errorCode(current);
    if (code !== undefined) return PHRASES[code] ?? code.toLowerCase().replace(/_/g, " ");
    if (current instanceof AggregateError && current.errors.length > 0) {
      current = current.errors[0];
      continue;
    }
    current = current instanceof Error ? current.cause : undefined;
  }
  if (err instanceof Error && err.message !== "" && err.message !== "fetch failed") return err.message;
  return "network error";
}

/** The `unreachable` error every caller shows when the broker cannot be contacted. */
export function unreachableError(httpBase: string, err: unknown): ClientError {
  return new ClientError(
    "unreachable",
    `cannot reach broker at ${httpBase} (${describeNetworkError(err)}) — is \`claudemesh broker\` running?`,
    { cause: err },
  );
}
