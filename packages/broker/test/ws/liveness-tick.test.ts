// The liveness tick (SPEC §3 Liveness) at bounded cost: batched presence writes for every online peer per tick,
// not one store write each; every socket still pinged (a socket that answers stays, its presence row stays fresh),
// even while a slow store phase of an earlier tick is still running.
import { describe, expect, it, vi } from "vitest";
import { STORE_KINDS } from "../helpers/stores.js";
import { startTestBroker } from "../helpers/broker.js";
import { createMeshWithMembers, type Member } from "../helpers/identity.js";
import { connectPeer, type TestPeer } from "../helpers/ws-client.js";
import { until } from "./support.js";

describe.each(STORE_KINDS)("liveness tick (%s)", (kind) => {
  it("writes every online peer's presence in one batched store call per tick", async () => {
    const broker = await startTestBroker({ kind, pingIntervalMs: 100 });
    const peers: TestPeer[] = [];
    try {
      const { members } = await createMeshWithMembers(broker.url, ["a", "b", "c", "d", "e"]);
      for (const m of members as Member[]) peers.push(await connectPeer(broker.wsUrl, m));
      const store = broker.ctx.store;
      const single = vi.spyOn(store, "upsertPresence");
      const batched = vi.spyOn(store, "upsertPresences");
      await until(() => batched.mock.calls.some(([rows]) => rows.length === 5), 5_000, "a batched heartbeat");
      const calls = batched.mock.calls.length;
      // No frame arrived meanwhile, so nothing else wrote presence one row at a time.
      expect(single).not.toHaveBeenCalled();
      const ids = new Set(batched.mock.calls.at(-1)![0].map((row) => row.memberId));
      expect(ids).toEqual(new Set((members as Member[]).map((m) => m.memberId)));
      // Pinged and answering: still connected after several ticks.
      await until(() => batched.mock.calls.length >= calls + 2, 5_000, "more ticks");
      expect(peers.every((p) => p.ws.readyState === p.ws.OPEN)).toBe(true);
      single.mockRestore();
      batched.mockRestore();
    } finally {
      await Promise.all(peers.map((p) => p.close()));
      await broker.stop();
    }
  });

  it("keeps pinging while a slow store phase runs, and starts no second one until it ends", async () => {
    const broker = await startTestBroker({ kind, pingIntervalMs: 100 });
    let peer: TestPeer | undefined;
    let release: (() => void) | undefined;
    try {
      const { members } = await createMeshWithMembers(broker.url, ["a"]);
      peer = await connectPeer(broker.wsUrl, (members as Member[])[0]!);
      const store = broker.ctx.store;
      const stuck = new Promise<string[]>((resolve) => (release = () => resolve([])));
      const check = vi.spyOn(store, "revokedAmong").mockImplementationOnce(() => stuck);
      await until(() => check.mock.calls.length === 1, 5_000, "the revocation check");
      let pings = 0;
      peer.ws.on("ping", () => pings++);
      // Several ticks come due while the check hangs: sockets are still pinged, the store is not asked again.
      await until(() => pings >= 3, 5_000, "pings during the stuck check");
      expect(check.mock.calls.length).toBe(1);
      release!();
      await until(() => check.mock.calls.length >= 2, 5_000, "the next tick's check");
      expect(peer.ws.readyState).toBe(peer.ws.OPEN);
      check.mockRestore();
    } finally {
      release?.(); // shutdown waits for the store phase
      await peer?.close();
      await broker.stop();
    }
  });
});
