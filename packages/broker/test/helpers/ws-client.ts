// A raw WebSocket test peer: signed hello, every frame collected, and waits with timeouts (never unbounded).
import WebSocket from "ws";
import type { HelloAck, ServerFrame } from "@claudemesh/protocol";
import { signHello } from "@claudemesh/crypto";
import type { Member } from "./identity.js";

export interface CloseInfo {
  code: number;
  reason: string;
}

export class TestPeer {
  /** Every parsed frame received, in order. */
  readonly frames: ServerFrame[] = [];
  readonly closed: Promise<CloseInfo>;
  private waiters: Array<() => void> = [];
  private closeInfo: CloseInfo | null = null;

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      try {
        this.frames.push(JSON.parse(data.toString()) as ServerFrame);
      } catch {
        // the broker only sends JSON; a test asserting on frames will notice anything else
      }
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      ws.on("close", (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        this.wake();
        resolve(this.closeInfo);
      });
    });
    ws.on("error", () => undefined); // surfaced through `closed`
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Sends a frame (objects are JSON-encoded, strings sent as-is). */
  send(frame: object | string): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /**
   * Resolves with the first frame (at or after index `from`) matching `match`
   * (a `type` or a predicate); rejects after `timeoutMs` or when the socket closes first.
   */
  async next<T extends ServerFrame = ServerFrame>(
    match: ServerFrame["type"] | ((frame: ServerFrame) => boolean),
    options: { timeoutMs?: number; from?: number } = {},
  ): Promise<T> {
    const test = typeof match === "string" ? (f: ServerFrame) => f.type === match : match;
    const deadline = Date.now() + (options.timeoutMs ?? 5_000);
    const from = options.from ?? 0;
    for (;;) {
      const found = this.frames.slice(from).find(test);
      if (found) return found as T;
      if (this.closeInfo)
        throw new Error(`socket closed (${this.closeInfo.code} ${this.closeInfo.reason}) before the frame`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no matching frame within ${options.timeoutMs ?? 5_000} ms; got ${JSON.stringify(this.frames.slice(-5))}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until `count` frames match, returning them (bounded by `timeoutMs`). */
  async collect(
    match: (frame: ServerFrame) => boolean,
    count: number,
    timeoutMs = 10_000,
  ): Promise<ServerFrame[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = this.frames.filter(match);
      if (got.length >= count) return got;
      const left = deadline - Date.now();
      if (left <= 0 || this.closeInfo) return got;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Closes the socket and waits (bounded) for the close to complete. */
  async close(code = 1000): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close(code);
    const timer = setTimeout(() => this.ws.terminate(), 2_000);
    await this.closed;
    clearTimeout(timer);
  }
}

/** Opens a socket to `wsUrl` without saying hello (for handshake tests). */
export async function openSocket(wsUrl: string, timeoutMs = 5_000): Promise<TestPeer> {
  const ws = new WebSocket(wsUrl, { handshakeTimeout: timeoutMs });
  const peer = new TestPeer(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return peer;
}

/** The hello frame a member would send (SPEC §3), signed at `now`. */
export function helloFrame(
  member: Member,
  options: { now?: number; sessionId?: string; cwd?: string; pid?: number } = {},
) {
  const { timestamp, signature } = signHello(
    member.meshId,
    member.memberId,
    member.pubkey,
    member.secretKey,
    options.now,
  );
  return {
    type: "hello" as const,
    meshId: member.meshId,
    memberId: member.memberId,
    pubkey: member.pubkey,
    sessionId: options.sessionId ?? `session-${member.name}`,
    pid: options.pid ?? process.pid,
    cwd: options.cwd ?? "/tmp",
    timestamp,
    signature,
  };
}

/** Opens a socket and completes a signed hello; rejects if the broker answers with anything but hello_ack. */
export async function connectPeer(
  wsUrl: string,
  member: Member,
  options: { sessionId?: string; cwd?: string; timeoutMs?: number; now?: number } = {},
): Promise<TestPeer & { helloAck: HelloAck }> {
  const peer = await openSocket(wsUrl, options.timeoutMs);
  peer.send(helloFrame(member, options));
  const first = await peer.next((f) => f.type === "hello_ack" || f.type === "error", {
    timeoutMs: options.timeoutMs,
  });
  if (first.type !== "hello_ack") {
    await peer.close();
    throw new Error(`hello rejected: ${JSON.stringify(first)}`);
  }
  return Object.assign(peer, { helloAck: first });
}
