// Broker URL helpers: accept http(s):// or ws(s):// forms and derive the HTTP base and the `/ws` endpoint (SPEC §2, §3).
import { ClientError } from "./errors.js";

export interface BrokerUrls {
  /** `http(s)://host:port[/prefix]` without a trailing slash; HTTP routes are appended to it. */
  httpBase: string;
  /** `ws(s)://host:port[/prefix]/ws`, the WebSocket endpoint. */
  wsUrl: string;
}

const SCHEMES: Readonly<Record<string, { http: string; ws: string }>> = {
  "http:": { http: "http:", ws: "ws:" },
  "https:": { http: "https:", ws: "wss:" },
  "ws:": { http: "http:", ws: "ws:" },
  "wss:": { http: "https:", ws: "wss:" },
};

/**
 * Normalises a broker URL. `http://h:7900`, `http://h:7900/`, `ws://h:7900` and `ws://h:7900/ws`
 * all give `{httpBase: "http://h:7900", wsUrl: "ws://h:7900/ws"}`. A path prefix (a broker behind
 * a reverse proxy) is kept. Throws ClientError `invalid_argument` for anything else.
 */
export function brokerUrls(input: string): BrokerUrls {
  const trimmed = input.trim();
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new ClientError(
      "invalid_argument",
      `broker URL "${trimmed}" is not a URL — expected e.g. http://127.0.0.1:7900 or ws://127.0.0.1:7900/ws`,
    );
  }
  const scheme = SCHEMES[url.protocol];
  if (!scheme || url.host === "") {
    throw new ClientError(
      "invalid_argument",
      `broker URL "${trimmed}" must start with http://, https://, ws:// or wss:// and name a host`,
    );
  }
  if (url.username !== "" || url.password !== "") {
    throw new ClientError("invalid_argument", "broker URL must not contain credentials");
  }
  // Drop trailing slashes, then a trailing `/ws` endpoint, so both forms map to one base.
  let path = url.pathname.replace(/\/+$/, "");
  if (path.endsWith("/ws")) path = path.slice(0, -3);
  const hostPart = `//${url.host}${path}`;
  return { httpBase: `${scheme.http}${hostPart}`, wsUrl: `${scheme.ws}${hostPart}/ws` };
}

/** The HTTP base of a broker URL (see brokerUrls). */
export function httpBaseUrl(input: string): string {
  return brokerUrls(input).httpBase;
}

/** The WebSocket endpoint of a broker URL (see brokerUrls). */
export function wsUrl(input: string): string {
  return brokerUrls(input).wsUrl;
}
