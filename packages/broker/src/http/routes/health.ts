// GET /health and GET /metrics (SPEC §2): monitoring routes, exempt from rate limiting.
import type { Route } from "../types.js";

export const healthRoute: Route = {
  method: "GET",
  path: "/health",
  rateLimited: false,
  async handle({ deps }) {
    const up = await deps.health.isUp();
    // public_url (when configured) tells `claudemesh mesh create` which URL to put in invites.
    const extra = deps.options.publicUrl ? { public_url: deps.options.publicUrl } : {};
    return up
      ? { status: 200, json: { status: "ok", db: "up", version: deps.ctx.version, ...extra } }
      : { status: 503, json: { status: "degraded", db: "down", version: deps.ctx.version, ...extra } };
  },
};

export const metricsRoute: Route = {
  method: "GET",
  path: "/metrics",
  rateLimited: false,
  async handle({ deps }) {
    deps.ctx.metrics.set("connections_active", deps.hub.connectionCount());
    return {
      status: 200,
      text: deps.ctx.metrics.render(),
      contentType: "text/plain; version=0.0.4; charset=utf-8",
    };
  },
};
