// Graceful shutdown: SIGTERM/SIGINT close sockets with 1001, mark presences offline, exit 0; close() in-process does the same.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { CLOSE_CODES } from "@claudemesh/protocol";
import { openStore } from "../../src/store/index.js";
import { startTestBroker } from "../helpers/broker.js";
import { get } from "../helpers/http.js";
import { createMeshWithMembers } from "../helpers/identity.js";
import { acksById, directSend } from "../helpers/messages.js";
import { ensureBrokerBuilt, spawnBroker } from "../helpers/process.js";
import { storeTarget } from "../helpers/stores.js";
import { connectPeer } from "../helpers/ws-client.js";

describe("graceful shutdown", () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  beforeAll(() => ensureBrokerBuilt(), 180_000);
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    cleanups.length = 0;
  });

  it.each(["SIGTERM", "SIGINT"] as const)(
    "%s closes every socket with 1001, marks presences offline, flushes acked sends and exits 0",
    async (signal) => {
      const store = await storeTarget("sqlite");
      cleanups.push(() => store.cleanup());
      const broker = await spawnBroker(store.target);
      cleanups.push(() => broker.kill());
      const { members } = await createMeshWithMembers(broker.url, ["alice", "bob", "carol"]);
      const [alice, bob, carol] = members as [
        (typeof members)[number],
        (typeof members)[number],
        (typeof members)[number],
      ];
      const peers = await Promise.all([alice, bob].map((m) => connectPeer(broker.wsUrl, m)));
      for (const p of peers) cleanups.push(() => p.close());
      const online = await (async () => {
        const s = openStore(store.target);
        try {
          return (await s.getPresence(bob.memberId))?.online;
        } finally {
          await s.close();
        }
      })();
      expect(online).toBe(true);

      // Messages to an offline peer, acked before the signal, must survive the shutdown.
      for (let i = 0; i < 20; i++) peers[0]!.send(directSend(alice, carol, `s${i}`, `hello ${i}`));
      await peers[0]!.collect((f) => f.type === "ack", 20, 5_000);
      expect(acksById(peers[0]!).size).toBe(20);

      broker.child.kill(signal);
      const closes = await Promise.all(peers.map((p) => p.closed));
      for (const c of closes) expect(c.code).toBe(CLOSE_CODES.goingAway);
      const exit = await broker.exited;
      expect(exit).toEqual({ code: 0, signal: null });
      const events = broker.logs.map((l) => (JSON.parse(l) as { event: string }).event);
      expect(events).toContain("broker.stopped");

      const after = openStore(store.target);
      try {
        for (const m of [alice, bob]) expect((await after.getPresence(m.memberId))?.online).toBe(false);
        expect(await after.countPending(carol.memberId)).toBe(20);
      } finally {
        await after.close();
      }
    },
    60_000,
  );

  it("close() in-process stops accepting, closes sockets with 1001 and is idempotent", async () => {
    const broker = await startTestBroker();
    cleanups.push(() => broker.stop());
    const { members } = await createMeshWithMembers(broker.url, ["alice"]);
    const peer = await connectPeer(broker.wsUrl, members[0]!);
    cleanups.push(() => peer.close());
    await Promise.all([broker.close(), broker.close()]);
    expect((await peer.closed).code).toBe(CLOSE_CODES.goingAway);
    await expect(get(broker.url, "/health")).rejects.toThrow();
  });

  it("exits 2 with a clear message on a bad option, and 1 when the port is taken", async () => {
    const store = await storeTarget("sqlite");
    cleanups.push(() => store.cleanup());
    const bad = await spawnBroker(store.target, { args: ["--port", "99999"] }).catch((e: Error) => e);
    expect(bad).toBeInstanceOf(Error);
    expect(String(bad)).toMatch(/exited early \(2\)/);

    const first = await spawnBroker(store.target);
    cleanups.push(() => first.kill());
    const second = await spawnBroker(store.target, { port: first.port }).catch((e: Error) => e);
    expect(String(second)).toMatch(/exited early \(1\)/);
    expect(String(second)).toMatch(/broker.start_failed/);
  }, 30_000);
});
