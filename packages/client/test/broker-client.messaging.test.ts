// BrokerClient messaging under fake timers: outbound queue, acks, fan-out sealing, inbound dedup/buffer/acks, requests.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { decryptDirect } from "@claudemesh/crypto";
import type { BrokerClient } from "../src/broker-client.js";
import { ClientError } from "../src/errors.js";
import type { DroppedNotice, InboundMessage, UndecryptableMessage } from "../src/types.js";
import { FakeNetwork, type FakeSocket } from "./helpers/fake-socket.js";
import {
  MESH_ID,
  MESH_SLUG,
  connected,
  handshake,
  identity,
  makePush,
  newClient,
  openSentGroup,
  peer,
  tick,
} from "./helpers/fixtures.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

async function rejection(promise: Promise<unknown>): Promise<ClientError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ClientError);
    return err as ClientError;
  }
  throw new Error("expected a rejection");
}

function ack(
  socket: FakeSocket,
  frame: Record<string, unknown> | undefined,
  messageId: string,
  queued = false,
): void {
  if (!frame) throw new Error("no frame to ack");
  socket.receive({ type: "ack", id: frame.id, messageId, queued });
}

describe("BrokerClient sends - direct", () => {
  it("encrypts for the recipient and resolves on the broker's ack", async () => {
    const self = identity();
    const bob = identity();
    const { client, socket } = await connected(self);
    const sent = client.send(bob.pubkey, "hello bob", "now");
    await tick();
    const frame = socket.framesOfType("send")[0];
    expect(frame).toMatchObject({ type: "send", targetSpec: bob.pubkey, priority: "now" });
    expect(JSON.stringify(frame)).not.toContain("hello bob");
    const text = decryptDirect(
      { nonce: frame?.nonce as string, ciphertext: frame?.ciphertext as string },
      self.pubkey,
      bob.secretKey,
    );
    expect(text).toBe("hello bob");
    ack(socket, frame, "msg_a", true);
    await expect(sent).resolves.toEqual({ messageId: "msg_a", queued: true });
    await client.close();
  });

  it("times out a send the broker never acks", async () => {
    const { client } = await connected(identity(), { sendAckTimeoutMs: 10_000 });
    const assertion = rejection(client.send(identity().pubkey, "x"));
    await tick(10_000);
    const err = await assertion;
    expect(err.code).toBe("timeout");
    expect(err.message).toMatch(/did not acknowledge the message within 10000 ms/);
    await client.close();
  });

  it("rejects a send refused by the broker with its wire code", async () => {
    const { client, socket } = await connected(identity());
    const assertion = rejection(client.send(identity().pubkey, "x"));
    await tick();
    const frame = socket.framesOfType("send")[0];
    socket.receive({ type: "error", id: frame?.id, code: "unknown_target", message: "no such member" });
    const err = await assertion;
    expect(err.code).toBe("unknown_target");
    expect(err.message).toMatch(/no such member/);
    await client.close();
  });

  it.each([
    ["a bad priority", (c: BrokerClient, p: string) => c.send(p, "x", "urgent" as never)],
    ["an empty message", (c: BrokerClient, p: string) => c.send(p, "")],
    ["a display name instead of a pubkey", (c: BrokerClient) => c.send("bob", "x")],
    ["an uppercase pubkey", (c: BrokerClient, p: string) => c.send(p.toUpperCase(), "x")],
    ["a lone surrogate", (c: BrokerClient, p: string) => c.send(p, "bad \ud800")],
  ])("rejects %s with invalid_argument before sending", async (_label, call) => {
    const { client, socket } = await connected(identity());
    const err = await rejection(call(client, identity().pubkey));
    expect(err.code).toBe("invalid_argument");
    await tick();
    expect(socket.framesOfType("send")).toHaveLength(0);
    await client.close();
  });

  it("refuses to send a direct message to itself", async () => {
    const self = identity();
    const { client } = await connected(self);
    const err = await rejection(client.send(self.pubkey, "me"));
    expect(err.code).toBe("invalid_argument");
    expect(err.message).toMatch(/itself/);
    await client.close();
  });

  it("rejects a message whose frame would exceed maxFrameBytes with too_large", async () => {
    const { client, socket } = await connected(identity(), { maxFrameBytes: 2_000 });
    const ok = client.send(identity().pubkey, "a".repeat(1_000));
    const err = await rejection(client.send(identity().pubkey, "a".repeat(1_600)));
    expect(err.code).toBe("too_large");
    expect(err.message).toMatch(/frame limit is 2000/);
    await tick();
    expect(socket.framesOfType("send")).toHaveLength(1);
    ack(socket, socket.framesOfType("send")[0], "m1");
    await ok;
    await client.close();
  });
});

