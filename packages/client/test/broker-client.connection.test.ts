// BrokerClient connection lifecycle under fake timers: hello, backoff schedule, handshake rejections, close codes.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { verifyHelloSignature } from "@claudemesh/crypto";
import { BrokerClient } from "../src/broker-client.js";
import { ClientError } from "../src/errors.js";
import type { ConnectionState } from "../src/types.js";
import { FakeNetwork } from "./helpers/fake-socket.js";
import { MESH_ID, connected, handshake, identity, newClient, tick } from "./helpers/fixtures.js";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2025-06-01T00:00:00Z"));
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

describe("BrokerClient connection - hello", () => {
  it("sends a signed hello with a fresh timestamp and resolves on hello_ack", async () => {
    const self = identity();
    const net = new FakeNetwork();
    const client = newClient(self, net);
    const states: ConnectionState[] = [];
    client.on("state", (s) => states.push(s));
    const ready = client.connect();
    const socket = net.last;
    expect(socket.url).toBe("ws://127.0.0.1:7900/ws");
    socket.open();
    const hello = socket.sent[0] as Record<string, unknown>;
    expect(hello).toMatchObject({
      type: "hello",
      meshId: MESH_ID,
      memberId: "mem_self",
      pubkey: self.pubkey,
      sessionId: "sess-1",
      pid: 4242,
      cwd: "/work/project",
      timestamp: Date.now(),
    });
    const verdict = verifyHelloSignature(
      {
        meshId: MESH_ID,
        memberId: "mem_self",
        pubkey: self.pubkey,
        timestamp: hello.timestamp as number,
        signature: hello.signature as string,
      },
      Date.now(),
    );
    expect(verdict).toEqual({ ok: true });
    socket.receive({ type: "hello_ack", presenceId: "pres_1", memberDisplayName: "alice-2" });
    await ready;
    expect(client.state).toBe("open");
    expect(client.displayName).toBe("alice-2");
    expect(client.presenceId).toBe("pres_1");
    expect(states).toEqual(["connecting", "open"]);
    await client.close();
    expect(socket.closedWith).toEqual({ code: 1000, reason: "client closed" });
    expect(states.at(-1)).toBe("closed");
  });

  it("signs each attempt with a fresh timestamp", async () => {
    const self = identity();
    const { client, net, socket } = await connected(self);
    const first = socket.sent[0]?.timestamp as number;
    socket.serverClose(1006);
    await tick(1_000);
    net.last.open();
    expect(net.last.sent[0]?.timestamp).toBe(first + 1_000);
    await client.close();
  });

  it("treats a missing hello_ack as a failed attempt and retries", async () => {
    const net = new FakeNetwork();
    const client = newClient(identity(), net, { helloAckTimeoutMs: 5_000 });
    const ready = client.connect();
    net.last.open();
    await tick(4_999);
    expect(net.sockets).toHaveLength(1);
    await tick(1);
    expect(net.sockets[0]?.terminated).toBe(true);
    await tick(1_000);
    expect(net.sockets).toHaveLength(2);
    handshake(net.last);
    await ready;
    await client.close();
  });
});

describe("BrokerClient connection - backoff", () => {
  it("retries failed connections after 1, 2, 4, 8, 16, 30, 30 s", async () => {
    const net = new FakeNetwork();
    net.onNewSocket = (s) => s.fail("ECONNREFUSED");
    const client = newClient(identity(), net);
    const start = Date.now();
    void client.connect().catch(() => undefined);
    await tick(1_000 + 2_000 + 4_000 + 8_000 + 16_000 + 30_000 + 30_000);
    const offsets = net.sockets.map((s) => s.openedAt - start);
    expect(offsets).toEqual([0, 1_000, 3_000, 7_000, 15_000, 31_000, 61_000, 91_000]);
    expect(client.state).toBe("connecting");
    await client.close();
    await tick(60_000);
    expect(net.sockets).toHaveLength(8); // close() stops the schedule
  });

  it("resets the schedule after a successful hello", async () => {
    const net = new FakeNetwork();
    net.onNewSocket = (s) => s.fail();
    const client = newClient(identity(), net);
    const ready = client.connect();
    await tick(1_000 + 2_000); // attempts at 0, 1 s, 3 s
    expect(net.sockets).toHaveLength(3);
    net.onNewSocket = (s) => handshake(s);
    await tick(4_000); // 4th attempt at 7 s succeeds
    await ready;
    expect(client.state).toBe("open");
    const states: ConnectionState[] = [];
    client.on("state", (s) => states.push(s));
    net.onNewSocket = (s) => s.fail();
    const dropAt = Date.now();
    net.last.serverClose(1006);
    await tick(1_000 + 2_000);
    expect(net.sockets.slice(4).map((s) => s.openedAt - dropAt)).toEqual([1_000, 3_000]);
    expect(states).toEqual(["reconnecting"]);
    await client.close();
  });

  it("connect({timeoutMs}) rejects with unreachable naming the cause and a hint", async () => {
    const net = new FakeNetwork();
    net.onNewSocket = (s) => s.fail("ECONNREFUSED");
    const client = newClient(identity(), net);
    const pending = client.connect({ timeoutMs: 2_500 });
    const assertion = rejection(pending);
    await tick(2_500);
    const err = await assertion;
    expect(err.code).toBe("unreachable");
    expect(err.message).toBe(
      "cannot reach broker at http://127.0.0.1:7900 (connection refused) — is `claudemesh broker` running?",
    );
    await client.close();
  });

  it("connect({timeoutMs}) reports a timeout when the broker accepts but never answers the hello", async () => {
    const net = new FakeNetwork();
    net.onNewSocket = (s) => s.open();
    const client = newClient(identity(), net, { helloAckTimeoutMs: 1_000 });
    const assertion = rejection(client.connect({ timeoutMs: 1_500 }));
    await tick(1_500);
    const err = await assertion;
    expect(err.code).toBe("timeout");
    expect(err.message).toMatch(/did not answer the hello/);
    await client.close();
  });
});

