// A minimal wire-level peer used by the benchmarks: the same frames against the broker and the raw relay.
import WebSocket from "ws";
import { signHello } from "@claudemesh/crypto";
import type { BenchIdentity } from "./mesh.js";

export type Mode = "broker" | "relay";

export interface PushFrame {
  type: "push";
  messageId: string;
  senderPubkey: string;
  nonce: string;
  ciphertext: string;
}

export interface AckFrame {
  type: "ack";
  id: string;
  messageId: string;
}

const MAX_ACK_IDS = 1_000;

/** The `send` frame of SPEC §3 for a direct message. */
export function directFrame(id: string, to: string, nonce: string, ciphertext: string): string {
  return JSON.stringify({ type: "send", id, targetSpec: to, priority: "now", nonce, ciphertext });
}

export interface WirePeer {
  socket: WebSocket;
  sendDirect(id: string, to: string, nonce: string, ciphertext: string): void;
  /** Sends a frame serialised beforehand (keeps the sender's own JSON work out of throughput runs). */
  sendRaw(frame: string): void;
  onPush(handler: (push: PushFrame) => void): void;
  onAck(handler: (ack: AckFrame) => void): void;
  close(): void;
}

/**
 * Connects and, against the broker, performs the signed hello (SPEC §3) and waits for hello_ack.
 * Pushes are acknowledged with one client_ack per event-loop turn, as the real client does.
 */
export async function connectPeer(mode: Mode, wsUrl: string, identity: BenchIdentity): Promise<WirePeer> {
  const url = mode === "relay" ? `${wsUrl}?id=${identity.pubkey}` : wsUrl;
  const socket = new WebSocket(url, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  const pushHandlers: Array<(push: PushFrame) => void> = [];
  const ackHandlers: Array<(ack: AckFrame) => void> = [];
  let pendingAcks: string[] = [];
  const flushAcks = (): void => {
    // client_ack carries at most 1,000 ids (protocol schema), so a large burst is acked in chunks.
    for (let i = 0; i < pendingAcks.length; i += MAX_ACK_IDS) {
      socket.send(JSON.stringify({ type: "client_ack", messageIds: pendingAcks.slice(i, i + MAX_ACK_IDS) }));
    }
    pendingAcks = [];
  };
  let helloDone: (() => void) | null = null;
  let helloFailed: ((error: Error) => void) | null = null;
  socket.on("message", (data) => {
    const frame = JSON.parse(String(data)) as { type: string };
    if (frame.type === "push") {
      const push = frame as PushFrame;
      for (const handler of pushHandlers) handler(push);
      if (mode === "broker") {
        if (pendingAcks.length === 0) setImmediate(flushAcks);
        pendingAcks.push(push.messageId);
      }
    } else if (frame.type === "ack") {
      for (const handler of ackHandlers) handler(frame as AckFrame);
    } else if (frame.type === "hello_ack") {
      helloDone?.();
    } else if (frame.type === "error") {
      const error = new Error(`peer ${identity.name}: ${JSON.stringify(frame)}`);
      if (helloFailed) helloFailed(error);
      else console.error(error.message);
    }
  });
  if (mode === "broker") {
    const signed = signHello(identity.meshId, identity.memberId, identity.pubkey, identity.secretKey);
    const ready = new Promise<void>((resolve, reject) => {
      helloDone = resolve;
      helloFailed = reject;
    });
    socket.send(
      JSON.stringify({
        type: "hello",
        meshId: identity.meshId,
        memberId: identity.memberId,
        pubkey: identity.pubkey,
        sessionId: identity.name,
        pid: process.pid,
        cwd: process.cwd(),
        ...signed,
      }),
    );
    await ready;
    helloFailed = null;
  }
  return {
    socket,
    sendDirect(id, to, nonce, ciphertext) {
      socket.send(directFrame(id, to, nonce, ciphertext));
    },
    sendRaw(frame) {
      socket.send(frame);
    },
    onPush(handler) {
      pushHandlers.push(handler);
    },
    onAck(handler) {
      ackHandlers.push(handler);
    },
    close() {
      socket.close();
    },
  };
}
