// The liveness tick (SPEC §3 Liveness) at bounded cost: one batched presence write for every online peer per tick,
// not one store write each; every socket still pinged (a socket that answers stays, its presence row stays fresh).
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
});
