// Liveness, limits and robustness (SPEC §3 Liveness): dead peers, rate limits, bad frames, revocation, sweep, shutdown.
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { CLOSE_CODES, type ErrorFrame } from "@claudemesh/protocol";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { createMeshWithMembers, type Member } from "../helpers/identity.js";
import { connectPeer, helloFrame, openSocket, TestPeer } from "../helpers/ws-client.js";
import { STORE_KINDS } from "../helpers/stores.js";
import { directSend, isPush, listPeers, metric, sleep, until } from "./support.js";

describe.each(STORE_KINDS)("ws liveness and limits (%s)", (kind) => {
  let broker: TestBroker | undefined;
  let peers: TestPeer[] = [];
  afterEach(async () => {
    await Promise.all(peers.map((p) => p.close()));
    peers = [];
    await broker?.stop();
    broker = undefined;
  });
  async function setup(options: Parameters<typeof startTestBroker>[0], names = ["alice", "bob"]) {
    broker = await startTestBroker({ kind, ...options });
    const { members } = await createMeshWithMembers(broker.url, names);
    return { br: broker, members: members as Member[] };
  }
  async function connect(br: TestBroker, member: Member) {
    const peer = await connectPeer(br.wsUrl, member);
    peers.push(peer);
    return peer;
  }

  it("drops a socket that stops answering pings with 4004 and keeps a responsive one", async () => {
    const { br, members } = await setup({ pingIntervalMs: 50, deadAfterMs: 250 });
    const [alice, bob] = members as [Member, Member];
    const silent = new TestPeer(new WebSocket(br.wsUrl, { autoPong: false }));
    peers.push(silent);
    await new Promise((resolve) => silent.ws.once("open", resolve));
    silent.send(helloFrame(bob));
    await silent.next("hello_ack");
    const alive = await connect(br, alice);
    const closed = await silent.closed;
    expect(closed.code).toBe(CLOSE_CODES.deadPeer);
    expect(metric(br, "dead_peers_total")).toBeGreaterThanOrEqual(1);
    await sleep(300);
    expect(alive.ws.readyState).toBe(WebSocket.OPEN);
    expect((await listPeers(alive)).find((p) => p.pubkey === bob.pubkey)?.online).toBe(false);
  });

  it("rate-limits frames per connection with the frame id and stays usable", async () => {
    const { br, members } = await setup({ connFramesPerSec: 5, connFrameBurst: 5 });
    const a = await connect(br, members[0]!);
    for (let i = 0; i < 12; i++) a.send({ type: "list_peers", id: `q${i}` });
    const answers = await a.collect((f) => f.type === "peers" || f.type === "error", 12);
    const limited = answers.filter((f): f is ErrorFrame => f.type === "error");
    expect(limited.length).toBeGreaterThanOrEqual(6);
    expect(limited.every((f) => f.code === "rate_limited" && f.id?.startsWith("q"))).toBe(true);
    await sleep(500);
    expect(await listPeers(a)).toHaveLength(2);
  });

  it("rate-limits sends per member across its connections, answering rate_limited with the frame id", async () => {
    const { br, members } = await setup({ memberSendsPerSec: 1, memberSendBurst: 3 });
    const [alice, bob] = members as [Member, Member];
    const a = await connect(br, alice);
    for (let i = 0; i < 6; i++) a.send(directSend(alice, bob, `m${i}`, "now", `send-${i}`));
    const replies = await a.collect((f) => f.type === "ack" || f.type === "error", 6);
    expect(replies.filter((f) => f.type === "ack")).toHaveLength(3);
    const limited = replies.filter((f): f is ErrorFrame => f.type === "error");
    expect(limited.map((f) => [f.code, f.id])).toEqual([
      ["rate_limited", "send-3"],
      ["rate_limited", "send-4"],
      ["rate_limited", "send-5"],
    ]);
  });

  it("answers malformed frames after hello and keeps the connection usable", async () => {
    const { br, members } = await setup({});
    const a = await connect(br, members[0]!);
    a.send("[1,2");
    a.send({ type: "nope", id: "n1" });
    a.send({ type: "set_status", status: "sleeping" });
    a.send({
      type: "send",
      id: "bad-target",
      targetSpec: "bob",
      priority: "now",
      nonce: "x",
      ciphertext: "y",
    });
    a.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    const errors = await a.collect((f) => f.type === "error", 5);
    expect(errors.map((f) => (f as ErrorFrame).code)).toEqual(Array(5).fill("malformed"));
    expect(errors.find((f) => (f as ErrorFrame).id === "bad-target")).toBeDefined();
    expect(await listPeers(a)).toHaveLength(2);
  });

  it("closes an oversized frame with 1009 without disturbing other connections", async () => {
    const { br, members } = await setup({ maxFrameBytes: 1024 });
    const a = await connect(br, members[0]!);
    const b = await connect(br, members[1]!);
    a.send({ type: "set_summary", summary: "x".repeat(2_000) });
    expect((await a.closed).code).toBe(1009);
    expect(await listPeers(b)).toHaveLength(2);
  });

  it("answers internal (with the id) when a handler fails, and keeps going", async () => {
    const { br, members } = await setup({});
    const a = await connect(br, members[0]!);
    const store = br.ctx.store;
    const original = store.listPeersPage.bind(store);
    store.listPeersPage = () => Promise.reject(new Error("boom"));
    try {
      a.send({ type: "list_peers", id: "fails" });
      expect(await a.next("error")).toMatchObject({ code: "internal", id: "fails" });
    } finally {
      store.listPeersPage = original;
    }
    expect(await listPeers(a)).toHaveLength(2);
  });

  it("runs frames pipelined right behind the hello once it succeeds", async () => {
    const { br, members } = await setup({});
    const [alice, bob] = members as [Member, Member];
    const a = await openSocket(br.wsUrl);
    peers.push(a);
    a.send(helloFrame(alice));
    a.send(directSend(alice, bob, "pipelined", "now", "p1"));
    await a.next("hello_ack");
    expect(await a.next("ack")).toMatchObject({ id: "p1" });
    expect(a.frames[0]!.type).toBe("hello_ack");
  });

  it("disconnects a member revoked while connected with 4003", async () => {
    const { br, members } = await setup({ pingIntervalMs: 50 });
    const b = await connect(br, members[1]!);
    await br.ctx.store.revokeMember(members[1]!.memberId, Date.now());
    expect((await b.closed).code).toBe(CLOSE_CODES.revoked);
  });

  it("sweeps undelivered messages past retention", async () => {
    const { br, members } = await setup({ retentionMs: 1_000, sweepIntervalMs: 100 });
    const [alice, bob] = members as [Member, Member];
    const a = await connect(br, alice);
    a.send(directSend(alice, bob, "expires"));
    await a.next("ack");
    expect(await br.ctx.store.countPending(bob.memberId)).toBe(1);
    await until(async () => (await br.ctx.store.countPending(bob.memberId)) === 0, 5_000, "swept");
    const b = await connect(br, bob);
    await sleep(100);
    expect(b.frames.filter(isPush)).toHaveLength(0);
  });

  it("shuts down gracefully: sockets close 1001, presences go offline, acked sends survive", async () => {
    const { br, members } = await setup({});
    const [alice, bob] = members as [Member, Member];
    const a = await connect(br, alice);
    for (let i = 0; i < 20; i++) a.send(directSend(alice, bob, `s${i}`));
    // Close while sends are still arriving, but only once at least one is acked (else nothing is tested).
    await a.next("ack");
    const closing = br.close();
    expect((await a.closed).code).toBe(CLOSE_CODES.goingAway);
    await closing;
    const acked = a.frames.filter((f) => f.type === "ack").length;
    expect(acked).toBeGreaterThan(0);
    // Restart on the same store: every acked message is still queued for bob, and nobody is online.
    const again = await startTestBroker({ kind, store: br.store });
    try {
      expect(await again.ctx.store.countPending(bob.memberId)).toBeGreaterThanOrEqual(acked);
      const rows = await again.ctx.store.listPresence(alice.meshId);
      expect(rows.every((r) => !r.online)).toBe(true);
    } finally {
      await again.stop();
    }
  });
});
