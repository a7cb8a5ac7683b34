// Baseline: a raw `ws` relay with no auth, storage or encryption work — the floor the broker is compared to.
import { WebSocketServer, type WebSocket } from "ws";
import { report, serveCpuUsage } from "../lib/child.js";

serveCpuUsage();

const peers = new Map<string, WebSocket>();
const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });

server.on("connection", (socket, request) => {
  const id = new URL(request.url ?? "/", "http://relay").searchParams.get("id") ?? "";
  peers.set(id, socket);
  socket.on("close", () => peers.delete(id));
  socket.on("message", (data) => {
    // Parse and re-serialise like the broker does, so the baseline pays the same JSON cost.
    const frame = JSON.parse(String(data)) as {
      type: string;
      id: string;
      targetSpec: string;
      nonce: string;
      ciphertext: string;
      body?: { nonce: string; ciphertext: string };
      sig?: string;
      keys?: Array<{ to: string; nonce: string; sealedKey: string }>;
    };
    if (frame.type !== "send") return;
    if (frame.keys) {
      // Group send (SPEC §4): the body serialised once, each recipient's push adds its sealed key —
      // the same splice the broker does, so the baseline is no slower than it has to be.
      const shared = `{"type":"push","messageId":${JSON.stringify(frame.id)},"senderPubkey":${JSON.stringify(id)},"targetSpec":${JSON.stringify(frame.targetSpec)},"body":${JSON.stringify(frame.body)},"sig":${JSON.stringify(frame.sig)}`;
      for (const key of frame.keys)
        peers
          .get(key.to)
          ?.send(`${shared},"key":${JSON.stringify({ nonce: key.nonce, sealedKey: key.sealedKey })}}`);
      socket.send(JSON.stringify({ type: "ack", id: frame.id, messageId: frame.id, queued: false }));
      return;
    }
    peers.get(frame.targetSpec)?.send(
      JSON.stringify({
        type: "push",
        messageId: frame.id,
        senderPubkey: id,
        nonce: frame.nonce,
        ciphertext: frame.ciphertext,
      }),
    );
    socket.send(JSON.stringify({ type: "ack", id: frame.id, messageId: frame.id, queued: false }));
  });
});

server.on("listening", () => {
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  report({ type: "ready", wsUrl: `ws://127.0.0.1:${port}/`, httpUrl: `http://127.0.0.1:${port}` });
});

process.on("SIGTERM", () => server.close(() => process.exit(0)));
