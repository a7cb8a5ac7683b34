// The single port (SPEC §2–§3): /ws upgrades reach the hub, frames over maxFrameBytes close with 1009, other paths never upgrade.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLOSE_CODES } from "@claudemesh/protocol";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { get } from "../helpers/http.js";
import { createMeshWithMembers } from "../helpers/identity.js";
import { connectPeer, openSocket } from "../helpers/ws-client.js";

describe("broker server", () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker({ maxFrameBytes: 2048, logLevel: "silent" });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it("reports its bound address: url, wsUrl and port (port 0 picks a free one)", () => {
    expect(broker.port).toBeGreaterThan(0);
    expect(broker.url).toBe(`http://127.0.0.1:${broker.port}`);
    expect(broker.wsUrl).toBe(`ws://127.0.0.1:${broker.port}/ws`);
    expect(broker.ctx.options.maxFrameBytes).toBe(2048);
  });

  it("closes a socket that sends a frame over maxFrameBytes with 1009, and stays healthy", async () => {
    const { members } = await createMeshWithMembers(broker.url, ["alice"]);
    const peer = await connectPeer(broker.wsUrl, members[0]!);
    peer.send(JSON.stringify({ type: "set_summary", summary: "x".repeat(4096) }));
    expect((await peer.closed).code).toBe(CLOSE_CODES.messageTooBig);
    // unauthenticated sockets too
    const anon = await openSocket(broker.wsUrl);
    anon.send("y".repeat(3000));
    expect((await anon.closed).code).toBe(CLOSE_CODES.messageTooBig);
    expect((await get(broker.url, "/health")).status).toBe(200);
    // and the same member can connect again at once
    const again = await connectPeer(broker.wsUrl, members[0]!);
    await again.close();
  });

  it("accepts /ws with a query string and refuses upgrades elsewhere", async () => {
    const ok = await openSocket(`${broker.wsUrl}?client=test`);
    await ok.close();
    await expect(openSocket(broker.wsUrl.replace("/ws", "/wss"))).rejects.toThrow(/404/);
    await expect(openSocket(broker.wsUrl.replace("/ws", "/"))).rejects.toThrow(/404/);
    expect(broker.ctx.metrics.value("ws_upgrades_rejected_total", { reason: "not_found" })).toBe(2);
  });

  it("counts live connections on /metrics", async () => {
    const { members } = await createMeshWithMembers(broker.url, ["bob"]);
    const peer = await connectPeer(broker.wsUrl, members[0]!);
    try {
      expect((await get(broker.url, "/metrics")).text).toMatch(/^connections_active 1$/m);
    } finally {
      await peer.close();
    }
  });
});
