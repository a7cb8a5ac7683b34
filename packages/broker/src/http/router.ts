// The HTTP request handler: route table, 404/405, per-IP rate limit, error mapping and request metrics (SPEC §2).
import type { IncomingMessage, ServerResponse } from "node:http";
import { StoreUnavailableError } from "../store/types.js";
import { assertDeclaredLength, hasBody, readBodyCapped } from "./body.js";
import { HttpError, sendError, sendJson } from "./errors.js";
import { agentsRoute } from "./routes/agents.js";
import { healthRoute, metricsRoute } from "./routes/health.js";
import { hookStatusRoute } from "./routes/hook-status.js";
import { joinRoute } from "./routes/join.js";
import { meshesRoute } from "./routes/meshes.js";
import { revokeRoute } from "./routes/revoke.js";
import type { HttpDeps, Route, RouteReply } from "./types.js";

/** Every HTTP route of SPEC §2 (the `/ws` upgrade is handled by the server, not here). */
export const ROUTES: readonly Route[] = [
  healthRoute,
  metricsRoute,
  meshesRoute,
  joinRoute,
  agentsRoute,
  hookStatusRoute,
  revokeRoute,
];

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

function pathOf(url: string | undefined): string {
  const raw = url ?? "/";
  const q = raw.indexOf("?");
  return q === -1 ? raw : raw.slice(0, q);
}

function writeReply(req: IncomingMessage, res: ServerResponse, reply: RouteReply): void {
  if ("json" in reply) {
    sendJson(res, reply.status, reply.json, reply.headers);
    return;
  }
  if (res.headersSent) return;
  res.writeHead(reply.status, {
    "content-type": reply.contentType,
    "content-length": String(Buffer.byteLength(reply.text)),
    "cache-control": "no-store",
    ...reply.headers,
  });
  res.end(req.method === "HEAD" ? undefined : reply.text);
}

/** Maps anything thrown by a route to a wire error; unexpected errors are logged and answered without detail. */
function toHttpError(error: unknown, deps: HttpDeps, route: string): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof StoreUnavailableError) {
    deps.ctx.metrics.inc("store_errors_total", { op: route });
    deps.ctx.log.warn("http.storage_unavailable", { route, error });
    return new HttpError(
      "storage_unavailable",
      "the broker's storage is unreachable right now; retry shortly",
      {
        headers: { "retry-after": "1" },
      },
    );
  }
  deps.ctx.log.error("http.internal_error", { route, error });
  return new HttpError("internal", "internal broker error");
}

/** Takes one token from the source IP's bucket or throws 429 `rate_limited` with Retry-After. */
function takeIpToken(req: IncomingMessage, deps: HttpDeps, routeLabel: string): void {
  const ip = req.socket.remoteAddress ?? "unknown";
  if (deps.ipLimiter.take(ip)) return;
  deps.ctx.metrics.inc("http_rate_limited_total", { route: routeLabel });
  const retryAfter = Math.max(1, Math.ceil(deps.ipLimiter.retryAfterMs(ip) / 1000));
  throw new HttpError("rate_limited", `too many requests from this address; retry in ${retryAfter} s`, {
    headers: { "retry-after": String(retryAfter) },
  });
}

/** Builds the `request` listener of the broker's node:http server. */
export function createRequestHandler(deps: HttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const byPath = new Map<string, Route[]>();
  for (const route of ROUTES) byPath.set(route.path, [...(byPath.get(route.path) ?? []), route]);
  const { metrics } = deps.ctx;

  return (req, res) => {
    const started = process.hrtime.bigint();
    const path = pathOf(req.url);
    const candidates = byPath.get(path);
    // Route label is the matched path or a fixed bucket, so label cardinality stays bounded.
    const routeLabel = candidates ? path : "unmatched";
    const method = req.method ?? "GET";
    res.on("finish", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const methodLabel = KNOWN_METHODS.has(method) ? method : "other";
      metrics.inc("http_requests_total", {
        route: routeLabel,
        method: methodLabel,
        status: String(res.statusCode),
      });
      metrics.observe("http_request_duration_seconds", seconds, { route: routeLabel });
    });

    const run = async (): Promise<void> => {
      assertDeclaredLength(req, deps.options.maxHttpBodyBytes);
      // Unknown paths count against the per-IP budget too: probing costs the prober.
      if (!candidates || candidates.some((r) => r.rateLimited)) takeIpToken(req, deps, routeLabel);
      if (!candidates)
        throw new HttpError(
          "not_found",
          `no route ${path}; the broker's HTTP routes are listed in docs/PROTOCOL.md`,
        );
      const route = candidates.find((r) => r.method === method || (method === "HEAD" && r.method === "GET"));
      if (!route) {
        const allow = [
          ...new Set(candidates.flatMap((r) => (r.method === "GET" ? ["GET", "HEAD"] : [r.method]))),
        ];
        throw new HttpError("method_not_allowed", `${path} accepts ${allow.join(", ")}`, {
          headers: { allow: allow.join(", ") },
        });
      }
      // GET routes ignore bodies, but a streamed one is still capped rather than read without bound.
      if (route.method === "GET" && hasBody(req)) await readBodyCapped(req, deps.options.maxHttpBodyBytes);
      writeReply(req, res, await route.handle({ req, res, deps, now: deps.ctx.clock.now() }));
    };

    run().catch((error: unknown) => {
      const httpError = toHttpError(error, deps, routeLabel);
      // An unread (too large, rejected early) body means the connection cannot be reused.
      if (!req.complete) res.shouldKeepAlive = false;
      sendError(res, httpError);
    });
  };
}
