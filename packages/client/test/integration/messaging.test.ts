// BrokerClient against a real broker (startBroker, SQLite in a temp dir): direct, broadcast, channel, mismatch retry, presence.
import { describe, expect, it } from "vitest";
import { BrokerClient } from "../../src/broker-client.js";
import { ClientError } from "../../src/errors.js";
import { resolveTarget } from "../../src/resolve.js";
import { wsSocketFactory, type SocketFactory } from "../../src/transport.js";
import {
  FAST,
  liveBroker,
  addMember,
  clientFor,
  collect,
  meshWith,
  waitFor,
  type LiveMember,
} from "../helpers/live.js";

const live = liveBroker();

function connect(m: LiveMember, factory?: SocketFactory): Promise<BrokerClient> {
  return live.connect(m, factory ? { ...FAST, socketFactory: factory } : FAST);
}

describe("BrokerClient live - direct", () => {
  it("two clients exchange direct messages, decrypted, each exactly once", async () => {
    const [alice, bob] = await meshWith(live.url, ["alice", "bob"]);
    if (!alice || !bob) throw new Error("setup");
    const a = await connect(alice);
    const b = await connect(bob);
    const atA = collect(a);
    const atB = collect(b);

    const target = resolveTarget("BOB", { peers: await a.listPeers(), selfPubkey: alice.pubkey });
    const sent = await a.send(target.targetSpec, "hi bob, it's alice", "now");
    expect(sent.messageId).toMatch(/^[A-Za-z0-9_-]+$/);
    await waitFor(() => atB.length === 1, 5_000, "bob's message");
    expect(atB[0]).toMatchObject({
      messageId: sent.messageId,
      from: "alice",
      fromPubkey: alice.pubkey,
      kind: "direct",
      priority: "now",
      text: "hi bob, it's alice",
      meshSlug: alice.meshSlug,
    });

    await b.send(alice.pubkey, "hello alice 👋");
    await waitFor(() => atA.length === 1, 5_000, "alice's message");
    expect(atA[0]?.text).toBe("hello alice 👋");
    expect(b.drainInbox().map((m) => m.text)).toEqual(["hi bob, it's alice"]);
    // give the broker time to (wrongly) redeliver; nothing more may appear
    await new Promise((r) => setTimeout(r, 200));
    expect(atB).toHaveLength(1);
    expect(atA).toHaveLength(1);
  });

  it("messages to an offline peer are queued and delivered on its connect", async () => {
    const [alice, bob] = await meshWith(live.url, ["alice", "bob"]);
    if (!alice || !bob) throw new Error("setup");
    const a = await connect(alice);
    const first = await a.send(bob.pubkey, "while you were out 1");
    await a.send(bob.pubkey, "while you were out 2");
    expect(first.queued).toBe(true);
    const b = clientFor(live.url, bob);
    live.track(b);
    const atB = collect(b);
    await b.connect({ timeoutMs: 5_000 });
    await waitFor(() => atB.length === 2, 5_000, "queued messages");
    expect(atB.map((m) => m.text)).toEqual(["while you were out 1", "while you were out 2"]);
  });
});

