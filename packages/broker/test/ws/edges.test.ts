// Edge paths of the session layer: frames held behind a hello (and the error budget past them), hooks for unknown keys, sockets after shutdown.
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

  /** Opens a socket whose hello stays pending 300 ms, then sends the hello and `extra` frames behind it. */
  async function helloThenBurst(br: TestBroker, extra: number): Promise<TestPeer> {
    const { members } = await createMeshWithMembers(br.url, ["alice"]);
    const peer = await openSocket(br.wsUrl);
    peers.push(peer);
    // A slow admission (the hello's store round trip) keeps the hello pending while the frames behind it arrive.
    const store = br.ctx.store;
    const admitHello = store.admitHello.bind(store);
    store.admitHello = async (input) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return admitHello(input);
    };
    peer.ws.send(JSON.stringify(helloFrame(members[0] as Member)));
    for (let i = 0; i < extra; i++) peer.ws.send(JSON.stringify({ type: "list_peers", id: `h${i}` }));
    return peer;
  }

  it("holds MAX_HELD_FRAMES frames behind a pending hello, answers the next ones no_hello within the pre-hello error budget", async () => {
    broker = await startTestBroker({});
    const budget = broker.ctx.options.preHelloErrorReplies;
    const total = MAX_HELD_FRAMES + budget;
    const peer = await helloThenBurst(broker, total);
    const answers = await peer.collect(
      (f) => f.type === "peers" || (f.type === "error" && f.code === "no_hello"),
      total,
    );
    expect(answers).toHaveLength(total);
    expect(answers.filter((f) => f.type === "error")).toHaveLength(budget);
    expect(answers.filter((f) => f.type === "peers")).toHaveLength(MAX_HELD_FRAMES);
    // The held frames were answered after the hello_ack, in order.
    const ack = peer.frames.findIndex((f) => f.type === "hello_ack");
    const firstPeers = peer.frames.findIndex((f) => f.type === "peers");
    expect(ack).toBeGreaterThanOrEqual(0);
    expect(firstPeers).toBeGreaterThan(ack);
    expect(
      peer.frames.filter((f) => f.type === "peers").map((f) => (f.type === "peers" ? f.id : "")),
    ).toEqual(Array.from({ length: MAX_HELD_FRAMES }, (_, i) => `h${i}`));
    expect(peer.ws.readyState).toBe(peer.ws.OPEN);
  });

  it("closes a socket that keeps sending behind a pending hello past its error budget with 1008 rate_limited", async () => {
    broker = await startTestBroker({});
    const budget = broker.ctx.options.preHelloErrorReplies;
    const peer = await helloThenBurst(broker, MAX_HELD_FRAMES + budget + 20);
    const closed = await peer.closed;
    expect(closed.code).toBe(CLOSE_CODES.policyViolation);
    expect(closed.reason).toMatch(/^rate_limited/);
    // Bounded replies: exactly the budget of no_hello, nothing held is served, no hello_ack.
    expect(peer.frames.filter((f) => f.type === "error" && f.code === "no_hello")).toHaveLength(budget);
    expect(peer.frames.filter((f) => f.type !== "error")).toEqual([]);
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
