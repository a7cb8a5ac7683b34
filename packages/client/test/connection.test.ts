// Connection on its own: what it tells its listener (opened, frame, dropped, stopped) and when writes reach the socket.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { generateKeypair } from "@claudemesh/crypto";
import type { ServerFrame } from "@claudemesh/protocol";
import { Connection, type ConnectionListener } from "../src/connection.js";
import type { ClientError } from "../src/errors.js";
import type { ConnectionState } from "../src/types.js";
import { FakeNetwork } from "./helpers/fake-socket.js";
import { handshake, tick } from "./helpers/fixtures.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

interface Recorder extends ConnectionListener {
  log: string[];
  frames: ServerFrame[];
  states: ConnectionState[];
  errors: ClientError[];
  stoppedWith: ClientError[];
}

function recorder(): Recorder {
  const r: Recorder = {
    log: [],
    frames: [],
    states: [],
    errors: [],
    stoppedWith: [],
    opened: () => r.log.push("opened"),
    frame: (f) => {
      r.log.push(`frame:${f.type}`);
      r.frames.push(f);
    },
    dropped: () => r.log.push("dropped"),
    stopped: (reason) => {
      r.log.push(`stopped:${reason.code}`);
      r.stoppedWith.push(reason);
    },
    state: (s) => {
      r.log.push(`state:${s}`);
      r.states.push(s);
    },
    error: (e) => r.errors.push(e),
  };
  return r;
}

function connection(net: FakeNetwork, listener: ConnectionListener): Connection {
  const kp = generateKeypair();
  return new Connection(
    {
      httpBase: "http://127.0.0.1:7900",
      wsUrl: "ws://127.0.0.1:7900/ws",
      meshId: "mesh_1",
      meshSlug: "team",
      memberId: "mem_self",
      pubkey: kp.publicKey,
      secretKey: kp.secretKey,
      sessionId: "s",
      pid: 1,
      cwd: "/",
    },
    {
      helloAckTimeoutMs: 5_000,
      backoffMs: [1_000],
      deadAfterMs: 75_000,
      socketFactory: net.factory,
      now: () => Date.now(),
    },
    listener,
    "alice",
  );
}

describe("Connection", () => {
  it("reports opened before the open state, and writes only while authenticated", async () => {
    const net = new FakeNetwork();
    const r = recorder();
    const conn = connection(net, r);
    const ready = conn.connect();
    net.last.open();
    expect(conn.write({ type: "list_peers", id: "r1" })).toBe(false);
    expect(net.last.framesOfType("list_peers")).toEqual([]);
    net.last.receive({ type: "hello_ack", presenceId: "p1", memberDisplayName: "Alice" });
    await ready;
    expect(r.log).toEqual(["state:connecting", "opened", "state:open"]);
    expect(conn.displayName).toBe("Alice");
    expect(conn.presenceId).toBe("p1");
    expect(conn.write({ type: "list_peers", id: "r2" })).toBe(true);
    expect(net.last.framesOfType("list_peers")).toEqual([{ type: "list_peers", id: "r2" }]);
    expect(conn.describeLink()).toBe("connected");
    await conn.close();
  });

  it("passes on frames only after hello_ack; a pre-hello error is the handshake verdict", async () => {
    const net = new FakeNetwork();
    const r = recorder();
    const conn = connection(net, r);
    const ready = conn.connect();
    net.last.open();
    net.last.receive({ type: "ack", id: "x", messageId: "m", queued: false });
    net.last.receive({ type: "error", code: "revoked", message: "member revoked" });
    expect(r.frames).toEqual([]);
    net.last.serverClose(1008, "revoked");
    await expect(ready).rejects.toMatchObject({ code: "revoked", fatal: true });
    expect(r.log).toEqual(["state:connecting", "dropped", "stopped:revoked", "state:closed"]);
    expect(r.errors.map((e) => e.code)).toEqual(["revoked"]);
    await expect(conn.connect()).rejects.toMatchObject({ code: "revoked" });
  });

  it("tells the listener about a drop, then reconnects after the backoff", async () => {
    const net = new FakeNetwork();
    const r = recorder();
    const conn = connection(net, r);
    const ready = conn.connect();
    handshake(net.last);
    await ready;
    net.last.receive({ type: "peers", id: "r", peers: [] });
    expect(r.frames.map((f) => f.type)).toEqual(["peers"]);
    net.last.serverClose(1006);
    expect(conn.authenticated).toBe(false);
    expect(conn.write({ type: "list_peers", id: "r3" })).toBe(false);
    expect(r.log.slice(-2)).toEqual(["dropped", "state:reconnecting"]);
    await tick(1_000);
    expect(net.sockets).toHaveLength(2);
    handshake(net.last);
    expect(conn.reconnects).toBe(1);
    expect(r.log.slice(-2)).toEqual(["opened", "state:open"]);
    await conn.close();
    expect(r.log.slice(-2)).toEqual(["stopped:closed", "state:closed"]);
    expect(conn.closedError).toBeNull();
    expect(conn.closedReason().code).toBe("closed");
  });
});