describe("BrokerClient live - fan-out", () => {
  it("broadcast reaches every other member and channel sends reach exactly the channel", async () => {
    const members = await meshWith(live.url, ["alice", "bob", "carol", "dave"]);
    const [alice, bob, carol, dave] = members;
    if (!alice || !bob || !carol || !dave) throw new Error("setup");
    const clients = await Promise.all(members.map((m) => connect(m)));
    const [a, b, c, d] = clients as [BrokerClient, BrokerClient, BrokerClient, BrokerClient];
    const inboxes = clients.map(collect);

    await b.joinChannel("#dev");
    await c.joinChannel("dev");
    await a.joinChannel("#dev");
    await d.joinChannel("ops");

    await a.send("*", "all hands");
    await waitFor(() => inboxes.slice(1).every((i) => i.length === 1), 5_000, "broadcast");
    expect(inboxes[0]).toHaveLength(0);
    for (const inbox of inboxes.slice(1))
      expect(inbox[0]).toMatchObject({ text: "all hands", kind: "broadcast" });

    await a.send("#dev", "dev sync");
    await waitFor(() => inboxes[1]?.length === 2 && inboxes[2]?.length === 2, 5_000, "channel");
    await new Promise((r) => setTimeout(r, 200));
    expect(inboxes[1]?.[1]).toMatchObject({ text: "dev sync", kind: "channel", targetSpec: "#dev" });
    expect(inboxes[2]?.[1]?.text).toBe("dev sync");
    expect(inboxes[3]).toHaveLength(1); // dave is in #ops only
    expect(inboxes[0]).toHaveLength(0); // never to self

    const peers = await d.listPeers();
    expect(peers.find((p) => p.pubkey === bob.pubkey)?.channels).toEqual(["dev"]);
  });

  it("re-seals when a member joins between list_peers and send (recipients_mismatch)", async () => {
    const [alice, bob] = await meshWith(live.url, ["alice", "bob"]);
    if (!alice || !bob) throw new Error("setup");
    let late: LiveMember | undefined;
    let armed = true;
    // Hold alice's first peers answer until a new member has joined, so her sealed set is stale.
    const slowPeers: SocketFactory = (url, handlers) =>
      wsSocketFactory(url, {
        ...handlers,
        onMessage(text) {
          if (armed && text.includes('"type":"peers"')) {
            armed = false;
            void addMember(live.url, alice, "latecomer").then((m) => {
              late = m;
              handlers.onMessage(text);
            });
            return;
          }
          handlers.onMessage(text);
        },
      });
    const a = await connect(alice, slowPeers);
    const b = await connect(bob);
    const atB = collect(b);
    const result = await a.send("*", "welcome everyone");
    expect(late).toBeDefined();
    expect(result.queued).toBe(true); // the latecomer is offline: stored for it
    await waitFor(() => atB.length === 1, 5_000, "bob's copy");
    const latecomer = late as LiveMember;
    const l = clientFor(live.url, latecomer);
    live.track(l);
    const atLate = collect(l);
    await l.connect({ timeoutMs: 5_000 });
    await waitFor(() => atLate.length === 1, 5_000, "latecomer's copy");
    expect(atLate[0]?.text).toBe("welcome everyone");
  });
});

describe("BrokerClient live - presence and handshake", () => {
  it("summary and status set by one peer are visible to another", async () => {
    const [alice, bob] = await meshWith(live.url, ["alice", "bob"]);
    if (!alice || !bob) throw new Error("setup");
    const a = await connect(alice);
    const b = await connect(bob);
    await a.setSummary("refactoring the auth module");
    await a.setStatus("dnd");
    const seen = (await b.listPeers()).find((p) => p.pubkey === alice.pubkey);
    expect(seen).toMatchObject({ summary: "refactoring the auth module", status: "dnd", online: true });
  });

  it("an unknown member is rejected: connect() fails clearly and the client does not retry", async () => {
    const [alice] = await meshWith(live.url, ["alice"]);
    if (!alice) throw new Error("setup");
    let attempts = 0;
    const counting: SocketFactory = (url, handlers) => {
      attempts += 1;
      return wsSocketFactory(url, handlers);
    };
    const stranger = await import("@claudemesh/crypto").then((c) => c.generateKeypair());
    const client = new BrokerClient({
      brokerUrl: live.broker.wsUrl,
      meshId: alice.meshId,
      meshSlug: alice.meshSlug,
      memberId: "not_a_member",
      pubkey: stranger.publicKey,
      secretKey: stranger.secretKey,
      options: { ...FAST, socketFactory: counting },
    });
    live.track(client);
    let caught: unknown;
    try {
      await client.connect({ timeoutMs: 5_000 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ClientError);
    expect((caught as ClientError).code).toBe("unauthorized");
    expect((caught as ClientError).message).toMatch(
      /does not know this identity .*`claudemesh join <invite>`$/,
    );
    expect(client.state).toBe("closed");
    await new Promise((r) => setTimeout(r, 300)); // several backoff periods of FAST
    expect(attempts).toBe(1);
  });

  it("a second session with the same identity replaces the first, which stops with `replaced`", async () => {
    const [alice] = await meshWith(live.url, ["alice"]);
    if (!alice) throw new Error("setup");
    const first = await connect(alice);
    const errors: ClientError[] = [];
    first.on("error", (e) => errors.push(e));
    await connect(alice);
    await waitFor(() => first.state === "closed", 5_000, "first session closed");
    expect(errors.map((e) => e.code)).toEqual(["replaced"]);
  });
});
