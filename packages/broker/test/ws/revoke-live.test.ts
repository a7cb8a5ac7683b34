// Revocation of a member that is mid-send-stream (SPEC §2 POST /members/revoke), on both stores and
// across two brokers: no send written after the revocation returned is acked or stored, its agents
// are cut off too, its sockets close 4003 (within 1 s on every broker), and its key is refused after.
import { describe, expect, it } from "vitest";
import type { Push } from "@claudemesh/protocol";
import { signRevoke } from "@claudemesh/crypto";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { trackResources } from "../helpers/resources.js";
import { postJson } from "../helpers/http.js";
import {
  createMesh,
  enrollAgent,
  joinBody,
  joinMesh,
  makeIdentity,
  makeInvite,
  type Member,
  type TestMesh,
} from "../helpers/identity.js";
import { PG_URL, STORE_KINDS, storeTarget, type StoreKind } from "../helpers/stores.js";
import { connectPeer, helloFrame, openSocket, type CloseInfo, type TestPeer } from "../helpers/ws-client.js";
import { revokeRowByHand } from "../store/fixtures.js";
import { SendStream } from "./send-stream.js";
import { isPush, open } from "./support.js";

/** Long enough that the periodic revocation check never runs inside a test. */
const NO_TICK = { pingIntervalMs: 600_000, deadAfterMs: 1_200_000 };

interface World {
  one: TestBroker;
  two: TestBroker;
  mesh: TestMesh;
  bob: Member;
  agent: Member;
}

/** Resolves with the close, or rejects when it has not happened within `ms`. */
function closedWithin(peer: TestPeer, ms: number): Promise<CloseInfo> {
  return Promise.race([
    peer.closed,
    new Promise<CloseInfo>((_, reject) =>
      setTimeout(() => reject(new Error(`socket not closed within ${ms} ms`)), ms).unref(),
    ),
  ]);
}