describe("BrokerClient sends - outbound queue and reconnect", () => {
  it("queues while disconnected, refuses past outboundQueueMax, and sends in order after reconnect", async () => {
    const net = new FakeNetwork();
    net.onNewSocket = (s) => s.fail();
    const client = newClient(identity(), net, { outboundQueueMax: 3 });
    void client.connect().catch(() => undefined);
    await tick();
    const bob = identity();
    const sends = [client.send(bob.pubkey, "1"), client.send(bob.pubkey, "2"), client.send(bob.pubkey, "3")];
    const full = await rejection(client.send(bob.pubkey, "4"));
    expect(full.code).toBe("queue_full");
    expect(full.message).toMatch(
      /outbound queue is full \(3 messages waiting for broker at http:\/\/127\.0\.0\.1:7900;/,
    );
    expect(client.stats.queued).toBe(3);
    net.onNewSocket = (s) => handshake(s);
    await tick(1_000);
    const socket = net.last;
    const frames = socket.framesOfType("send");
    expect(frames).toHaveLength(3);
    const texts = frames.map((f) =>
      decryptDirect(
        { nonce: f.nonce as string, ciphertext: f.ciphertext as string },
        client.pubkey,
        bob.secretKey,
      ),
    );
    expect(texts).toEqual(["1", "2", "3"]);
    frames.forEach((f, i) => ack(socket, f, `m${i}`));
    await expect(Promise.all(sends)).resolves.toHaveLength(3);
    expect(client.stats.queued).toBe(0);
    await client.close();
  });

  it("re-sends only unacked sends after a drop, and never re-sends an acked one", async () => {
    const bob = identity();
    const { client, net, socket } = await connected(identity());
    const first = client.send(bob.pubkey, "acked");
    const second = client.send(bob.pubkey, "lost ack");
    await tick();
    const [f1, f2] = socket.framesOfType("send");
    ack(socket, f1, "m1");
    await expect(first).resolves.toEqual({ messageId: "m1", queued: false });
    socket.serverClose(1006);
    const third = client.send(bob.pubkey, "while down");
    await tick(1_000);
    handshake(net.last);
    await tick();
    const resent = net.last.framesOfType("send");
    expect(resent.map((f) => f.nonce)).toEqual([f2?.nonce, expect.any(String)]);
    // the resend keeps its send id (the broker's idempotency key); the new send has its own
    expect(resent[0]?.id).toBe(f2?.id);
    expect(new Set([f1?.id, f2?.id, resent[1]?.id]).size).toBe(3);
    resent.forEach((f, i) => ack(net.last, f, `r${i}`));
    await expect(second).resolves.toEqual({ messageId: "r0", queued: false });
    await expect(third).resolves.toEqual({ messageId: "r1", queued: false });
    // a second ack for an already settled id changes nothing
    ack(net.last, f2, "late");
    await client.close();
  });

  it("does not time out a send while it waits in the queue", async () => {
    const net = new FakeNetwork();
    net.onNewSocket = (s) => s.fail();
    const client = newClient(identity(), net, { sendAckTimeoutMs: 1_000 });
    void client.connect().catch(() => undefined);
    let settled = false;
    const sent = client.send(identity().pubkey, "patient").finally(() => {
      settled = true;
    });
    await tick(1_000 + 2_000 + 4_000);
    expect(settled).toBe(false);
    net.onNewSocket = (s) => handshake(s);
    await tick(8_000);
    ack(net.last, net.last.framesOfType("send")[0], "m1");
    await expect(sent).resolves.toMatchObject({ messageId: "m1" });
    await client.close();
  });

  it("an aborted queued send is rejected and never written", async () => {
    const net = new FakeNetwork();
    net.onNewSocket = (s) => s.fail();
    const client = newClient(identity(), net);
    void client.connect().catch(() => undefined);
    const controller = new AbortController();
    const assertion = rejection(
      client.send(identity().pubkey, "never", "next", { signal: controller.signal }),
    );
    controller.abort();
    const err = await assertion;
    expect(err.code).toBe("aborted");
    net.onNewSocket = (s) => handshake(s);
    await tick(1_000);
    expect(client.state).toBe("open");
    expect(net.last.framesOfType("send")).toHaveLength(0);
    await client.close();
  });

  it("close() rejects queued sends with closed", async () => {
    const net = new FakeNetwork();
    net.onNewSocket = (s) => s.fail();
    const client = newClient(identity(), net);
    void client.connect().catch(() => undefined);
    const assertion = rejection(client.send(identity().pubkey, "x"));
    await client.close();
    expect((await assertion).code).toBe("closed");
  });
});

describe("BrokerClient sends - fan-out", () => {
  function peersReply(socket: FakeSocket, peers: ReturnType<typeof peer>[]): void {
    const request = socket.framesOfType("list_peers").at(-1);
    socket.receive({ type: "peers", id: request?.id, peers });
  }

  it("broadcast seals one envelope per other peer, never for itself", async () => {
    const self = identity();
    const bob = identity();
    const carol = identity();
    const { client, socket } = await connected(self);
    const sent = client.send("*", "all hands");
    await tick();
    peersReply(socket, [peer(self, "alice"), peer(bob, "bob"), peer(carol, "carol")]);
    await tick();
    const frame = socket.framesOfType("send")[0];
    const keys = frame?.keys as Array<{ to: string }>;
    expect(keys.map((e) => e.to).sort()).toEqual([bob.pubkey, carol.pubkey].sort());
    expect(frame).not.toHaveProperty("ciphertext");
    expect(openSentGroup(frame, self, bob)).toBe("all hands");
    expect(openSentGroup(frame, self, carol)).toBe("all hands");
    ack(socket, frame, "mb");
    await expect(sent).resolves.toEqual({ messageId: "mb", queued: false });
    await client.close();
  });

  it("channel sends address only the channel's other members", async () => {
    const self = identity();
    const bob = identity();
    const carol = identity();
    const { client, socket } = await connected(self);
    const sent = client.send("#dev", "standup").catch((e: unknown) => e);
    await tick();
    peersReply(socket, [
      peer(self, "alice", ["dev"]),
      peer(bob, "bob", ["dev", "ops"]),
      peer(carol, "carol", ["ops"]),
    ]);
    await tick();
    const keys = socket.framesOfType("send")[0]?.keys as Array<{ to: string }>;
    expect(keys.map((e) => e.to)).toEqual([bob.pubkey]);
    await client.close();
    expect(await sent).toMatchObject({ code: "closed" });
  });

  it("fails clearly when nobody else would receive it", async () => {
    const self = identity();
    const { client, socket } = await connected(self);
    const assertion = rejection(client.send("#empty", "hello?"));
    await tick();
    peersReply(socket, [peer(self, "alice", ["empty"])]);
    const err = await assertion;
    expect(err.code).toBe("unknown_target");
    expect(err.message).toMatch(/nobody else has joined #empty in mesh "team"/);
    await client.close();
  });

  it("re-seals to the broker's expected list on recipients_mismatch", async () => {
    const self = identity();
    const bob = identity();
    const dave = identity();
    const { client, socket } = await connected(self);
    const sent = client.send("*", "hi all");
    await tick();
    peersReply(socket, [peer(self, "alice"), peer(bob, "bob")]);
    await tick();
    const first = socket.framesOfType("send")[0];
    socket.receive({
      type: "error",
      id: first?.id,
      code: "recipients_mismatch",
      message: "recipients changed",
      expected: [bob.pubkey, dave.pubkey],
    });
    await tick();
    const second = socket.framesOfType("send")[1];
    const keys = second?.keys as Array<{ to: string }>;
    expect(keys.map((e) => e.to).sort()).toEqual([bob.pubkey, dave.pubkey].sort());
    expect(openSentGroup(second, self, dave)).toBe("hi all");
    expect(socket.framesOfType("list_peers")).toHaveLength(1); // resealed without another round trip
    ack(socket, second, "m2");
    await expect(sent).resolves.toEqual({ messageId: "m2", queued: false });
    await client.close();
  });

  it("a fan-out cut off by a drop re-fetches its recipients after reconnect", async () => {
    const self = identity();
    const bob = identity();
    const dave = identity();
    const { client, net, socket } = await connected(self);
    const sent = client.send("*", "again");
    await tick();
    peersReply(socket, [peer(bob, "bob")]);
    await tick();
    const first = socket.framesOfType("send")[0];
    socket.receive({
      type: "error",
      id: first?.id,
      code: "recipients_mismatch",
      message: "x",
      expected: [bob.pubkey, dave.pubkey],
    });
    await tick();
    expect(socket.framesOfType("send")).toHaveLength(2);
    socket.serverClose(1006);
    await tick(1_000);
    handshake(net.last);
    await tick();
    expect(net.last.framesOfType("list_peers")).toHaveLength(1);
    expect(net.last.framesOfType("send")).toHaveLength(0);
    peersReply(net.last, [peer(dave, "dave")]);
    await tick();
    const resent = net.last.framesOfType("send")[0];
    expect((resent?.keys as Array<{ to: string }>).map((e) => e.to)).toEqual([dave.pubkey]);
    ack(net.last, resent, "m9");
    await expect(sent).resolves.toMatchObject({ messageId: "m9" });
    await client.close();
  });

  it("gives up after maxMismatchRetries with recipients_mismatch", async () => {
    const self = identity();
    const bob = identity();
    const { client, socket } = await connected(self, { maxMismatchRetries: 2 });
    const assertion = rejection(client.send("*", "x"));
    await tick();
    peersReply(socket, [peer(bob, "bob")]);
    for (let i = 0; i < 3; i++) {
      await tick();
      const frame = socket.framesOfType("send").at(-1);
      socket.receive({
        type: "error",
        id: frame?.id,
        code: "recipients_mismatch",
        message: "changed",
        expected: [identity().pubkey],
      });
    }
    const err = await assertion;
    expect(err.code).toBe("recipients_mismatch");
    expect(socket.framesOfType("send")).toHaveLength(3);
    await client.close();
  });

  it("keeps the caller's order: a direct send after a fan-out is written after it", async () => {
    const self = identity();
    const bob = identity();
    const { client, socket } = await connected(self);
    const sends = [client.send("*", "first"), client.send(bob.pubkey, "second")].map((p) =>
      p.catch(() => "closed"),
    );
    await tick();
    expect(socket.framesOfType("send")).toHaveLength(0);
    peersReply(socket, [peer(bob, "bob")]);
    await tick();
    const targets = socket.framesOfType("send").map((f) => f.targetSpec);
    expect(targets).toEqual(["*", bob.pubkey]);
    await client.close();
    expect(await Promise.all(sends)).toEqual(["closed", "closed"]);
  });
});

describe("BrokerClient inbound", () => {
  it("decrypts pushes, emits them, buffers them and acks them in one batch per tick", async () => {
    const self = identity();
    const bob = identity();
    const { client, socket } = await connected(self);
    const received: InboundMessage[] = [];
    client.on("message", (m) => {
      received.push(m);
      // nothing is acked before the message was emitted
      expect(socket.framesOfType("client_ack").flatMap((f) => f.messageIds as string[])).not.toContain(
        m.messageId,
      );
    });
    const p1 = makePush(bob, self.pubkey, "one", { priority: "now" });
    const p2 = makePush(bob, self.pubkey, "two", { targetSpec: "#dev" });
    socket.receive(p1);
    socket.receive(p2);
    expect(socket.framesOfType("client_ack")).toHaveLength(0);
    await tick();
    expect(socket.framesOfType("client_ack")).toEqual([
      { type: "client_ack", messageIds: [p1.messageId, p2.messageId] },
    ]);
    expect(received).toEqual([
      {
        messageId: p1.messageId,
        meshId: MESH_ID,
        meshSlug: MESH_SLUG,
        from: "bob",
        fromPubkey: bob.pubkey,
        targetSpec: self.pubkey,
        kind: "direct",
        priority: "now",
        text: "one",
        sentAt: "2025-01-02T03:04:05.000Z",
        nonce: p1.nonce,
      },
      expect.objectContaining({ text: "two", kind: "channel", targetSpec: "#dev" }),
    ]);
    expect(client.drainInbox().map((m) => m.text)).toEqual(["one", "two"]);
    expect(client.drainInbox()).toEqual([]);
    await client.close();
  });

  it("emits a redelivered message once (same and later connection) but acks it again", async () => {
    const self = identity();
    const bob = identity();
    const { client, net, socket } = await connected(self);
    const texts: string[] = [];
    client.on("message", (m) => texts.push(m.text));
    const push = makePush(bob, self.pubkey, "only once");
    socket.receive(push);
    socket.receive(push);
    await tick();
    socket.serverClose(1006);
    await tick(1_000);
    handshake(net.last);
    net.last.receive(push);
    await tick();
    expect(texts).toEqual(["only once"]);
    expect(net.last.framesOfType("client_ack")).toEqual([
      { type: "client_ack", messageIds: [push.messageId] },
    ]);
    expect(client.drainInbox()).toHaveLength(1);
    await client.close();
  });

  it("forgets the oldest ids beyond dedupMax", async () => {
    const self = identity();
    const bob = identity();
    const { client, socket } = await connected(self, { dedupMax: 2 });
    const texts: string[] = [];
    client.on("message", (m) => texts.push(m.text));
    const [a, b, c] = [
      makePush(bob, self.pubkey, "a"),
      makePush(bob, self.pubkey, "b"),
      makePush(bob, self.pubkey, "c"),
    ];
    for (const p of [a, b, c, c, a]) socket.receive(p);
    expect(texts).toEqual(["a", "b", "c", "a"]);
    await client.close();
  });

  it("bounds the push buffer, dropping the oldest with a dropped event", async () => {
    const self = identity();
    const bob = identity();
    const { client, socket } = await connected(self, { pushBufferMax: 3 });
    const dropped: DroppedNotice[] = [];
    client.on("dropped", (d) => dropped.push(d));
    const pushes = ["1", "2", "3", "4", "5"].map((t) => makePush(bob, self.pubkey, t));
    for (const p of pushes) socket.receive(p);
    expect(client.drainInbox().map((m) => m.text)).toEqual(["3", "4", "5"]);
    expect(dropped).toEqual([
      { messageId: pushes[0]?.messageId, droppedTotal: 1, bufferMax: 3 },
      { messageId: pushes[1]?.messageId, droppedTotal: 2, bufferMax: 3 },
    ]);
    expect(client.stats.droppedTotal).toBe(2);
    await client.close();
  });

  it("acks undecryptable pushes and reports metadata only", async () => {
    const self = identity();
    const bob = identity();
    const { client, socket } = await connected(self);
    const notices: UndecryptableMessage[] = [];
    const messages: InboundMessage[] = [];
    client.on("undecryptable", (n) => notices.push(n));
    client.on("message", (m) => messages.push(m));
    const forOther = makePush(bob, identity().pubkey, "not for you"); // sealed for someone else
    socket.receive({ ...forOther, targetSpec: self.pubkey });
    await tick();
    expect(messages).toEqual([]);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({
      messageId: forOther.messageId,
      fromPubkey: bob.pubkey,
      kind: "direct",
    });
    expect(JSON.stringify(notices[0])).not.toContain(forOther.ciphertext);
    expect(socket.framesOfType("client_ack")).toEqual([
      { type: "client_ack", messageIds: [forOther.messageId] },
    ]);
    expect(client.drainInbox()).toEqual([]);
    await client.close();
  });

  it("splits large ack batches at 1000 ids per frame and flushes pending acks on close()", async () => {
    const self = identity();
    const bob = identity();
    const { client, socket } = await connected(self, { pushBufferMax: 2_000 });
    const push = makePush(bob, self.pubkey, "x");
    for (let i = 0; i < 1_001; i++) socket.receive({ ...push, messageId: `bulk_${i}` });
    await tick();
    expect(socket.framesOfType("client_ack").map((f) => (f.messageIds as string[]).length)).toEqual([
      1_000, 1,
    ]);
    socket.receive({ ...push, messageId: "last" });
    await client.close();
    expect(socket.framesOfType("client_ack").at(-1)).toEqual({ type: "client_ack", messageIds: ["last"] });
  });
});

describe("BrokerClient requests", () => {
  it("listPeers correlates by id and validates nothing away", async () => {
    const self = identity();
    const { client, socket } = await connected(self);
    const listing = client.listPeers();
    const request = socket.framesOfType("list_peers")[0];
    socket.receive({ type: "peers", id: "someone-else", peers: [] });
    socket.receive({ type: "peers", id: request?.id, peers: [peer(self, "alice")] });
    await expect(listing).resolves.toEqual([peer(self, "alice")]);
    await client.close();
  });

  it("an error frame with the request id rejects with the wire code", async () => {
    const { client, socket } = await connected(identity());
    const assertion = rejection(client.listPeers());
    socket.receive({
      type: "error",
      id: socket.framesOfType("list_peers")[0]?.id,
      code: "rate_limited",
      message: "slow down",
    });
    const err = await assertion;
    expect(err.code).toBe("rate_limited");
    await client.close();
  });

  it("listPeers times out and fails at once when not connected", async () => {
    const { client, socket } = await connected(identity(), { requestTimeoutMs: 3_000 });
    const assertion = rejection(client.listPeers());
    await tick(3_000);
    expect((await assertion).code).toBe("timeout");
    socket.serverClose(1006);
    const down = await rejection(client.listPeers());
    expect(down.code).toBe("not_connected");
    expect(down.message).toMatch(/not connected to broker at http:\/\/127\.0\.0\.1:7900/);
    await client.close();
  });

  it("a setter whose barrier is cut by a drop still resolves and is re-applied after reconnect", async () => {
    const { client, net, socket } = await connected(identity());
    const summary = client.setSummary("mid-drop");
    socket.serverClose(1006);
    await expect(summary).resolves.toBeUndefined();
    await tick(1_000);
    handshake(net.last);
    expect(net.last.sent[1]).toEqual({ type: "set_summary", summary: "mid-drop" });
    await client.close();
  });

  it("a drop rejects in-flight requests with not_connected", async () => {
    const { client, socket } = await connected(identity());
    const assertion = rejection(client.listPeers());
    socket.serverClose(1001);
    expect((await assertion).code).toBe("not_connected");
    await client.close();
  });

  it("setters write their frame and confirm with a barrier; an id-less error rejects them", async () => {
    const { client, socket } = await connected(identity());
    const summary = client.setSummary("refactoring the parser");
    expect(socket.sent.at(-2)).toEqual({ type: "set_summary", summary: "refactoring the parser" });
    socket.receive({ type: "peers", id: socket.framesOfType("list_peers").at(-1)?.id, peers: [] });
    await expect(summary).resolves.toBeUndefined();

    const status = client.setStatus("dnd");
    expect(socket.sent.at(-2)).toEqual({ type: "set_status", status: "dnd", source: "manual" });
    socket.receive({ type: "error", code: "rate_limited", message: "too many updates" });
    const err = await rejection(status);
    expect(err.code).toBe("rate_limited");

    const join = client.joinChannel("#Dev".toLowerCase());
    expect(socket.sent.at(-2)).toEqual({ type: "join_channel", name: "dev" });
    socket.receive({ type: "peers", id: socket.framesOfType("list_peers").at(-1)?.id, peers: [] });
    await join;
    const leave = client.leaveChannel("ops");
    expect(socket.sent.at(-2)).toEqual({ type: "leave_channel", name: "ops" });
    socket.receive({ type: "peers", id: socket.framesOfType("list_peers").at(-1)?.id, peers: [] });
    await leave;
    await client.close();
  });

  it.each([
    ["summary over 280 chars", (c: BrokerClient) => c.setSummary("x".repeat(281))],
    ["an unknown status", (c: BrokerClient) => c.setStatus("busy" as never)],
    ["an unknown status source", (c: BrokerClient) => c.setStatus("idle", "hook" as never)],
    ["an invalid channel", (c: BrokerClient) => c.joinChannel("#Not Valid")],
    ["an empty channel", (c: BrokerClient) => c.leaveChannel("#")],
  ])("rejects %s locally with invalid_argument", async (_label, call) => {
    const { client, socket } = await connected(identity());
    const before = socket.sent.length;
    const err = await rejection(call(client));
    expect(err.code).toBe("invalid_argument");
    expect(socket.sent).toHaveLength(before);
    await client.close();
  });

  it("re-applies summary, status and channels after a reconnect", async () => {
    const { client, net, socket } = await connected(identity());
    socket.serverClose(1006);
    await client.setSummary("writing tests"); // resolves at once while disconnected
    await client.setStatus("working", "jsonl");
    await client.joinChannel("dev");
    await client.leaveChannel("ops");
    await tick(1_000);
    handshake(net.last);
    expect(net.last.sent.slice(1)).toEqual([
      { type: "set_summary", summary: "writing tests" },
      { type: "set_status", status: "working", source: "jsonl" },
      { type: "join_channel", name: "dev" },
      { type: "leave_channel", name: "ops" },
    ]);
    await client.close();
  });
});
