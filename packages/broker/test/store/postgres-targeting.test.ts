// PostgreSQL: wake-ups go only to the brokers holding a recipient online (each broker's own channel),
// a recipient whose presence commits while an enqueue runs is still woken, and relayed hooks and
// their answers travel between brokers (shared channel; the waiting broker's own channel).
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import type { PostgresStore } from "../../src/store/index.js";
import { openStore, type HookAnswer, type HookNotice, type Store } from "../../src/store/index.js";
import { addMember, makeMesh, message, T0 } from "./fixtures.js";
import { DATABASE_URL, holdOnline, openIsolated, waitFor } from "./pg-harness.js";

describe.skipIf(!DATABASE_URL)("postgres store: targeted wake-ups and relayed hooks", () => {
  const url = DATABASE_URL ?? "";
  let cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups = [];
  });

  /** A sender store and two more brokers on the same schema: `holder` and `bystander`. */
  async function world() {
    const h = await openIsolated(url);
    cleanups.push(h.dispose);
    const sibling = (): PostgresStore => {
      const store = openStore(url, { schema: h.schema, poolSize: 4 }) as PostgresStore;
      cleanups.push(() => store.close());
      return store;
    };
    const sender = h.store as PostgresStore;
    const holder = sibling();
    const bystander = sibling();
    sender.attachBroker("broker-sender");
    const f = await makeMesh(sender);
    const bob = await addMember(sender, f.mesh.id, "bob");
    const carol = await addMember(sender, f.mesh.id, "carol");
    const dave = await addMember(sender, f.mesh.id, "dave");
    await holdOnline(holder, "broker-holder", [bob.id]);
    await holdOnline(bystander, "broker-bystander", [carol.id]);
    return { schema: h.schema, sender, holder, bystander, f, bob, carol, dave };
  }

  /** Every wake-up of `kind` a store's listeners get, as lists of ids. */
  function record(store: Store, kind: "deliveries" | "receipts"): string[][] {
    const seen: string[][] = [];
    const push = (ids: readonly string[]) => seen.push([...ids]);
    if (kind === "deliveries") store.onDeliveries(push);
    else store.onReceipts(push);
    return seen;
  }

  it("a broker that does not hold the recipient gets no delivery wake-up; a recipient online nowhere wakes nobody", async () => {
    const w = await world();
    const atHolder = record(w.holder, "deliveries");
    const atBystander = record(w.bystander, "deliveries");
    await Promise.all([w.holder.whenListening(), w.bystander.whenListening()]);
    // bob (held by `holder`) and dave (online nowhere) in one batch, then one for carol (held by
    // `bystander`): its arrival there shows the earlier NOTIFYs have been delivered too (commit order).
    await w.sender.enqueueMessages([
      message(w.f.mesh.id, w.f.owner.id, [w.bob.id]),
      message(w.f.mesh.id, w.f.owner.id, [w.dave.id]),
    ]);
    await w.sender.enqueueMessages([message(w.f.mesh.id, w.f.owner.id, [w.carol.id])]);
    await waitFor(() => atBystander.length > 0 && atHolder.length > 0);
    expect(atHolder).toEqual([[w.bob.id]]);
    expect(atBystander).toEqual([[w.carol.id]]);
  });

  it("receipt wake-ups go only to the broker holding the sender", async () => {
    const w = await world();
    const atHolder = record(w.holder, "receipts");
    const atBystander = record(w.bystander, "receipts");
    await Promise.all([w.holder.whenListening(), w.bystander.whenListening()]);
    // bob (held by `holder`) sends to dave; dave's ack stores a receipt bob has to pull.
    const m = message(w.f.mesh.id, w.bob.id, [w.dave.id]);
    await w.sender.enqueueMessages([m]);
    await w.sender.recordReceipts({
      recipientMemberId: w.dave.id,
      delivered: [m.messageId],
      shown: [],
      now: T0,
    });
    // Then one for carol, held by `bystander`, to sequence the check.
    const c = message(w.f.mesh.id, w.carol.id, [w.dave.id]);
    await w.sender.enqueueMessages([c]);
    await w.sender.recordReceipts({
      recipientMemberId: w.dave.id,
      delivered: [c.messageId],
      shown: [],
      now: T0,
    });
    await waitFor(() => atBystander.length > 0 && atHolder.length > 0);
    expect(atHolder).toEqual([[w.bob.id]]);
    expect(atBystander).toEqual([[w.carol.id]]);
  });

  it("a recipient whose presence commits while the enqueue runs is woken after the commit", async () => {
    const w = await world();
    const late = openStore(url, { schema: w.schema, poolSize: 2 }) as PostgresStore;
    cleanups.push(() => late.close());
    late.attachBroker("broker-late");
    const woken = record(late, "deliveries");
    await late.whenListening();
    // Stall the enqueue after its snapshot was taken: its sender check waits on this row lock.
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    cleanups.push(() => admin.end());
    await admin.query("BEGIN");
    await admin.query(`SELECT id FROM ${w.schema}.members WHERE id = $1 FOR UPDATE`, [w.f.owner.id]);
    let settled = false;
    const enqueued = w.sender
      .enqueueMessages([message(w.f.mesh.id, w.f.owner.id, [w.dave.id])])
      .finally(() => {
        settled = true;
      });
    await waitFor(
      async () =>
        (
          await admin.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE pg_backend_pid() = ANY (pg_blocking_pids(pid))",
          )
        ).rows[0].n > 0,
    );
    expect(settled).toBe(false);
    // dave's hello on broker-late commits its presence now; its drain would run before the enqueue
    // commits and find nothing. The enqueue's snapshot predates the presence: it sees dave offline.
    await holdOnline(late, "broker-late", [w.dave.id]);
    await admin.query("COMMIT");
    await enqueued;
    await waitFor(() => woken.length > 0);
    expect(woken).toEqual([[w.dave.id]]);
  });

  it("a relayed hook reaches every broker; the answer reaches only the broker it is addressed to", async () => {
    const w = await world();
    const notices: HookNotice[] = [];
    w.holder.onHookNotices((n) => notices.push(n));
    const answersAtSender: HookAnswer[] = [];
    const answersAtBystander: HookAnswer[] = [];
    w.sender.onHookAnswers((a) => answersAtSender.push(a));
    w.bystander.onHookAnswers((a) => answersAtBystander.push(a));
    await Promise.all([w.holder.whenListening(), w.sender.whenListening(), w.bystander.whenListening()]);
    const notice: HookNotice = {
      requestId: "req-1",
      fromBrokerId: "broker-sender",
      memberId: w.bob.id,
      meshId: w.f.mesh.id,
      pubkey: w.bob.pubkey,
      status: "working",
      at: T0,
    };
    const holderRow = await w.sender.relayHookStatus(
      {
        meshId: w.f.mesh.id,
        pubkey: w.bob.pubkey,
        status: "working",
        cwd: "/w",
        pid: 1,
        sessionId: null,
        receivedAt: T0,
      },
      notice,
    );
    expect(holderRow?.brokerId).toBe("broker-holder");
    await waitFor(() => notices.length > 0);
    expect(notices).toEqual([notice]);
    // Told again (no stash): every broker hears it once more.
    await w.sender.noticeHook(notice);
    await waitFor(() => notices.length > 1);
    expect(notices).toEqual([notice, notice]);
    const answer: HookAnswer = { requestId: "req-1", toBrokerId: "broker-sender", result: "applied" };
    await w.holder.answerHookStatus(answer);
    // Then one to the bystander, to sequence the check.
    await w.holder.answerHookStatus({ ...answer, toBrokerId: "broker-bystander" });
    await waitFor(() => answersAtBystander.length > 0 && answersAtSender.length > 0);
    expect(answersAtSender).toEqual([answer]);
    expect(answersAtBystander).toEqual([{ ...answer, toBrokerId: "broker-bystander" }]);
  });
});
