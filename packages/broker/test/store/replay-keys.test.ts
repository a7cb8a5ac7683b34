// Replay claims in the store (SPEC §2, §3 check 5): once per key across store instances, expiry, sweep bound, concurrent claims.
import { afterEach, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/index.js";
import { StoreReplayGuard, storedReplayKey } from "../../src/core/replay.js";
import { STORE_KINDS, storeTarget, type StoreTarget } from "../helpers/stores.js";

const T0 = 1_700_000_000_000;
const WINDOW = 60_000;

describe.each(STORE_KINDS)("replay keys (%s)", (kind) => {
  let stores: Store[] = [];
  let target: StoreTarget | undefined;
  afterEach(async () => {
    await Promise.all(stores.map((s) => s.close()));
    stores = [];
    await target?.cleanup();
    target = undefined;
  });

  /** `n` stores opened on one fresh target (n brokers sharing it, or one broker restarting). */
  async function open(n: number): Promise<Store[]> {
    target = await storeTarget(kind);
    const opened: Store[] = [];
    for (let i = 0; i < n; i++) {
      const store = openStore(target.target);
      stores.push(store);
      await store.migrate();
      opened.push(store);
    }
    return opened;
  }

  it("claims a key once while it is live, on any store instance of the target", async () => {
    const [one, two] = (await open(2)) as [Store, Store];
    expect(await one.claimReplayKey("k1", T0 + WINDOW, T0)).toBe(true);
    expect(await one.claimReplayKey("k1", T0 + WINDOW, T0 + 1)).toBe(false);
    expect(await two.claimReplayKey("k1", T0 + WINDOW, T0 + 2)).toBe(false);
    // Still live at the last millisecond of its window.
    expect(await two.claimReplayKey("k1", T0 + 2 * WINDOW, T0 + WINDOW)).toBe(false);
    expect(await two.claimReplayKey("k2", T0 + WINDOW, T0)).toBe(true);
  });

  it("survives closing the store (a broker restart on the same target)", async () => {
    const [first] = (await open(1)) as [Store];
    expect(await first.claimReplayKey("restart", T0 + WINDOW, T0)).toBe(true);
    await first.close();
    stores = [];
    const again = openStore(target!.target);
    stores.push(again);
    await again.migrate();
    expect(await again.claimReplayKey("restart", T0 + WINDOW, T0 + 10)).toBe(false);
  });

  it("lets an expired row be claimed again, and a released key at once", async () => {
    const [store] = (await open(1)) as [Store];
    expect(await store.claimReplayKey("k", T0 + WINDOW, T0)).toBe(true);
    expect(await store.claimReplayKey("k", T0 + 3 * WINDOW, T0 + WINDOW + 1)).toBe(true);
    // The takeover wrote the new expiry: live again until T0 + 3 windows.
    expect(await store.claimReplayKey("k", T0 + 4 * WINDOW, T0 + 2 * WINDOW)).toBe(false);
    await store.releaseReplayKey("k");
    expect(await store.claimReplayKey("k", T0 + 4 * WINDOW, T0 + 2 * WINDOW)).toBe(true);
  });

  it("admits exactly one of many concurrent claims of one key, across two store instances", async () => {
    const [one, two] = (await open(2)) as [Store, Store];
    for (let round = 0; round < 5; round++) {
      const key = `race-${round}`;
      const claims = Array.from({ length: 16 }, (_, i) =>
        (i % 2 === 0 ? one : two).claimReplayKey(key, T0 + WINDOW, T0),
      );
      const results = await Promise.all(claims);
      expect(results.filter(Boolean)).toHaveLength(1);
    }
  });

  it("sweeps expired rows in bounded steps, so the table holds only live keys", async () => {
    const [store] = (await open(1)) as [Store];
    // 12,000 keys of one window (more than two sweep steps), then 50 of a later one.
    const old = Array.from({ length: 12_000 }, (_, i) => `old-${i}`);
    for (let i = 0; i < old.length; i += 500)
      await Promise.all(old.slice(i, i + 500).map((k) => store.claimReplayKey(k, T0 + WINDOW, T0)));
    const later = Array.from({ length: 50 }, (_, i) => `new-${i}`);
    await Promise.all(later.map((k) => store.claimReplayKey(k, T0 + 3 * WINDOW, T0 + 2 * WINDOW)));
    expect(await store.sweepReplayKeys(T0 + 2 * WINDOW)).toBe(old.length);
    expect(await store.sweepReplayKeys(T0 + 2 * WINDOW)).toBe(0);
    // What is left is the live window only: sweeping "at the end of time" counts it.
    expect(await store.sweepReplayKeys(Number.MAX_SAFE_INTEGER)).toBe(later.length);
  });

  it("the retention sweep (sweepMessages) also drops expired replay keys", async () => {
    const [store] = (await open(1)) as [Store];
    await store.claimReplayKey("a", T0 + WINDOW, T0);
    await store.claimReplayKey("b", T0 + 5 * WINDOW, T0);
    await store.sweepMessages(T0 - 7 * 24 * 3_600_000, T0 + 2 * WINDOW);
    expect(await store.sweepReplayKeys(Number.MAX_SAFE_INTEGER)).toBe(1);
  });

  it("StoreReplayGuard: store-recorded claims, fast path from memory, forget gives the claim back", async () => {
    const [one, two] = (await open(2)) as [Store, Store];
    let now = T0;
    const clock = { now: () => now };
    const a = new StoreReplayGuard(one, clock);
    const b = new StoreReplayGuard(two, clock);
    expect(await a.seen("sig", T0 + WINDOW)).toBe(false);
    expect(await a.seen("sig", T0 + WINDOW)).toBe(true);
    expect(await b.seen("sig", T0 + WINDOW)).toBe(true);
    // The store holds the hash, never the raw key.
    expect(await one.claimReplayKey(storedReplayKey("sig"), T0 + WINDOW, now)).toBe(false);
    await a.forget("sig");
    expect(await b.seen("sig", T0 + WINDOW)).toBe(false);
    now = T0 + WINDOW + 1;
    expect(await a.seen("sig", T0 + 2 * WINDOW)).toBe(false);
  });

  it("StoreReplayGuard: a claim the store could not record is not remembered in memory", async () => {
    const [store] = (await open(1)) as [Store];
    let fail = true;
    const flaky = {
      claimReplayKey: (key: string, expiresAt: number, now: number) =>
        fail ? Promise.reject(new Error("storage down")) : store.claimReplayKey(key, expiresAt, now),
      releaseReplayKey: (key: string) => store.releaseReplayKey(key),
    };
    const guard = new StoreReplayGuard(flaky, { now: () => T0 });
    await expect(guard.seen("sig", T0 + WINDOW)).rejects.toThrow("storage down");
    fail = false;
    expect(await guard.seen("sig", T0 + WINDOW)).toBe(false);
  });
});
