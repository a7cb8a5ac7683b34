// The periodic revocation check at bounded cost per event-loop turn: live ids read REVOCATION_CHECK_CHUNK at a time,
// one read per turn, every id exactly once; a revoked id found in any chunk is cut through the live index.
import { describe, expect, it, vi } from "vitest";
import { LiveSessions } from "../../src/ws/live-sessions.js";
import { REVOCATION_CHECK_CHUNK, RevocationWatch } from "../../src/ws/revocation.js";
import type { Session } from "../../src/ws/session.js";
import type { HubState } from "../../src/ws/state.js";

function fakeState(count: number, revokedIds: ReadonlySet<string>) {
  const live = new LiveSessions();
  for (let i = 0; i < count; i++)
    live.set(`m${i}`, { me: { meshId: `mesh-${i % 3}` }, closed: false } as unknown as Session);
  const log: string[] = [];
  const reads: string[][] = [];
  const store = {
    revokedAmong: vi.fn(async (ids: readonly string[]) => {
      reads.push([...ids]);
      log.push(`read ${ids.length}`);
      return ids.filter((id) => revokedIds.has(id));
    }),
  };
  const retain = vi.fn();
  const state = {
    live,
    membership: { retain },
    ctx: { store, clock: { now: () => Date.now() } },
  } as unknown as HubState;
  return { state, live, log, reads, retain };
}

describe("revocation check", () => {
  it("reads the live ids in chunks, one per event-loop turn, and cuts what any chunk finds", async () => {
    const count = 2 * REVOCATION_CHECK_CHUNK + 321;
    const lastChunkId = `m${count - 1}`;
    const { state, live, log, reads, retain } = fakeState(count, new Set(["m3", lastChunkId]));
    const watch = new RevocationWatch(state);
    const revoked = vi.spyOn(watch, "revoked").mockImplementation(() => {});
    setImmediate(() => log.push("other work"));
    await watch.checkLive();

    expect(reads.map((ids) => ids.length)).toEqual([REVOCATION_CHECK_CHUNK, REVOCATION_CHECK_CHUNK, 321]);
    expect(log.indexOf("other work")).toBe(1);
    expect(new Set(reads.flat())).toEqual(new Set(live.keys()));
    expect(revoked.mock.calls).toEqual([[["m3"]], [[lastChunkId]]]);
    // Snapshots are pruned against the meshes with a live session here.
    const kept = retain.mock.calls[0]![0] as Pick<ReadonlySet<string>, "has">;
    expect(kept.has("mesh-2")).toBe(true);
    expect(kept.has("mesh-9")).toBe(false);
  });

  it("reads nothing when nobody is connected", async () => {
    const { state, reads } = fakeState(0, new Set());
    await new RevocationWatch(state).checkLive();
    expect(reads).toEqual([]);
  });

  it("cuts the live connection of each revoked member found through the index, not a closed one", () => {
    const { state, live } = fakeState(5, new Set());
    (live.get("m2") as unknown as { closed: boolean }).closed = true;
    const watch = new RevocationWatch(state);
    const cut = vi.spyOn(watch, "cut").mockImplementation(() => {});
    watch.revoked(["m1", "m2", "m-not-here"]);
    expect(cut.mock.calls).toEqual([[live.get("m1")]]);
    expect(watch.isRecentlyRevoked("m-not-here")).toBe(true);
  });
});