describe("BrokerClient connection - rejections and close codes", () => {
  it.each(["unauthorized", "revoked", "bad_signature", "timestamp_skew", "malformed"] as const)(
    "a first hello rejected with %s rejects connect() and never retries",
    async (code) => {
      const net = new FakeNetwork();
      const client = newClient(identity(), net);
      const errors: ClientError[] = [];
      client.on("error", (e) => errors.push(e));
      const assertion = rejection(client.connect());
      const socket = net.last;
      socket.open();
      socket.receive({ type: "error", code, message: "nope" });
      socket.serverClose(1008, code);
      const err = await assertion;
      expect(err.code).toBe(code);
      expect(err.fatal).toBe(true);
      expect(err.message.length).toBeGreaterThan(20);
      expect(err.message).not.toContain("\n");
      expect(client.state).toBe("closed");
      expect(errors.map((e) => e.code)).toEqual([code]);
      await tick(120_000);
      expect(net.sockets).toHaveLength(1);
    },
  );

  it("an unauthorized hello explains what to do", async () => {
    const net = new FakeNetwork();
    const self = identity();
    const client = newClient(self, net);
    const assertion = rejection(client.connect());
    net.last.open();
    net.last.serverClose(1008, "unauthorized"); // close text alone is enough
    const err = await assertion;
    expect(err.message).toContain(self.pubkey.slice(0, 8));
    expect(err.message).toContain("claudemesh join");
    expect(err.message).not.toContain(self.secretKey);
  });

  it.each(["capacity", "replay"])("a %s rejection is retried with backoff", async (code) => {
    const net = new FakeNetwork();
    const client = newClient(identity(), net);
    const ready = client.connect();
    net.last.open();
    net.last.receive({ type: "error", code, message: "later" });
    net.last.serverClose(1008, code);
    await tick(1_000);
    expect(net.sockets).toHaveLength(2);
    handshake(net.last);
    await ready;
    await client.close();
  });

  it("4001 replaced stops reconnecting, emits a fatal error and fails queued sends", async () => {
    const self = identity();
    const { client, net, socket } = await connected(self);
    const errors: ClientError[] = [];
    client.on("error", (e) => errors.push(e));
    socket.serverClose(4001, "replaced");
    expect(client.state).toBe("closed");
    expect(errors).toHaveLength(1);
    expect(errors[0]?.code).toBe("replaced");
    expect(errors[0]?.fatal).toBe(true);
    expect(errors[0]?.message).toMatch(/another session/);
    const err = await rejection(client.send("*", "hi"));
    expect(err.code).toBe("replaced");
    await tick(120_000);
    expect(net.sockets).toHaveLength(1);
  });

  it("4003 revoked while connected is fatal", async () => {
    const { client, net, socket } = await connected(identity());
    socket.serverClose(4003, "revoked");
    expect(client.state).toBe("closed");
    await tick(60_000);
    expect(net.sockets).toHaveLength(1);
    expect((await rejection(client.connect())).code).toBe("revoked");
  });

  it.each([1001, 1006, 1011, 4002, 4004])("close %i reconnects", async (code) => {
    const { client, net, socket } = await connected(identity());
    socket.serverClose(code, "bye");
    expect(client.state).toBe("reconnecting");
    await tick(1_000);
    expect(net.sockets).toHaveLength(2);
    handshake(net.last);
    await tick();
    expect(client.state).toBe("open");
    expect(client.stats.reconnects).toBe(1);
    await client.close();
  });

  it("reconnects when the broker goes silent past deadAfterMs; pings keep it alive", async () => {
    const { client, net, socket } = await connected(identity(), { deadAfterMs: 75_000 });
    await tick(70_000);
    socket.ping();
    await tick(70_000);
    expect(net.sockets).toHaveLength(1);
    await tick(5_000);
    expect(socket.terminated).toBe(true);
    expect(client.state).toBe("reconnecting");
    await client.close();
  });

  it("an error without listeners never throws, and a throwing listener becomes an error event", async () => {
    const { client, socket } = await connected(identity());
    expect(() => socket.receive("not json")).not.toThrow();
    const errors: ClientError[] = [];
    client.on("error", (e) => errors.push(e));
    client.on("state", () => {
      throw new Error("listener bug");
    });
    expect(() => socket.serverClose(1006)).not.toThrow();
    expect(errors.map((e) => e.code)).toEqual(["internal"]);
    expect(errors[0]?.message).toMatch(/"state" listener threw: listener bug/);
    await client.close();
  });

  it("reports unreadable frames as bad_response and keeps the connection", async () => {
    const { client, socket } = await connected(identity());
    const errors: ClientError[] = [];
    client.on("error", (e) => errors.push(e));
    socket.receive({ type: "nonsense" });
    expect(errors[0]?.code).toBe("bad_response");
    expect(client.state).toBe("open");
    await client.close();
  });

  it("connect() after close() rejects with closed", async () => {
    const { client } = await connected(identity());
    await client.close();
    expect((await rejection(client.connect())).code).toBe("closed");
    expect((await rejection(client.send("*", "x"))).code).toBe("closed");
  });
});

