// startBroker: wires options, logger, metrics, store, hub and the HTTP/WebSocket server into one running broker.
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { CLAUDEMESH_VERSION } from "@claudemesh/protocol";
import type { BrokerContext, Clock } from "./context.js";
import type { Hub } from "./hub-api.js";
import { StoreReplayGuard } from "./core/replay.js";
import { HealthProbe } from "./http/health.js";
import { createLogger, type BrokerLogger } from "./log.js";
import { createMetrics, type MetricsRegistry } from "./metrics.js";
import { resolveOptions, type Env, type ResolvedOptions } from "./options.js";
import { KeyedRateLimiter } from "./rate-limit.js";
import { createBrokerServer } from "./http/listener.js";
import { openStore } from "./store/index.js";
import { createHub } from "./ws/hub.js";
import { brokerEndpoint } from "./ws/broker-heartbeat.js";

export interface StartBrokerOptions extends Partial<ResolvedOptions> {
  /** Environment to read CLAUDEMESH_* / DATABASE_URL overrides from; default none (explicit options only). */
  env?: Env;
  clock?: Clock;
  /** Default: JSON lines on stderr at options.logLevel. */
  logger?: BrokerLogger;
}

export interface RunningBroker {
  /** `http://host:port` (IPv6 hosts bracketed). */
  url: string;
  /** `ws://host:port/ws`. */
  wsUrl: string;
  host: string;
  port: number;
  ctx: BrokerContext & { options: ResolvedOptions; metrics: MetricsRegistry; log: BrokerLogger };
  hub: Hub;
  /** Graceful stop: stop accepting, close sockets 1001, mark presences offline, flush, close the store. Idempotent. */
  close(): Promise<void>;
}

/** The broker package version, reported by /health (the one version of every package, SPEC §2 /health). */
export const BROKER_VERSION: string = CLAUDEMESH_VERSION;

function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** Resolves after `ms` or when `promise` settles, whichever is first. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts a broker: opens and migrates the store, starts the hub, then listens on host:port (port 0
 * picks a free one). Rejects (after cleaning up) when the options are invalid, the store cannot be
 * opened, or the port cannot be bound.
 */
export async function startBroker(partial: StartBrokerOptions = {}): Promise<RunningBroker> {
  const { env, clock: givenClock, logger, ...given } = partial;
  const options = resolveOptions(given, env ?? {});
  const clock: Clock = givenClock ?? { now: () => Date.now() };
  const log = logger ?? createLogger({ level: options.logLevel, clock });
  const metrics = createMetrics();

  const store = openStore(options.db, { log });
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  const ctx = {
    options,
    store,
    metrics,
    log,
    clock,
    brokerId: randomBytes(12).toString("hex"), // hex: never contains LEASE_OWNER_SEPARATOR
    version: BROKER_VERSION,
  };
  const hub = createHub(ctx);
  const deps = {
    ctx,
    options,
    hub,
    // Signed HTTP bodies are claimed in the store: refused again after a restart and on other brokers.
    replay: new StoreReplayGuard(store, clock),
    health: new HealthProbe(store, clock, options.healthCacheMs),
    ipLimiter: new KeyedRateLimiter({
      ratePerSec: options.httpRequestsPerSec,
      burst: options.httpRequestBurst,
      clock,
    }),
    hookLimiter: new KeyedRateLimiter({
      ratePerSec: options.memberSendsPerSec,
      burst: options.memberSendBurst,
      clock,
    }),
  };
  const { http, wss } = createBrokerServer(ctx, hub, deps);

  try {
    await hub.start();
    await new Promise<void>((resolve, reject) => {
      http.once("error", reject);
      http.listen(options.port, options.host, () => {
        http.off("error", reject);
        resolve();
      });
    });
    // Only now, holding the port: the broker this one replaces on it is certainly gone.
    const bound = http.address() as AddressInfo;
    await hub.listening(brokerEndpoint(hostname(), bound.address, bound.port));
  } catch (error) {
    if (http.listening) http.close();
    await hub.shutdown().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw error;
  }
  http.on("error", (error) => log.error("http.server_error", { error }));

  const address = http.address() as AddressInfo;
  const host = options.host;
  const url = `http://${hostForUrl(host)}:${address.port}`;
  log.info("broker.started", { url, store: store.kind, brokerId: ctx.brokerId, version: BROKER_VERSION });

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      log.info("broker.stopping", { brokerId: ctx.brokerId });
      // 1. stop accepting new connections; idle keep-alive sockets go now, busy ones after their response.
      const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      // 2. close WebSockets with 1001, mark presences offline, flush in-flight commits.
      try {
        await hub.shutdown();
      } catch (error) {
        log.error("broker.hub_shutdown_failed", { error });
      }
      await wss().then(
        (server) => server.close(),
        () => undefined,
      );
      // 3. let in-flight HTTP requests finish (bounded), then cut whatever is left.
      if (!(await within(httpClosed, options.shutdownTimeoutMs))) http.closeAllConnections();
      await within(httpClosed, 1_000);
      // 4. the store last, so everything above could still write.
      try {
        await store.close();
      } catch (error) {
        log.error("broker.store_close_failed", { error });
      }
      log.info("broker.stopped", { brokerId: ctx.brokerId });
    })();
    return closing;
  };

  return {
    url,
    wsUrl: `ws://${hostForUrl(host)}:${address.port}/ws`,
    host,
    port: address.port,
    ctx,
    hub,
    close,
  };
}
