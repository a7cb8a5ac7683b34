// The contract between the HTTP/server layer and the WebSocket session layer (ws/ and core/).
import type { IncomingMessage } from "node:http";
import type { WebSocket } from "ws";
import type { HookStatusRequest } from "@claudemesh/protocol";

export type HookResult = "applied" | "pending" | "ignored";

export interface Hub {
  /** Takes ownership of an upgraded `/ws` socket: handshake, routing, liveness. */
  handleConnection(socket: WebSocket, request: IncomingMessage): void;
  /** Applies a verified hook status (SPEC §3 status model; stashed 10 s if the peer is not connected). */
  applyHookStatus(request: HookStatusRequest): Promise<HookResult>;
  /** Live authenticated connections. */
  connectionCount(): number;
  /** Starts timers (ping, sweep, presence grace) and store wake-up subscriptions. */
  start(): Promise<void>;
  /**
   * The server holds its port now: records this broker's endpoint and releases the leases of the
   * broker it replaces on that endpoint (SPEC §3 "Leases die with their holder").
   */
  listening(endpoint: string): Promise<void>;
  /** Graceful stop: close sockets with 1001, mark presences offline, flush pending writes. */
  shutdown(): Promise<void>;
}