describe("BrokerClient options", () => {
  it.each([
    [{ helloAckTimeoutMs: 0 }, /helloAckTimeoutMs must be a positive number/],
    [{ outboundQueueMax: -1 }, /outboundQueueMax must be a positive number/],
    [{ pushBufferMax: Number.NaN }, /pushBufferMax must be a positive number/],
    [{ backoffMs: [] }, /backoffMs must be a non-empty list/],
    [{ backoffMs: [1_000, -5] }, /backoffMs must be a non-empty list/],
    [{ maxMismatchRetries: 1.5 }, /maxMismatchRetries must be a non-negative integer/],
  ])("rejects %j", (options, message) => {
    expect(() => newClient(identity(), new FakeNetwork(), options)).toThrow(message);
  });

  it("keeps defaults for options passed as undefined", async () => {
    const net = new FakeNetwork();
    net.onNewSocket = (s) => s.fail();
    const client = newClient(identity(), net, { backoffMs: undefined });
    const start = Date.now();
    void client.connect().catch(() => undefined);
    await tick(3_000);
    expect(net.sockets.map((s) => s.openedAt - start)).toEqual([0, 1_000, 3_000]);
    await client.close();
  });

  it("rejects a malformed pubkey and a bad broker URL at construction", () => {
    const self = identity();
    expect(
      () =>
        new BrokerClient({
          brokerUrl: "http://127.0.0.1:7900",
          meshId: "m",
          meshSlug: "s",
          memberId: "u",
          pubkey: self.pubkey.toUpperCase(),
          secretKey: self.secretKey,
        }),
    ).toThrow(/pubkey must be 64 lowercase hex/);
    expect(
      () =>
        new BrokerClient({
          brokerUrl: "127.0.0.1:7900",
          meshId: "m",
          meshSlug: "s",
          memberId: "u",
          pubkey: self.pubkey,
          secretKey: self.secretKey,
        }),
    ).toThrow(/broker URL/);
  });
});

describe("BrokerClient key check", () => {
  it("rejects a secret key that does not belong to the pubkey", () => {
    const self = identity();
    const other = identity();
    const make = (secretKey: string) =>
      new BrokerClient({
        brokerUrl: "http://127.0.0.1:7900",
        meshId: "m",
        meshSlug: "s",
        memberId: "u",
        pubkey: self.pubkey,
        secretKey,
      });
    expect(() => make(other.secretKey)).toThrow(/secretKey is not the secret key of pubkey/);
    expect(() => make("zz")).toThrow(/secretKey is not the secret key of pubkey/);
    expect(() => make(self.secretKey)).not.toThrow();
  });
});
