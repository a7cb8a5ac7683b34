// A scripted in-memory socket factory so BrokerClient unit tests run under fake timers without a network.
import type { ClientSocket, SocketFactory, SocketHandlers } from "../../src/transport.js";

export class FakeSocket implements ClientSocket {
  /** Frames the client wrote, parsed. */
  readonly sent: Array<Record<string, unknown>> = [];
  closedWith: { code: number; reason: string | undefined } | null = null;
  terminated = false;
  private ended = false;

  constructor(
    readonly url: string,
    readonly openedAt: number,
    private readonly handlers: SocketHandlers,
  ) {}

  send(text: string): boolean {
    if (this.ended) return false;
    this.sent.push(JSON.parse(text) as Record<string, unknown>);
    return true;
  }

  close(code: number, reason?: string, done?: () => void): void {
    this.closedWith = { code, reason };
    this.end(code, reason ?? "");
    done?.();
  }

  terminate(): void {
    this.terminated = true;
    this.end(1006, "");
  }

  // ---- server side

  open(): void {
    this.handlers.onOpen();
  }

  receive(frame: unknown): void {
    this.handlers.onMessage(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  ping(): void {
    this.handlers.onPing();
  }

  /** The server closes (or the network drops, code 1006). */
  serverClose(code: number, reason = ""): void {
    this.end(code, reason);
  }

  /** A connection failure: error then close 1006, as `ws` reports it. */
  fail(code = "ECONNREFUSED"): void {
    this.handlers.onError(Object.assign(new Error(`connect ${code}`), { code }));
    this.end(1006, "");
  }

  framesOfType(type: string): Array<Record<string, unknown>> {
    return this.sent.filter((f) => f.type === type);
  }

  private end(code: number, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.handlers.onClose(code, reason);
  }
}

/** Records every socket the client opens. */
export class FakeNetwork {
  readonly sockets: FakeSocket[] = [];
  /** When set, every new socket immediately runs this (e.g. fail, or open+ack). */
  onNewSocket: ((socket: FakeSocket) => void) | null = null;

  readonly factory: SocketFactory = (url, handlers) => {
    const socket = new FakeSocket(url, Date.now(), handlers);
    this.sockets.push(socket);
    const hook = this.onNewSocket;
    if (hook) queueMicrotask(() => hook(socket));
    return socket;
  };

  get last(): FakeSocket {
    const socket = this.sockets.at(-1);
    if (!socket) throw new Error("no socket opened yet");
    return socket;
  }
}
