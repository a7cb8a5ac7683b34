// listPeers paging (claudemesh extension of list_peers): cursors, the total cap, old brokers, bad arguments.
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { MAX_PEERS_PAGE } from "@claudemesh/protocol";
import { ClientError } from "../src/errors.js";
import type { FakeSocket } from "./helpers/fake-socket.js";
import { connected, identity, peer, tick } from "./helpers/fixtures.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Answers the latest list_peers request with `count` peers named from `start`, then `next`. */
async function answer(socket: FakeSocket, start: number, count: number, next?: string) {
  await tick();
  const request = socket.framesOfType("list_peers").at(-1);
  const peers = Array.from({ length: count }, (_, i) =>
    peer(`${start + i}`.padStart(64, "0"), `p${start + i}`),
  );
  socket.receive({ type: "peers", id: request?.id, peers, ...(next === undefined ? {} : { next }) });
  return request;
}

it("listPeers follows next until the last page, asking full pages after each cursor", async () => {
  const { client, socket } = await connected(identity());
  const listing = client.listPeers();
  expect(await answer(socket, 0, 2, "c1")).toMatchObject({ limit: MAX_PEERS_PAGE });
  expect(await answer(socket, 2, 2, "c2")).toMatchObject({ limit: MAX_PEERS_PAGE, after: "c1" });
  expect(await answer(socket, 4, 1)).toMatchObject({ after: "c2" });
  expect((await listing).map((p) => p.displayName)).toEqual(["p0", "p1", "p2", "p3", "p4"]);
  expect(socket.framesOfType("list_peers")).toHaveLength(3);
  await client.close();
});

it("listPeersBounded stops at max, asks no more than it still needs, and says it truncated", async () => {
  const { client, socket } = await connected(identity());
  const listing = client.listPeersBounded(3);
  expect(await answer(socket, 0, 2, "c1")).toMatchObject({ limit: 3 });
  expect(await answer(socket, 2, 1, "c2")).toMatchObject({ limit: 1, after: "c1" });
  const result = await listing;
  expect(result.truncated).toBe(true);
  expect(result.peers.map((p) => p.displayName)).toEqual(["p0", "p1", "p2"]);
  expect(socket.framesOfType("list_peers")).toHaveLength(2);
  // The whole mesh fits: not truncated.
  const small = client.listPeersBounded(3);
  await answer(socket, 0, 3);
  expect(await small).toMatchObject({ truncated: false });
  await client.close();
});

it("a broker without pages (no next) is answered in one request", async () => {
  const { client, socket } = await connected(identity());
  const listing = client.listPeers();
  await answer(socket, 0, 7);
  expect(await listing).toHaveLength(7);
  expect(socket.framesOfType("list_peers")).toHaveLength(1);
  await client.close();
});

it("listPeersPage passes limit and after, returns next, and refuses limits the broker would", async () => {
  const { client, socket } = await connected(identity());
  const one = client.listPeersPage({ limit: 2, after: "c9" });
  expect(await answer(socket, 0, 2, "c10")).toMatchObject({ type: "list_peers", limit: 2, after: "c9" });
  expect((await one).next).toBe("c10");
  const bare = client.listPeersPage();
  const request = await answer(socket, 0, 1);
  expect(Object.keys(request ?? {}).sort()).toEqual(["id", "type"]);
  expect((await bare).next).toBeNull();
  const sent = socket.framesOfType("list_peers").length;
  for (const limit of [0, MAX_PEERS_PAGE + 1, 1.5]) {
    const err = await client.listPeersPage({ limit }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).code).toBe("invalid_argument");
    expect((err as ClientError).message).toMatch(/limit must be a whole number from 1 to 1000/);
  }
  for (const max of [0, -1, 2.5, Number.NaN]) {
    const err = await client.listPeersBounded(max).catch((e: unknown) => e);
    expect((err as ClientError).code).toBe("invalid_argument");
  }
  expect(socket.framesOfType("list_peers")).toHaveLength(sent);
  await client.close();
});
