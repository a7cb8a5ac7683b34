// The socket seam of BrokerClient: a tiny callback interface, with the `ws` implementation used in production.
import WebSocket from "ws";

/** Callbacks a socket reports to; called at most once for onOpen and onClose. */
export interface SocketHandlers {
  onOpen(): void;
  onMessage(text: string): void;
  /** Any liveness signal from the broker (a ping frame); used to detect a silent broker. */
  onPing(): void;
  onClose(code: number, reason: string): void;
  /** A transport error; onClose always follows. */
  onError(err: Error): void;
}

/** What BrokerClient needs from a connection. */
export interface ClientSocket {
  /** Writes one text frame; false when the socket is not open. */
  send(text: string): boolean;
  /** Starts a clean close handshake (or aborts a connection still being opened); `done` runs once closed. */
  close(code: number, reason?: string, done?: () => void): void;
  /** Drops the connection immediately (no close handshake). */
  terminate(): void;
}

/** Opens a connection to `url`; tests inject a fake to drive the client with fake timers. */
export type SocketFactory = (url: string, handlers: SocketHandlers) => ClientSocket;

/** Time allowed for the TCP + HTTP upgrade before the attempt counts as failed. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** The production factory over the `ws` package. */
export const wsSocketFactory: SocketFactory = (url, handlers) => {
  const ws = new WebSocket(url, { handshakeTimeout: HANDSHAKE_TIMEOUT_MS, perMessageDeflate: false });
  ws.on("open", () => handlers.onOpen());
  ws.on("message", (data, isBinary) => {
    // The protocol is JSON text frames only (SPEC §3); a binary frame is passed on and fails parsing.
    handlers.onMessage(isBinary ? "" : data.toString());
  });
  ws.on("ping", () => handlers.onPing());
  ws.on("error", (err) => handlers.onError(err));
  ws.on("close", (code, reason) => handlers.onClose(code, reason.toString()));
  return {
    send(text) {
      if (ws.readyState !== WebSocket.OPEN) return false;
      ws.send(text);
      return true;
    },
    close(code, reason, done) {
      if (ws.readyState === WebSocket.CLOSED) {
        done?.();
        return;
      }
      if (done) ws.once("close", () => done());
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
    },
    terminate() {
      ws.terminate();
    },
  };
};
