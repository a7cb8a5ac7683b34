// Edge paths of the session layer: frames held behind a hello, hooks for unknown keys, sockets after shutdown.
import { afterEach, describe, expect, it } from "vitest";
import { CLOSE_CODES } from "@claudemesh/protocol";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { createMeshWithMembers, makeIdentity, type Member } from "../helpers/identity.js";
import { helloFrame, openSocket, type TestPeer } from "../helpers/ws-client.js";
import { MAX_HELD_FRAMES } from "../../src/ws/session.js";

describe("ws edge paths (sqlite)", () => {
  let broker: TestBroker | undefined;
  let peers: TestPeer[] = [];
  afterEach(async () => {
    await Promise.all(peers.map((p) => p.close()));
    peers = [];
    await broker?.stop();
    broker = undefined;
  });

  it("holds at most MAX_HELD_FRAMES frames behind a pending hello and answers the rest no_hello", async () => {
    broker = await startTestBroker({});
    const { members } = await createMeshWithMembers(broker.url, ["alice"]);
    const peer = await openSocket(broker.wsUrl);
    peers.push(peer);
    // A slow membership lookup keeps the hello pending while the frames behind it arrive.
    const store = broker.ctx.store;
    const getMember = store.getMember.bind(store);
    store.getMember = async (meshId, pubkey) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return getMember(meshId, pubkey);
    };
    const total = MAX_HELD_FRAMES + 20;
    const burst = [
      helloFrame(members[0] as Member),
      ...Array.from({ length: total }, (_, i) => ({ type: "list_peers", id: `h${i}` })),
    ];
    peer.ws.send(JSON.stringify(burst[0]));
    for (const frame of burst.slice(1)) peer.ws.send(JSON.stringify(frame));
    const answers = await peer.collect(
      (f) => f.type === "peers" || (f.type === "error" && f.code === "no_hello"),
      total,
    );
    expect(answers).toHaveLength(total);
    const refused = answers.filter((f) => f.type === "error").length;
    const served = answers.filter((f) => f.type === "peers").length;
    expect(served).toBe(MAX_HELD_FRAMES);
    expect(refused).toBe(20);
    // The held frames were answered after the hello_ack, in order.
    const ack = peer.frames.findIndex((f) => f.type === "hello_ack");
    const firstPeers = peer.frames.findIndex((f) => f.type === "peers");
    expect(ack).toBeGreaterThanOrEqual(0);
    expect(firstPeers).toBeGreaterThan(ack);
    expect(
      peer.frames.filter((f) => f.type === "peers").map((f) => (f.type === "peers" ? f.id : "")),
    ).toEqual(Array.from({ length: MAX_HELD_FRAMES }, (_, i) => `h${i}`));
  });

  it("ignores a hook status for a key that is not a member of the mesh", async () => {
    broker = await startTestBroker({});
    const { members } = await createMeshWithMembers(broker.url, ["alice"]);
    const stranger = makeIdentity("stranger");
    const result = await broker.hub.applyHookStatus({
      mesh_id: (members[0] as Member).meshId,
      pubkey: stranger.pubkey,
      status: "working",
      cwd: "/",
      pid: 1,
      timestamp: Date.now(),
      signature: "0".repeat(128),
    });
    expect(result).toBe("ignored");
  });

  it("turns away a socket handed over after shutdown with 1001", async () => {
    broker = await startTestBroker({});
    const peer = await openSocket(broker.wsUrl);
    peers.push(peer);
    await broker.hub.shutdown();
    expect((await peer.closed).code).toBe(CLOSE_CODES.goingAway);
    expect(broker.hub.connectionCount()).toBe(0);
  });
});
