// BrokerClient delivery features through the facade: inboundSink, sendReceipt, messageStatus and receipt events.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ClientError } from "../src/errors.js";
import type { InboundMessage, Receipt } from "../src/types.js";
import { FakeNetwork } from "./helpers/fake-socket.js";
import { connected, handshake, identity, makePush, newClient, tick } from "./helpers/fixtures.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("BrokerClient inboundSink", () => {
  it("acks after the sink resolves, and emits no message event", async () => {
    const self = identity();
    let release!: () => void;
    const handed: InboundMessage[] = [];
    const { client, socket } = await connected(self, {
      inboundSink: (m) => {
        handed.push(m);
        return new Promise<void>((resolve) => (release = resolve));
      },
    });
    const emitted: InboundMessage[] = [];
    client.on("message", (m) => emitted.push(m));
    const push = makePush(identity(), self.pubkey, "to disk first");
    socket.receive(push);
    await tick();
    expect(handed.map((m) => m.text)).toEqual(["to disk first"]);
    expect(socket.framesOfType("client_ack")).toEqual([]);
    release();
    await tick();
    expect(socket.framesOfType("client_ack")).toEqual([{ type: "client_ack", messageIds: [push.messageId] }]);
    expect(emitted).toEqual([]);
    expect(client.drainInbox()).toEqual([]);
    await client.close();
  });

  it("a failing sink means no ack and an error event; the redelivery is handed on again", async () => {
    const self = identity();
    let fail = true;
    const sink = vi.fn(() => (fail ? Promise.reject(new Error("EACCES")) : undefined));
    const { client, net, socket } = await connected(self, { inboundSink: sink });
    const errors: ClientError[] = [];
    client.on("error", (e) => errors.push(e));
    const push = makePush(identity(), self.pubkey, "x");
    socket.receive(push);
    await tick();
    expect(errors.map((e) => e.code)).toEqual(["handoff_failed"]);
    expect(socket.framesOfType("client_ack")).toEqual([]);
    fail = false;
    socket.serverClose(1006);
    await tick(1_000);
    handshake(net.last);
    net.last.receive(push);
    await tick();
    expect(sink).toHaveBeenCalledTimes(2);
    expect(net.last.framesOfType("client_ack")).toEqual([
      { type: "client_ack", messageIds: [push.messageId] },
    ]);
    await client.close();
  });
});

describe("BrokerClient close() with an inboundSink", () => {
  it("lets a hand-off in progress settle, then acks it before the close frame", async () => {
    const self = identity();
    const { client, socket } = await connected(self, {
      inboundSink: () => new Promise<void>((resolve) => setTimeout(resolve, 200)),
    });
    const push = makePush(identity(), self.pubkey, "almost on disk");
    socket.receive(push);
    const closing = client.close();
    await tick(200);
    await closing;
    expect(socket.framesOfType("client_ack")).toEqual([{ type: "client_ack", messageIds: [push.messageId] }]);
    expect(socket.closedWith?.code).toBe(1000);
  });

  it("waits at most a second for a sink that does not settle", async () => {
    const self = identity();
    const { client, socket } = await connected(self, {
      inboundSink: () => new Promise<void>(() => undefined),
    });
    socket.receive(makePush(identity(), self.pubkey, "stuck"));
    const closing = client.close();
    await tick(1_000);
    await closing;
    expect(client.state).toBe("closed");
    expect(socket.framesOfType("client_ack")).toEqual([]);
  });
});

describe("BrokerClient inboundSink option", () => {
  it("refuses an inboundSink that is not a function", () => {
    const sink = "not a function" as unknown as () => void;
    expect(() => newClient(identity(), new FakeNetwork(), { inboundSink: sink })).toThrow(
      expect.objectContaining({ code: "invalid_argument", message: expect.stringMatching(/inboundSink/) }),
    );
  });
});

