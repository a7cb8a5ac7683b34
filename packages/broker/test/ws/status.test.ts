// Presence and status over real sockets (SPEC §3): priority gating, source ranking, working TTL, dnd, pending hooks, list_peers, grace.
import { afterEach, describe, expect, it } from "vitest";
import type { Push } from "@claudemesh/protocol";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { createMeshWithMembers, enrollAgent, makeIdentity, type Member } from "../helpers/identity.js";
import { connectPeer, type TestPeer } from "../helpers/ws-client.js";
import { STORE_KINDS } from "../helpers/stores.js";
import { directSend, isPush, listPeers, open, postHook, sleep, until } from "./support.js";

describe.each(STORE_KINDS)("ws status and presence (%s)", (kind) => {
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
    return { b: broker, members: members as Member[] };
  }
  async function connect(b: TestBroker, member: Member, options = {}) {
    const peer = await connectPeer(b.wsUrl, member, options);
    peers.push(peer);
    return peer;
  }
  const texts = (peer: TestPeer, me: Member) => peer.frames.filter(isPush).map((p) => open(p as Push, me));

  it("gates by status: working gets now only, the rest drains in order once idle", async () => {
    const { b: br, members } = await setup({});
    const [alice, bob] = members as [Member, Member];
    const a = await connect(br, alice);
    const b = await connect(br, bob);
    b.send({ type: "set_status", status: "working" });
    await sleep(50);
    a.send(directSend(alice, bob, "n1", "next"));
    a.send(directSend(alice, bob, "l1", "low"));
    a.send(directSend(alice, bob, "now1", "now"));
    const acks = await a.collect((f) => f.type === "ack", 3);
    expect(acks.map((f) => f.type === "ack" && f.queued)).toEqual([true, true, false]);
    await b.next("push");
    await sleep(150);
    expect(texts(b, bob)).toEqual(["now1"]);
    b.send({ type: "set_status", status: "idle" });
    await b.collect(isPush, 3);
    expect(texts(b, bob)).toEqual(["now1", "n1", "l1"]);
  });

  it("keeps dnd against hooks (ignored) and lets only now through until a manual change", async () => {
    const { b: br, members } = await setup({});
    const [alice, bob] = members as [Member, Member];
    const a = await connect(br, alice);
    const b = await connect(br, bob);
    b.send({ type: "set_status", status: "dnd" });
    await sleep(50);
    expect(await postHook(br.url, bob, "idle")).toBe("ignored");
    expect(await postHook(br.url, bob, "working")).toBe("ignored");
    a.send(directSend(alice, bob, "later", "next"));
    a.send(directSend(alice, bob, "urgent", "now"));
    await b.next("push");
    await sleep(150);
    expect(texts(b, bob)).toEqual(["urgent"]);
    expect((await listPeers(a)).find((p) => p.pubkey === bob.pubkey)?.status).toBe("dnd");
    b.send({ type: "set_status", status: "idle" });
    await b.collect(isPush, 2);
    expect(texts(b, bob)).toEqual(["urgent", "later"]);
  });

  it("ranks hook > manual > jsonl: a lower source waits out the fresh window", async () => {
    const { b: br, members } = await setup({ statusFreshMs: 300 });
    const [alice, bob] = members as [Member, Member];
    const a = await connect(br, alice);
    const b = await connect(br, bob);
    const statusOfBob = async () => (await listPeers(a)).find((p) => p.pubkey === bob.pubkey)?.status;
    expect(await postHook(br.url, bob, "working")).toBe("applied");
    b.send({ type: "set_status", status: "idle" }); // manual, hook is fresh → ignored
    b.send({ type: "set_status", status: "idle", source: "jsonl" });
    await sleep(50);
    expect(await statusOfBob()).toBe("working");
    await sleep(350);
    b.send({ type: "set_status", status: "dnd" }); // hook is now stale → manual wins
    await until(async () => (await statusOfBob()) === "dnd", 2_000, "manual dnd");
    b.send({ type: "set_status", status: "idle", source: "jsonl" }); // jsonl below fresh manual, and never clears dnd
    await sleep(50);
    expect(await statusOfBob()).toBe("dnd");
    b.send({ type: "set_status", status: "working" });
    await until(async () => (await statusOfBob()) === "working", 2_000, "manual working");
    b.send({ type: "set_status", status: "idle", source: "jsonl" });
    await sleep(50);
    expect(await statusOfBob()).toBe("working");
    await sleep(350);
    b.send({ type: "set_status", status: "idle", source: "jsonl" });
    await until(async () => (await statusOfBob()) === "idle", 2_000, "jsonl after the fresh window");
  });

  it("flips working to idle after the working TTL and then drains the gated messages", async () => {
    const { b: br, members } = await setup({ workingTtlMs: 400 });
    const [alice, bob] = members as [Member, Member];
    const a = await connect(br, alice);
    const b = await connect(br, bob);
    b.send({ type: "set_status", status: "working" });
    await sleep(30);
    a.send(directSend(alice, bob, "after ttl", "low"));
    await a.next("ack");
    await sleep(150);
    expect(b.frames.filter(isPush)).toHaveLength(0);
    const push = await b.next<Push>("push", { timeoutMs: 2_000 });
    expect(open(push, bob)).toBe("after ttl");
    expect((await listPeers(a)).find((p) => p.pubkey === bob.pubkey)?.status).toBe("idle");
  });

  it("applies a hook that arrived before the session connected, within the pending window only", async () => {
    const { b: br, members } = await setup({ pendingHookMs: 300 }, ["alice", "bob", "carol"]);
    const [alice, bob, carol] = members as [Member, Member, Member];
    expect(await postHook(br.url, bob, "working")).toBe("pending");
    expect(await postHook(br.url, carol, "working")).toBe("pending");
    await connect(br, bob);
    await sleep(400);
    await connect(br, carol); // too late: its stashed hook expired
    const a = await connect(br, alice);
    const list = await listPeers(a);
    expect(list.find((p) => p.pubkey === bob.pubkey)?.status).toBe("working");
    expect(list.find((p) => p.pubkey === carol.pubkey)?.status).toBe("idle");
  });

  it("lists peers with summary, status, channels, online and cwd only for one's own agents; not revoked ones", async () => {
    const { b: br, members } = await setup({}, ["alice", "bob", "carol"]);
    const [alice, bob, carol] = members as [Member, Member, Member];
    const agent = await enrollAgent(br.url, bob, makeIdentity("bob-backend"));
    const a = await connect(br, alice, { cwd: "/home/alice" });
    const b = await connect(br, bob, { cwd: "/home/bob" });
    const ag = await connect(br, agent, { cwd: "/home/bob/backend" });
    await br.ctx.store.revokeMember(carol.memberId, Date.now());
    b.send({ type: "set_summary", summary: "Refactoring the queue." });
    b.send({ type: "join_channel", name: "ops" });
    await sleep(100);
    const seenByAlice = await listPeers(a);
    expect(seenByAlice.map((p) => p.displayName).sort()).toEqual(["alice", "bob", "bob-backend"]);
    const bobRow = seenByAlice.find((p) => p.pubkey === bob.pubkey)!;
    expect(bobRow).toMatchObject({
      memberId: bob.memberId,
      role: "member",
      parent: null,
      status: "idle",
      summary: "Refactoring the queue.",
      online: true,
      channels: ["ops"],
    });
    expect(Date.parse(bobRow.lastSeenAt!)).toBeGreaterThan(Date.now() - 10_000);
    expect(bobRow.cwd).toBeUndefined();
    expect(seenByAlice.find((p) => p.pubkey === agent.pubkey)?.parent).toBe(bob.pubkey);
    expect(seenByAlice.find((p) => p.pubkey === agent.pubkey)?.cwd).toBeUndefined();
    const seenByAgent = await listPeers(ag);
    expect(seenByAgent.find((p) => p.pubkey === bob.pubkey)?.cwd).toBe("/home/bob");
    expect(seenByAgent.find((p) => p.pubkey === alice.pubkey)?.cwd).toBeUndefined();
    expect((await listPeers(b)).find((p) => p.pubkey === agent.pubkey)?.cwd).toBe("/home/bob/backend");
  });

  it("holds a dropped peer through the grace (a reconnect restores it), then it has left", async () => {
    const { b: br, members } = await setup({ presenceGraceMs: 500 });
    const [alice, bob] = members as [Member, Member];
    const a = await connect(br, alice);
    const bobOf = async () => (await listPeers(a)).find((p) => p.pubkey === bob.pubkey)!;
    const b1 = await connect(br, bob);
    b1.send({ type: "set_status", status: "dnd" });
    b1.send({ type: "set_summary", summary: "Deep in a migration." });
    await sleep(50);
    await b1.close();
    await until(async () => !(await bobOf()).online, 2_000, "bob offline");
    expect(await bobOf()).toMatchObject({ online: false, status: "dnd", summary: "Deep in a migration." });
    const b2 = await connect(br, bob);
    expect(await bobOf()).toMatchObject({ online: true, status: "dnd", summary: "Deep in a migration." });
    await b2.close();
    await sleep(700);
    expect(await bobOf()).toMatchObject({ online: false, status: "idle", summary: null });
    await connect(br, bob);
    expect(await bobOf()).toMatchObject({ online: true, status: "idle", summary: null });
  });
});
