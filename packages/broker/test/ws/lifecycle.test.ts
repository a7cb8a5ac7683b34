// Mesh lifecycle on both stores (SPEC §1, §6, §7): idle agents retired after the idle window
// (fake clock), the agents-per-member cap, display-name collisions and Unicode names, held reporting.
import { describe, expect, it } from "vitest";
import type { Peer, ServerFrame } from "@claudemesh/protocol";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { postJson } from "../helpers/http.js";
import {
  createMesh,
  enrollAgent,
  enrollBody,
  joinBody,
  makeIdentity,
  makeInvite,
  type Member,
  type TestMesh,
} from "../helpers/identity.js";
import { STORE_KINDS } from "../helpers/stores.js";
import { trackResources } from "../helpers/resources.js";
import { connectPeer, helloFrame, openSocket, type TestPeer } from "../helpers/ws-client.js";
import { directSend, listPeers, postHook, until } from "./support.js";

const IDLE_WINDOW_MS = 60_000;

describe.each(STORE_KINDS)("mesh lifecycle (%s)", (kind) => {
  const { brokers, peers } = trackResources();

  async function broker(options: Parameters<typeof startTestBroker>[0] = {}): Promise<TestBroker> {
    const started = await startTestBroker({ kind, ...options });
    brokers.push(started);
    return started;
  }

  async function connect(b: TestBroker, member: Member): Promise<TestPeer> {
    const peer = await connectPeer(b.wsUrl, member);
    peers.push(peer);
    return peer;
  }

  async function join(b: TestBroker, mesh: TestMesh, name: string) {
    const who = makeIdentity(name);
    const invite = makeInvite(mesh, mesh.owner);
    const res = await postJson(b.url, "/join", joinBody(invite.link, invite.payload, who));
    return {
      who,
      res,
      json: res.json as { display_name?: string; member_id?: string; error?: { code?: string } },
    };
  }

  it("retires an agent not seen for the idle window (fake clock): revoked, listed nowhere, its queue answered with revoked receipts; a recently seen agent stays", async () => {
    let offset = 0;
    const clock = { now: () => Date.now() + offset };
    const b = await broker({ clock, agentIdleRetireMs: IDLE_WINDOW_MS, sweepIntervalMs: 100 });
    const mesh = await createMesh(b.url, makeIdentity("owner"));
    const idle = await enrollAgent(b.url, mesh.owner, makeIdentity("idle-agent"));
    const recent = await enrollAgent(b.url, mesh.owner, makeIdentity("recent-agent"));
    const owner = await connect(b, mesh.owner);
    owner.send(directSend(mesh.owner, idle, "waiting for you", "next", "q-idle"));
    const ack = await owner.next((f) => f.type === "ack" && f.id === "q-idle");
    // Half the window later the recent agent connects (and leaves again): it was seen then.
    offset = IDLE_WINDOW_MS / 2;
    const socket = await openSocket(b.wsUrl);
    socket.send(helloFrame(recent, { now: clock.now() }));
    await socket.next("hello_ack");
    await socket.close();
    // Past the window for the idle agent (enrolled at the start, never connected), not for the recent one.
    offset = IDLE_WINDOW_MS + 1_000;
    const receipt = await owner.next<Extract<ServerFrame, { type: "receipt" }>>(
      (f) => f.type === "receipt" && f.state === "revoked",
      {
        timeoutMs: 5_000,
      },
    );
    expect(receipt).toMatchObject({
      messageId: ack.type === "ack" ? ack.messageId : "",
      recipientPubkey: idle.pubkey,
    });
    const store = b.ctx.store;
    expect((await store.getMember(mesh.meshId, idle.pubkey))?.revokedAt).not.toBeNull();
    expect((await store.getMember(mesh.meshId, recent.pubkey))?.revokedAt).toBeNull();
    expect((await store.getMember(mesh.meshId, mesh.owner.pubkey))?.revokedAt).toBeNull();
    const listed = (await listPeers(owner)).map((p: Peer) => p.pubkey);
    expect(listed).not.toContain(idle.pubkey);
    expect(listed).toContain(recent.pubkey);
    const again = await openSocket(b.wsUrl);
    peers.push(again);
    again.send(helloFrame(idle, { now: clock.now() }));
    expect(await again.next("error")).toMatchObject({ code: "revoked" });
  });

  it("caps active agents per member (limit_reached) under concurrent enrolments; revoking one frees its place; the cap is per member", async () => {
    const b = await broker({ maxAgentsPerMember: 3 });
    const mesh = await createMesh(b.url, makeIdentity("owner"));
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        postJson(b.url, "/agents", enrollBody(mesh.owner, makeIdentity(`a${i}`))),
      ),
    );
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    expect(ok).toHaveLength(3);
    for (const r of refused)
      expect([r.status, (r.json as { error: { code: string } }).error.code]).toEqual([409, "limit_reached"]);
    // Another member has a cap of its own.
    const bob = await join(b, mesh, "bob");
    const bobMember: Member = { ...bob.who, meshId: mesh.meshId, memberId: bob.json.member_id! };
    await enrollAgent(b.url, bobMember, makeIdentity("bob-agent"));
    // Retiring one of the owner's agents frees a place.
    const { signRevoke } = await import("@claudemesh/crypto");
    const first = (ok[0]!.json as { member_id: string }).member_id;
    const row = (await b.ctx.store.listMembers(mesh.meshId)).find((m) => m.id === first)!;
    const revoked = await postJson(
      b.url,
      "/members/revoke",
      signRevoke(mesh.meshId, row.pubkey, mesh.owner.pubkey, mesh.owner.secretKey),
    );
    expect(revoked.status).toBe(200);
    await enrollAgent(b.url, mesh.owner, makeIdentity("replacement"));
  });

  it("a taken name gets the next free suffix, also for look-alikes; /join, /agents and list_peers agree; Unicode letters pass, controls do not", async () => {
    const b = await broker();
    const mesh = await createMesh(b.url, makeIdentity("laptop"));
    const names: Array<[string, string]> = [
      ["laptop", "laptop-2"], // exact
      ["Laptop", "Laptop-3"], // case
      ["lаptop", "lаptop-4"], // Cyrillic а
      ["1aptop", "1aptop-5"], // digit one for l
      ["ｌａｐｔｏｐ", "ｌａｐｔｏｐ-6"], // fullwidth
      ["José", "José"], // Unicode letters are fine
      ["Jose", "Jose-2"], // the accent-less twin is a look-alike
      ["山田", "山田"],
    ];
    const joined: Array<{ pubkey: string; name: string }> = [];
    for (const [wanted, given] of names) {
      const r = await join(b, mesh, wanted);
      expect([r.res.status, r.json.display_name]).toEqual([200, given]);
      joined.push({ pubkey: r.who.pubkey, name: given });
    }
    const agent = await enrollAgent(b.url, mesh.owner, makeIdentity("laptop"));
    expect(agent.name).toBe("laptop-7");
    const listed = new Map(
      (await listPeers(await connect(b, mesh.owner))).map((p) => [p.pubkey, p.displayName]),
    );
    for (const j of joined) expect(listed.get(j.pubkey)).toBe(j.name);
    expect(listed.get(agent.pubkey)).toBe("laptop-7");
    for (const bad of ["lap\u0007top", "lap\u202etop", "bell\u0000"]) {
      const r = await join(b, mesh, bad);
      expect([r.res.status, r.json.error?.code]).toEqual([400, "malformed"]);
    }
  });

  it("the own list_peers entry reports held {count, status, source} while working or dnd, none once idle drains", async () => {
    const b = await broker();
    const mesh = await createMesh(b.url, makeIdentity("owner"));
    const bobJoin = await join(b, mesh, "bob");
    const bob: Member = { ...bobJoin.who, meshId: mesh.meshId, memberId: bobJoin.json.member_id! };
    const owner = await connect(b, mesh.owner);
    const bobPeer = await connect(b, bob);
    const self = async () => (await listPeers(bobPeer)).find((p) => p.pubkey === bob.pubkey)!;
    const held = async () => (await self()).held;
    bobPeer.send({ type: "set_status", status: "working" });
    await until(async () => (await held())?.status === "working", 3_000, "working");
    for (const [id, priority] of [
      ["h1", "next"],
      ["h2", "low"],
      ["h3", "now"],
    ] as const) {
      owner.send(directSend(mesh.owner, bob, id, priority, id));
      await owner.next((f) => f.type === "ack" && f.id === id);
    }
    expect(await held()).toEqual({ count: 2, status: "working", source: "manual" });
    // Other entries carry no held field (it is the viewer's own).
    expect((await listPeers(bobPeer)).find((p) => p.pubkey === mesh.owner.pubkey)?.held).toBeUndefined();
    bobPeer.send({ type: "set_status", status: "dnd" });
    await until(async () => (await held())?.status === "dnd", 3_000, "dnd");
    expect(await held()).toEqual({ count: 2, status: "dnd", source: "manual" });
    bobPeer.send({ type: "set_status", status: "idle" });
    // Once idle the held messages are pushed; the client acknowledges them as a real one does.
    const pushes = await bobPeer.collect((f) => f.type === "push", 3);
    bobPeer.send({
      type: "client_ack",
      messageIds: pushes.map((p) => (p.type === "push" ? p.messageId : "")),
    });
    // The acknowledgements are recorded once the sender holds a "delivered" receipt for each (on
    // PostgreSQL acks are written in batches, so an idle viewer's count of 0 alone proves nothing).
    const delivered = await owner.collect((f) => f.type === "receipt" && f.state === "delivered", 3);
    expect(delivered.map((r) => (r.type === "receipt" ? r.messageId : "")).sort()).toEqual(
      pushes.map((p) => (p.type === "push" ? p.messageId : "")).sort(),
    );
    expect(await held()).toEqual({ count: 0, status: "idle", source: "manual" });
    await postHook(b.url, bob, "working");
    expect(await held()).toEqual({ count: 0, status: "working", source: "hook" });
  });
});