describe("BrokerClient receipts", () => {
  it("emits broker receipts as receipt events", async () => {
    const { client, socket } = await connected(identity());
    const got: Receipt[] = [];
    client.on("receipt", (r) => got.push(r));
    const bob = identity().pubkey;
    socket.receive({
      type: "receipt",
      messageId: "msg_1",
      recipientPubkey: bob,
      state: "shown",
      at: "2025-01-02T03:04:05.000Z",
    });
    expect(got).toEqual([
      { messageId: "msg_1", recipientPubkey: bob, state: "shown", at: "2025-01-02T03:04:05.000Z" },
    ]);
    await client.close();
  });

  it("sendReceipt writes pending client_acks first, so delivered precedes shown on the wire", async () => {
    const self = identity();
    const { client, socket } = await connected(self);
    const push = makePush(identity(), self.pubkey, "x");
    socket.receive(push);
    client.sendReceipt([push.messageId], "shown");
    expect(socket.sent.slice(-2)).toEqual([
      { type: "client_ack", messageIds: [push.messageId] },
      { type: "receipt", messageIds: [push.messageId], state: "shown" },
    ]);
    await client.close();
  });

  it("keeps receipts written while disconnected and writes them after the next hello_ack", async () => {
    const net = new FakeNetwork();
    const client = newClient(identity(), net);
    client.sendReceipt(["msg_a", "msg_b"], "shown");
    const ready = client.connect();
    handshake(net.last);
    await ready;
    expect(net.last.framesOfType("receipt")).toEqual([
      { type: "receipt", messageIds: ["msg_a", "msg_b"], state: "shown" },
    ]);
    await client.close();
    const errors: ClientError[] = [];
    client.on("error", (e) => errors.push(e));
    expect(() => client.sendReceipt(["msg_c"], "shown")).not.toThrow();
    expect(errors.map((e) => e.code)).toEqual(["closed"]);
  });

  it("drops the oldest receipts beyond receiptBacklogMax with an error event", async () => {
    const net = new FakeNetwork();
    const client = newClient(identity(), net, { receiptBacklogMax: 2 });
    const errors: ClientError[] = [];
    client.on("error", (e) => errors.push(e));
    client.sendReceipt(["msg_1", "msg_2", "msg_3"], "shown");
    expect(errors.map((e) => e.code)).toEqual(["queue_full"]);
    const ready = client.connect();
    handshake(net.last);
    await ready;
    expect(net.last.framesOfType("receipt")[0]?.messageIds).toEqual(["msg_2", "msg_3"]);
    await client.close();
  });

  it("rejects a non-positive receiptBacklogMax at construction", () => {
    expect(() => newClient(identity(), new FakeNetwork(), { receiptBacklogMax: 0 })).toThrow(
      expect.objectContaining({ code: "invalid_argument" }),
    );
  });
});

describe("BrokerClient messageStatus", () => {
  it("asks with message_status and returns the statuses of the reply", async () => {
    const { client, socket } = await connected(identity());
    const bob = identity().pubkey;
    const pending = client.messageStatus(["msg_1", "msg_2"]);
    const request = socket.framesOfType("message_status")[0];
    expect(request).toMatchObject({ type: "message_status", messageIds: ["msg_1", "msg_2"] });
    socket.receive({
      type: "message_status",
      id: request?.id,
      statuses: [
        {
          messageId: "msg_1",
          recipients: [{ pubkey: bob, state: "delivered", at: "2025-01-01T00:00:00.000Z" }],
        },
        { messageId: "msg_2", recipients: [] },
      ],
    });
    await expect(pending).resolves.toEqual([
      {
        messageId: "msg_1",
        recipients: [{ pubkey: bob, state: "delivered", at: "2025-01-01T00:00:00.000Z" }],
      },
      { messageId: "msg_2", recipients: [] },
    ]);
    await client.close();
  });

  it("splits more than 1,000 ids over several requests, keeping the order", async () => {
    const { client, socket } = await connected(identity());
    const ids = Array.from({ length: 1_500 }, (_, i) => `msg_${i}`);
    const pending = client.messageStatus(ids);
    for (let round = 0; round < 2; round += 1) {
      await tick();
      const request = socket.framesOfType("message_status")[round];
      const asked = request?.messageIds as string[];
      expect(asked).toHaveLength(round === 0 ? 1_000 : 500);
      socket.receive({
        type: "message_status",
        id: request?.id,
        statuses: asked.map((messageId) => ({ messageId, recipients: [] })),
      });
    }
    expect((await pending).map((s) => s.messageId)).toEqual(ids);
    await client.close();
  });

  it("rejects malformed ids locally, and fails with not_connected when offline", async () => {
    const { client, socket } = await connected(identity());
    await expect(client.messageStatus(["ok_id", ""])).rejects.toMatchObject({ code: "invalid_argument" });
    expect(socket.framesOfType("message_status")).toEqual([]);
    await expect(client.messageStatus([])).resolves.toEqual([]);
    expect(socket.framesOfType("message_status")).toEqual([]);
    socket.serverClose(1006);
    await expect(client.messageStatus(["msg_1"])).rejects.toMatchObject({ code: "not_connected" });
    await client.close();
  });

  it("an error frame with the request id rejects with its code", async () => {
    const { client, socket } = await connected(identity());
    const pending = client.messageStatus(["msg_1"]);
    const id = socket.framesOfType("message_status")[0]?.id;
    socket.receive({ type: "error", code: "rate_limited", message: "slow down", id });
    await expect(pending).rejects.toMatchObject({ code: "rate_limited" });
    await client.close();
  });
});