describe.each(STORE_KINDS)("revocation of a live sender (%s)", (kind) => {
  const { brokers, peers, stores } = trackResources();

  /** Two brokers on one store (`shared`), or one broker twice. */
  async function world(storeKind: StoreKind, shared: boolean): Promise<World> {
    const target = await storeTarget(storeKind);
    stores.push(target);
    const one = await startTestBroker({ kind: storeKind, store: target, ...NO_TICK });
    brokers.push(one);
    let two = one;
    if (shared) {
      two = await startTestBroker({ kind: storeKind, store: target, ...NO_TICK });
      brokers.push(two);
    }
    const mesh = await createMesh(one.url, makeIdentity("owner"));
    const bob = await joinMesh(one.url, makeInvite(mesh, mesh.owner), makeIdentity("bob"));
    const agent = await enrollAgent(one.url, bob, makeIdentity("bob-agent"));
    return { one, two, mesh, bob, agent };
  }

  async function connect(broker: TestBroker, member: Member): Promise<TestPeer> {
    const peer = await connectPeer(broker.wsUrl, member);
    peers.push(peer);
    return peer;
  }

  /** The owner drains what the store holds for it: the send ids of every stored message. */
  async function storedSendIds(w: World): Promise<string[]> {
    const ownerRow = await w.one.ctx.store.getMember(w.mesh.meshId, w.mesh.owner.pubkey);
    const pending = await w.one.ctx.store.countPending(ownerRow!.id);
    const owner = await connect(w.one, w.mesh.owner);
    const pushes = (await owner.collect(isPush, pending)) as Push[];
    expect(pushes).toHaveLength(pending);
    return pushes.map((push) => open(push, w.mesh.owner) ?? "undecryptable");
  }

  async function expectHelloRefused(broker: TestBroker, member: Member): Promise<void> {
    const peer = await openSocket(broker.wsUrl);
    peers.push(peer);
    peer.send(helloFrame(member));
    expect(await peer.next("error")).toMatchObject({ code: "revoked" });
    expect((await peer.closed).code).toBe(1008);
  }

  async function streams(w: World) {
    // The member streams on broker two, its agent on broker one (one connection per identity: a second
    // one, on either broker, would replace the first — newest wins across the store).
    const bobStreaming = await connect(w.two, w.bob);
    const agentStreaming = await connect(w.one, w.agent);
    const senders = [
      new SendStream(bobStreaming, w.bob, w.mesh.owner, "bob"),
      new SendStream(agentStreaming, w.agent, w.mesh.owner, "agent"),
    ];
    for (const s of senders) s.start();
    for (const s of senders) await s.ackedAtLeast(40);
    return { senders, streaming: [bobStreaming, agentStreaming] };
  }

  const layouts = [
    { label: "one broker", shared: false },
    // Two brokers on one SQLite file have no cross-broker notices; the store check still holds there.
    { label: "two brokers", shared: true },
  ];

  for (const layout of layouts) {
    it(`${layout.label}: a row revoked with no notice refuses the next send (revoked, 4003), the agent's too; nothing after it is stored`, async () => {
      const w = await world(kind, layout.shared);
      const { senders, streaming } = await streams(w);
      const bobRow = await w.one.ctx.store.getMember(w.mesh.meshId, w.bob.pubkey);
      // Only the member's own row: its agent is refused through its parent (SPEC §1).
      await revokeRowByHand(w.one.ctx.store, bobRow!.id, Date.now());
      for (const s of senders) s.cutOff();
      for (const peer of streaming) expect((await closedWithin(peer, 5_000)).code).toBe(4003);
      for (const s of senders) {
        expect(s.ackedAfterCutOff()).toEqual([]);
        expect(s.refused.size).toBeGreaterThan(0);
      }
      const stored = await storedSendIds(w);
      const after = new Set(senders.flatMap((s) => [...s.afterCutOff]));
      expect(stored.filter((id) => after.has(id))).toEqual([]);
      expect(stored.length).toBeGreaterThanOrEqual(80);
    });
  }

  it.skipIf(kind !== "postgres" || !PG_URL)(
    "two brokers: POST /members/revoke mid-stream closes every socket of the member and its agents 4003 within 1 s; none of the later sends is acked or stored; hellos are refused",
    async () => {
      const w = await world(kind, true);
      const { senders, streaming } = await streams(w);
      const body = signRevoke(w.mesh.meshId, w.bob.pubkey, w.mesh.owner.pubkey, w.mesh.owner.secretKey);
      const res = await postJson(w.one.url, "/members/revoke", body);
      for (const s of senders) s.cutOff();
      const closes = streaming.map((peer) => closedWithin(peer, 1_000));
      expect(res.status).toBe(200);
      expect((res.json as { revoked: string[] }).revoked.sort()).toEqual(
        [w.bob.pubkey, w.agent.pubkey].sort(),
      );
      for (const close of await Promise.all(closes)) expect(close.code).toBe(4003);
      for (const s of senders) expect(s.ackedAfterCutOff()).toEqual([]);
      const stored = await storedSendIds(w);
      const after = new Set(senders.flatMap((s) => [...s.afterCutOff]));
      expect(stored.filter((id) => after.has(id))).toEqual([]);
      for (const broker of [w.one, w.two]) {
        await expectHelloRefused(broker, w.bob);
        await expectHelloRefused(broker, w.agent);
      }
    },
  );

  it("leave (self-revoke) on one broker: a hello and a rejoin with that key are refused on both (revoked)", async () => {
    const w = await world(kind, true);
    const res = await postJson(
      w.one.url,
      "/members/revoke",
      signRevoke(w.mesh.meshId, w.bob.pubkey, w.bob.pubkey, w.bob.secretKey),
    );
    expect(res.status).toBe(200);
    for (const broker of [w.one, w.two]) {
      await expectHelloRefused(broker, w.bob);
      await expectHelloRefused(broker, w.agent);
      const invite = makeInvite(w.mesh, w.mesh.owner);
      const rejoin = await postJson(broker.url, "/join", joinBody(invite.link, invite.payload, w.bob));
      expect([rejoin.status, (rejoin.json as { error?: { code?: string } }).error?.code]).toEqual([
        403,
        "revoked",
      ]);
    }
  });
});
