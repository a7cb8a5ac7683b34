// What HTTP route handlers are given and what they return.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { BrokerContext } from "../context.js";
import type { Hub } from "../hub-api.js";
import type { KeyedRateLimiter } from "../rate-limit.js";
import type { ResolvedOptions } from "../options.js";
import type { ReplayGuard } from "../core/replay.js";
import type { HealthProbe } from "./health.js";

/** Long-lived services shared by all routes of one broker. */
export interface HttpDeps {
  ctx: BrokerContext;
  options: ResolvedOptions;
  hub: Hub;
  replay: ReplayGuard;
  health: HealthProbe;
  /** Per source IP, for every route except /health and /metrics. */
  ipLimiter: KeyedRateLimiter;
  /** Per pubkey, for /hook/set-status. */
  hookLimiter: KeyedRateLimiter;
}

/** One request as seen by a handler. */
export interface RouteRequest {
  req: IncomingMessage;
  res: ServerResponse;
  deps: HttpDeps;
  /** Broker clock at arrival (ms). */
  now: number;
}

export type RouteReply =
  | { status: number; json: unknown; headers?: Record<string, string> }
  | { status: number; text: string; contentType: string; headers?: Record<string, string> };

export interface Route {
  method: "GET" | "POST";
  path: string;
  /** Per-IP rate limiting applies (monitoring routes are exempt so probes never see 429). */
  rateLimited: boolean;
  handle(request: RouteRequest): Promise<RouteReply>;
}
