// The broker's single port (SPEC §2, §3): one node:http server for the HTTP routes plus the `/ws` WebSocket upgrade.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocketServer } from "ws";
import type { BrokerContext } from "../context.js";
import { cryptoLoaded, loadCrypto } from "../crypto.js";
import type { Hub } from "../hub-api.js";
import { wsMaxPayload } from "../ws/frame-cap.js";
import { createRequestHandler } from "./router.js";
import type { HttpDeps } from "./types.js";

const WS_PATH = "/ws";

/** Writes a bare HTTP error on a socket that asked to upgrade, then drops it. */
function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  const body = JSON.stringify({
    ok: false,
    error: { code: status === 404 ? "not_found" : "malformed", message: reason },
  });
  socket.end(
    `HTTP/1.1 ${status} ${status === 404 ? "Not Found" : "Bad Request"}\r\n` +
      "Connection: close\r\nContent-Type: application/json\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  // A client that never reads must not hold the socket open.
  setTimeout(() => socket.destroy(), 1_000).unref();
}

export interface BrokerServer {
  http: Server;
  /** The WebSocket server; `ws` and crypto load once the port is bound (or at the first request, if sooner). */
  wss(): Promise<WebSocketServer>;
}

/**
 * Creates (but does not start) the HTTP server and a noServer WebSocketServer whose maxPayload is
 * the largest group frame (wsMaxPayload), so `ws` closes larger frames with 1009 (SPEC §3, §7)
 * before they are buffered; frames past maxFrameBytes but under that are judged by the hub.
 * `ws` and @claudemesh/crypto (libsodium) are loaded after `listening` rather than before it
 * (start-up time); a request or upgrade that arrives first waits for them.
 */
export function createBrokerServer(ctx: BrokerContext, hub: Hub, deps: HttpDeps): BrokerServer {
  const handle = createRequestHandler(deps);
  // Every handler may verify a signature: a request that arrives before crypto is loaded waits for it.
  const http = createServer((req, res) => {
    if (cryptoLoaded()) return handle(req, res);
    loadCrypto().then(
      () => handle(req, res),
      (error: unknown) => {
        ctx.log.error("http.crypto_load_failed", { error });
        res.destroy();
      },
    );
  });
  // Slow-loris bounds: a request must send its headers and body within these.
  http.headersTimeout = 20_000;
  http.requestTimeout = 30_000;
  let loading: Promise<WebSocketServer> | undefined;
  const wss = (): Promise<WebSocketServer> => {
    loading ??= Promise.all([import("ws"), loadCrypto()]).then(
      ([{ WebSocketServer }]) =>
        new WebSocketServer({ noServer: true, maxPayload: wsMaxPayload(ctx.options), clientTracking: false }),
    );
    return loading;
  };
  // Loaded once the port is bound, so the ready line does not wait for libsodium and ws.
  http.once("listening", () => setImmediate(() => void wss().catch(() => undefined)));

  http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", (error) => ctx.log.warn("ws.upgrade_socket_error", { error }));
    const path = (req.url ?? "/").split("?")[0];
    if (path !== WS_PATH) {
      ctx.metrics.inc("ws_upgrades_rejected_total", { reason: "not_found" });
      refuseUpgrade(socket, 404, `WebSocket endpoint is ${WS_PATH}`);
      return;
    }
    wss().then(
      (server) => {
        try {
          server.handleUpgrade(req, socket, head, (ws) => {
            try {
              hub.handleConnection(ws, req);
            } catch (error) {
              ctx.log.error("ws.handle_connection_failed", { error });
              ws.close(1011, "internal");
            }
          });
        } catch (error) {
          ctx.metrics.inc("ws_upgrades_rejected_total", { reason: "bad_upgrade" });
          ctx.log.warn("ws.upgrade_failed", { error });
          socket.destroy();
        }
      },
      (error: unknown) => {
        ctx.log.error("ws.load_failed", { error });
        socket.destroy();
      },
    );
  });
  http.on("clientError", (error, socket) => {
    // Unparseable HTTP: answer 400 if the socket is still writable, never crash.
    if (socket.writable)
      socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    else socket.destroy();
    ctx.metrics.inc("http_client_errors_total", { code: (error as { code?: string }).code ?? "unknown" });
  });
  return { http, wss };
}
