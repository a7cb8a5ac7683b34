// RemotePushes alone, with a fake store: which rows another broker leased to a connection here are
// pushed from the row, and which leases are given back (and when the next row must wait for that).
import { describe, expect, it } from "vitest";
import type { BrokerContext } from "../../src/context.js";
import { resolveOptions } from "../../src/options.js";
import { createMetrics } from "../../src/metrics.js";
import type { LeasedDelivery } from "../../src/store/types.js";
import { RemotePushes } from "../../src/ws/remote-push.js";
import { PushLedger } from "../../src/ws/drain.js";
import type { DirectPushState } from "../../src/ws/direct-push.js";
import type { Session } from "../../src/ws/session.js";

const NOW = 1_000_000;

interface FakeSession {
  presenceId: string;
  closed: boolean;
  peer: { online: boolean; status: { status: "idle" | "working" | "dnd"; source: "manual"; at: number } };
  drainer: {
    idle: boolean;
    pushed: string[];
    woken: number;
    pushedDirectly(id: string, until: number, raw: string): void;
    wake(): void;
  };
}

function fakeDrainer(idle: boolean): FakeSession["drainer"] {
  return {
    idle,
    pushed: [],
    woken: 0,
    pushedDirectly(id) {
      this.pushed.push(id);
    },
    wake() {
      this.woken++;
    },
  };
}

function setup(options: { releaseFails?: boolean } = {}) {
  const released: Array<{ owner: string; ids: readonly string[]; settle: () => void }> = [];
  const metrics = createMetrics();
  const live = new Map<string, FakeSession>();
  const ctx = {
    clock: { now: () => NOW },
    options: resolveOptions({}, {}),
    metrics,
    log: { debug() {}, info() {}, warn() {}, error() {} },
    store: {
      releaseLeases: (owner: string, ids: readonly string[]) =>
        new Promise<number>((resolve, reject) =>
          released.push({
            owner,
            ids,
            settle: () => (options.releaseFails ? reject(new Error("store down")) : resolve(ids.length)),
          }),
        ),
    },
  } as unknown as BrokerContext;
  const ledger = new PushLedger();
  const state = {
    ctx,
    live: live as unknown as ReadonlyMap<string, Session>,
    membership: { peek: () => undefined },
    ledger,
  };
  const pushes = new RemotePushes(state as unknown as DirectPushState);
  const session = (memberId: string, overrides: Partial<FakeSession> = {}): FakeSession => {
    const s: FakeSession = {
      presenceId: `b1~${memberId}`,
      closed: false,
      peer: { online: true, status: { status: "idle", source: "manual", at: NOW } },
      drainer: fakeDrainer(true),
      ...overrides,
    };
    live.set(memberId, s);
    return s;
  };
  return { pushes, released, metrics, session, ledger };
}

function row(memberId: string, messageId: string, overrides: Partial<LeasedDelivery> = {}): LeasedDelivery {
  return {
    seq: 1,
    messageId,
    meshId: "mesh",
    senderMemberId: "alice",
    senderPubkey: "a".repeat(64),
    senderName: "alice",
    recipientMemberId: memberId,
    targetSpec: "direct",
    priority: "next",
    nonce: "bm9uY2U=",
    ciphertext: "Y2lwaGVy",
    body: null,
    createdAt: NOW,
    leaseOwner: `b1~${memberId}`,
    leaseUntil: NOW + 30_000,
    ...overrides,
  };
}

describe("RemotePushes", () => {
  it("pushes a row leased to the connection it serves, idle and letting the priority through", () => {
    const { pushes, released, session, metrics } = setup();
    const bob = session("bob");
    pushes.received([row("bob", "m1")]);
    expect(bob.drainer.pushed).toEqual(["m1"]);
    expect(released).toEqual([]);
    expect(metrics.value("remote_direct_pushes_total")).toBe(1);
  });

  it("skips a row it pushed already and that is not acked yet (handed over again after a LISTEN gap)", () => {
    const { pushes, released, session, ledger } = setup();
    const bob = session("bob");
    ledger.pushed("bob", "m1");
    pushes.received([row("bob", "m1"), row("bob", "m2")]);
    expect(bob.drainer.pushed).toEqual(["m2"]);
    expect(released).toEqual([]);
  });

  it.each([
    ["no connection here", () => undefined],
    [
      "another connection of the member",
      (s: ReturnType<typeof setup>) => s.session("bob", { presenceId: "b1~newer" }),
    ],
    ["a closed connection", (s: ReturnType<typeof setup>) => s.session("bob", { closed: true })],
    [
      "a busy delivery loop",
      (s: ReturnType<typeof setup>) => s.session("bob", { drainer: fakeDrainer(false) }),
    ],
    [
      "a status holding the priority back",
      (s: ReturnType<typeof setup>) =>
        s.session("bob", { peer: { online: true, status: { status: "dnd", source: "manual", at: NOW } } }),
    ],
  ])("gives the lease back for %s", (_, arrange) => {
    const s = setup();
    const bob = arrange(s);
    s.pushes.received([row("bob", "m1")]);
    expect(s.released.map((r) => [r.owner, r.ids])).toEqual([["b1~bob", ["m1"]]]);
    expect(bob?.drainer.pushed ?? []).toEqual([]);
    expect(s.metrics.value("remote_leases_returned_total")).toBe(1);
  });

  it("gives a member's leases back one release after another, in order, and pushes none from its lease meanwhile", async () => {
    const { pushes, released, session } = setup();
    const bob = session("bob", { drainer: fakeDrainer(false) });
    pushes.received([row("bob", "m1")]);
    expect(pushes.isReturning("bob")).toBe(true);
    // The loop went idle, but m1 is not claimable again yet: m2 must not overtake it.
    bob.drainer = fakeDrainer(true);
    pushes.received([row("bob", "m2"), row("bob", "m3")]);
    expect(bob.drainer.pushed).toEqual([]);
    // m2 and m3 wait for m1's release: released together first, they could be claimed before it.
    expect(released.map((r) => r.ids)).toEqual([["m1"]]);
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    released[0]!.settle();
    await tick();
    expect(released.map((r) => r.ids)).toEqual([["m1"], ["m2", "m3"]]);
    expect(bob.drainer.woken).toBe(0);
    released[1]!.settle();
    await tick();
    // Done: its loop, which waited for the releases, is woken, and rows may be pushed again.
    expect([pushes.isReturning("bob"), bob.drainer.woken]).toEqual([false, 1]);
    pushes.received([row("bob", "m4")]);
    expect(bob.drainer.pushed).toEqual(["m4"]);
  });

  it("wakes the member's loop when leases it could not give back run out", async () => {
    const { pushes, released, session } = setup({ releaseFails: true });
    const bob = session("bob", { drainer: fakeDrainer(false) });
    pushes.received([row("bob", "m1", { leaseUntil: NOW + 30 })]);
    released[0]!.settle();
    await new Promise((resolve) => setImmediate(resolve));
    expect([pushes.isReturning("bob"), bob.drainer.woken]).toEqual([false, 1]);
    // The fake clock stands still: the wake-up comes 30 ms (+ slack) of real time later.
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(bob.drainer.woken).toBe(2);
  });
});
