// Group commit and the per-connection drain loop against a real SQLite store: batching, order, coalescing, backpressure.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Priority } from "@claudemesh/protocol";
import { openStore, type MemberRow, type Store } from "../../src/store/index.js";
import { createMetrics } from "../../src/metrics.js";
import { createLogger } from "../../src/log.js";
import { GroupCommitter } from "../../src/ws/committer.js";
import { Drainer, PushLedger, SOCKET_HIGH_WATER_BYTES } from "../../src/ws/drain.js";
import { addMember, makeMesh, message } from "../store/fixtures.js";
import { sqliteTarget, type StoreTarget } from "../helpers/stores.js";
import { sleep, until } from "./support.js";

describe("group commit and drain (sqlite)", () => {
  let target: StoreTarget;
  let store: Store;
  let sender: MemberRow;
  let recipient: MemberRow;
  let enqueueCalls: number;
  let claimCalls: number;

  beforeEach(async () => {
    target = await sqliteTarget();
    store = openStore(target.target);
    await store.migrate();
    const { mesh, owner } = await makeMesh(store);
    sender = owner;
    recipient = await addMember(store, mesh.id, "bob");
    enqueueCalls = claimCalls = 0;
    const enqueue = store.enqueueMessages.bind(store);
    store.enqueueMessages = (messages) => {
      enqueueCalls++;
      return enqueue(messages);
    };
    const claim = store.claimDeliveries.bind(store);
    store.claimDeliveries = (options) => {
      claimCalls++;
      return claim(options);
    };
  });
  afterEach(async () => {
    await store.close();
    await target.cleanup();
  });

  const msg = (i: number) =>
    message(sender.meshId, sender.id, [recipient.id], {
      messageId: `m${String(i).padStart(4, "0")}`,
      createdAt: i,
    });

  it("stores sends of one event-loop turn in one transaction, in submit order", async () => {
    const committer = new GroupCommitter(store, 1_000, createMetrics());
    await Promise.all(Array.from({ length: 200 }, (_, i) => committer.submit(msg(i))));
    expect(enqueueCalls).toBe(1);
    const rows = await store.claimDeliveries({
      recipientMemberId: recipient.id,
      priorities: ["now", "next", "low"],
      leaseOwner: "x",
      now: 1,
      leaseMs: 1_000,
      limit: 500,
    });
    expect(rows.map((r) => r.messageId)).toEqual(Array.from({ length: 200 }, (_, i) => msg(i).messageId));
  });

  it("splits at maxBatch and batches what arrives while a write is running", async () => {
    const committer = new GroupCommitter(store, 30, createMetrics());
    await Promise.all(Array.from({ length: 100 }, (_, i) => committer.submit(msg(i))));
    expect(enqueueCalls).toBe(4);
    enqueueCalls = 0;
    const first = committer.submit(msg(100));
    await new Promise((resolve) => setImmediate(resolve)); // first batch is now in flight
    const later = Array.from({ length: 20 }, (_, i) => committer.submit(msg(101 + i)));
    await Promise.all([first, ...later]);
    expect(enqueueCalls).toBe(2);
  });

  it("rejects every send of a failed batch, so none is acked; reports the store's own wake-up", async () => {
    let wakes = 0;
    const unsubscribe = store.onDeliveries(() => wakes++);
    const committer = new GroupCommitter(store, 100, createMetrics(), () => wakes);
    const bad = message(sender.meshId, sender.id, ["no-such-member"]);
    const results = await Promise.allSettled([committer.submit(msg(1)), committer.submit(bad)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    await expect(committer.submit(msg(2))).resolves.toBe(true);
    unsubscribe();
    await expect(committer.submit(msg(3))).resolves.toBe(false);
  });

  function drainer(
    options: { buffered?: () => number; priorities?: Priority[]; heldBack?: () => boolean } = {},
  ) {
    const sent: string[] = [];
    const d = new Drainer(
      {
        memberId: recipient.id,
        presenceId: "presence-1",
        priorities: () => options.priorities ?? ["now", "next", "low"],
        bufferedAmount: options.buffered ?? (() => 0),
        heldBack: options.heldBack,
        send: (raw) => sent.push((JSON.parse(raw) as { messageId: string }).messageId),
      },
      {
        store,
        options: { claimLeaseMs: 60_000, drainBatch: 25 },
        clock: { now: () => Date.now() },
        metrics: createMetrics(),
        log: createLogger({ level: "silent" }),
        ledger: new PushLedger(),
      },
    );
    return { d, sent };
  }

  it("coalesces wake-ups into one loop and pushes in storage order", async () => {
    await store.enqueueMessages(Array.from({ length: 60 }, (_, i) => msg(i)));
    const { d, sent } = drainer();
    d.enable();
    for (let i = 0; i < 100; i++) d.wake();
    await until(() => sent.length === 60, 5_000, "drained");
    await sleep(50);
    // 60 rows at 25 per claim = 3 claims, plus at most one more round for the coalesced wake-ups.
    expect(claimCalls).toBeLessThanOrEqual(4);
    expect(sent).toEqual(Array.from({ length: 60 }, (_, i) => msg(i).messageId));
    await d.stop();
  });

  it("claims nothing while the socket buffer is over the high-water mark", async () => {
    await store.enqueueMessages(Array.from({ length: 10 }, (_, i) => msg(i)));
    let buffered = SOCKET_HIGH_WATER_BYTES + 1;
    const { d, sent } = drainer({ buffered: () => buffered });
    d.enable();
    await sleep(100);
    expect(claimCalls).toBe(0);
    expect(sent).toHaveLength(0);
    buffered = 0;
    await until(() => sent.length === 10, 5_000, "drained after the buffer emptied");
    await d.stop();
  });

  it("claims nothing while held back (leases being given back), is not idle meanwhile, and drains on the next wake", async () => {
    await store.enqueueMessages(Array.from({ length: 5 }, (_, i) => msg(i)));
    let held = true;
    const { d, sent } = drainer({ heldBack: () => held });
    d.enable();
    for (let i = 0; i < 10; i++) d.wake();
    await sleep(100);
    expect([claimCalls, sent.length, d.idle]).toEqual([0, 0, false]);
    held = false;
    d.wake();
    await until(() => sent.length === 5, 5_000, "drained once no longer held back");
    await d.stop();
  });

  it("claims only the priorities the status allows", async () => {
    await store.enqueueMessages([
      message(sender.meshId, sender.id, [recipient.id], { messageId: "n1", priority: "next" }),
      message(sender.meshId, sender.id, [recipient.id], { messageId: "w1", priority: "now" }),
    ]);
    const { d, sent } = drainer({ priorities: ["now"] });
    d.enable();
    await until(() => sent.length === 1, 5_000, "now drained");
    await sleep(50);
    expect(sent).toEqual(["w1"]);
    await d.stop();
  });

  it("does not push before it is enabled (hello_ack goes first)", async () => {
    await store.enqueueMessages([msg(1)]);
    const { d, sent } = drainer();
    d.wake();
    await sleep(50);
    expect(sent).toHaveLength(0);
    d.enable();
    await until(() => sent.length === 1, 5_000, "drained once enabled");
    await d.stop();
  });
});
