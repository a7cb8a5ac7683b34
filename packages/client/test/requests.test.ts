// Requests on its own: id correlation, reply types, error frames by id, barriers, timeouts and drops.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ClientError } from "../src/errors.js";
import { Requests } from "../src/requests.js";
import { fakeLink } from "./helpers/fake-link.js";
import { tick } from "./helpers/fixtures.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const listPeers = (id: string) => ({ type: "list_peers" as const, id });

describe("Requests", () => {
  it("resolves the request whose id the reply carries, and only it", async () => {
    const link = fakeLink();
    const requests = new Requests(link, 10_000);
    const a = requests.request("peers", listPeers);
    const b = requests.request("peers", listPeers);
    const [fa, fb] = link.socket.framesOfType("list_peers");
    expect(fa?.id).not.toBe(fb?.id);
    expect(requests.resolve({ type: "peers", id: fb?.id as string, peers: [] })).toBe(true);
    await expect(b).resolves.toEqual({ type: "peers", id: fb?.id, peers: [] });
    expect(requests.size).toBe(1);
    expect(requests.resolve({ type: "peers", id: "unknown", peers: [] })).toBe(false);
    requests.failAll(new ClientError("closed", "bye"));
    await expect(a).rejects.toMatchObject({ code: "closed" });
  });

  it("rejects a reply of the wrong type with bad_response", async () => {
    const link = fakeLink();
    const requests = new Requests(link, 10_000);
    const pending = requests.request("message_status", (id) => ({
      type: "message_status",
      id,
      messageIds: ["msg_1"],
    }));
    const id = link.socket.framesOfType("message_status")[0]?.id as string;
    requests.resolve({ type: "peers", id, peers: [] });
    await expect(pending).rejects.toMatchObject({ code: "bad_response" });
  });

  it("an error frame with the id rejects with its wire code", async () => {
    const link = fakeLink();
    const requests = new Requests(link, 10_000);
    const pending = requests.request("peers", listPeers);
    const id = link.socket.framesOfType("list_peers")[0]?.id as string;
    expect(requests.rejectById({ type: "error", code: "rate_limited", message: "slow down", id })).toBe(true);
    await expect(pending).rejects.toMatchObject({ code: "rate_limited" });
    expect(requests.rejectById({ type: "error", code: "rate_limited", message: "again", id })).toBe(false);
  });

  it("an id-less error goes to the oldest barrier, never to a plain request", async () => {
    const link = fakeLink();
    const requests = new Requests(link, 10_000);
    const plain = requests.request("peers", listPeers);
    expect(requests.rejectBarrier({ type: "error", code: "malformed", message: "bad summary" })).toBe(false);
    const barrier = requests.request("peers", listPeers, true);
    expect(requests.rejectBarrier({ type: "error", code: "malformed", message: "bad summary" })).toBe(true);
    await expect(barrier).rejects.toMatchObject({ code: "malformed" });
    expect(requests.size).toBe(1);
    requests.failAll(new ClientError("closed", "bye"));
    await expect(plain).rejects.toMatchObject({ code: "closed" });
  });

  it("fails at once when not connected, and times out when unanswered", async () => {
    const link = fakeLink(false);
    const requests = new Requests(link, 5_000);
    await expect(requests.request("peers", listPeers)).rejects.toMatchObject({
      code: "not_connected",
      message: expect.stringMatching(/ECONNREFUSED/),
    });
    expect(link.socket.sent).toEqual([]);
    link.authenticated = true;
    const pending = requests.request("peers", listPeers);
    const assertion = expect(pending).rejects.toMatchObject({ code: "timeout" });
    await tick(5_000);
    await assertion;
    expect(requests.size).toBe(0);
  });
});
