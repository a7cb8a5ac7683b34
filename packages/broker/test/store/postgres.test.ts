// Runs the Store contract on PostgreSQL (when DATABASE_URL is set) plus PostgreSQL-only behaviour:
// concurrent migrate, multi-broker claims, LISTEN/NOTIFY wake-ups, outage and recovery.
import pg from "pg";
import { MIGRATIONS } from "../../src/store/sql/migrations.js";
import { afterEach, describe, expect, it } from "vitest";
import {
  openStore,
  PostgresStore,
  SchemaTooNewError,
  StoreUnavailableError,
  type Store,
} from "../../src/store/index.js";
import { registerStoreContract, type StoreHarness } from "./contract.js";
import { addMember, id, makeMesh, message, presence, T0 } from "./fixtures.js";
import {
  DATABASE_URL,
  dropSchema,
  holdOnline,
  openIsolated,
  TcpProxy,
  uniqueSchema,
  waitFor,
} from "./pg-harness.js";

if (!DATABASE_URL) {
  console.warn("PostgreSQL store suite skipped: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/test");
}

describe.skipIf(!DATABASE_URL)("postgres store", () => {
  const url = DATABASE_URL ?? "";
  let cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups = [];
  });
  async function isolated(
    options: Parameters<typeof openIsolated>[1] = {},
  ): Promise<StoreHarness & { schema: string }> {
    const h = await openIsolated(url, options);
    cleanups.push(h.dispose);
    return h;
  }
  /** A second broker on the same schema (closed after the test; the owner drops the schema). */
  async function sibling(schema: string, target = url): Promise<Store> {
    const store = openStore(target, { schema, poolSize: 8 });
    cleanups.push(() => store.close());
    return store;
  }

  /**
   * Two brokers' stores on one fresh schema: `direct` (migrated) and `viaProxy`, connected through a
   * TCP proxy the test can stop and start to cut that broker off PostgreSQL, LISTEN included.
   */
  async function storesBesideAProxy(): Promise<{ proxy: TcpProxy; direct: Store; viaProxy: PostgresStore }> {
    const u = new URL(url);
    const proxy = new TcpProxy(u.hostname, Number(u.port || 5432));
    await proxy.start();
    cleanups.push(() => proxy.stop());
    const schema = uniqueSchema();
    cleanups.push(() => dropSchema(url, schema));
    const direct = await sibling(schema);
    await direct.migrate();
    const viaProxy = (await sibling(schema, proxy.url(url))) as PostgresStore;
    return { proxy, direct, viaProxy };
  }

  registerStoreContract("postgres", () => openIsolated(url));

  it("openStore picks PostgreSQL for postgres:// and postgresql:// URLs", async () => {
    for (const target of [url, url.replace(/^postgres(ql)?:/, "postgresql:")]) {
      const store = openStore(target, { schema: uniqueSchema() });
      expect(store.kind).toBe("postgres");
      expect(store).toBeInstanceOf(PostgresStore);
      await store.close();
    }
  });

  it("rejects a schema name that is not a plain identifier", () => {
    expect(() => openStore(url, { schema: "x; DROP TABLE members" })).toThrow(/invalid PostgreSQL schema/);
    expect(() => openStore(url, { schema: "Upper" })).toThrow(/invalid PostgreSQL schema/);
  });

  it("two brokers migrating one fresh database at once apply each version exactly once", async () => {
    const schema = uniqueSchema();
    cleanups.push(() => dropSchema(url, schema));
    const stores = [await sibling(schema), await sibling(schema), await sibling(schema)];
    await Promise.all(stores.map((s) => s.migrate()));
    await stores[0]?.migrate();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const { rows } = await admin.query(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
      expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
    } finally {
      await admin.end();
    }
  });

  it("refuses a database migrated by a newer claudemesh", async () => {
    const h = await isolated();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(
      `INSERT INTO ${h.schema}.schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)`,
    );
    await admin.end();
    await expect(h.store.migrate()).rejects.toBeInstanceOf(SchemaTooNewError);
  });

  it("4 brokers claiming one queue concurrently never share a delivery", async () => {
    const h = await isolated();
    const f = await makeMesh(h.store);
    const bob = await addMember(h.store, f.mesh.id, "bob");
    await h.store.enqueueMessages(
      Array.from({ length: 1000 }, () => message(f.mesh.id, f.owner.id, [bob.id])),
    );
    const brokers = [h.store, await sibling(h.schema), await sibling(h.schema), await sibling(h.schema)];
    const seen: string[] = [];
    await Promise.all(
      brokers.map(async (store, i) => {
        for (let round = 0; round < 500; round++) {
          const rows = await store.claimDeliveries({
            recipientMemberId: bob.id,
            priorities: ["now", "next", "low"],
            leaseOwner: `broker-${i}`,
            now: T0,
            leaseMs: 30_000,
            limit: 10,
          });
          if (rows.length === 0) return;
          seen.push(...rows.map((r) => r.messageId));
        }
      }),
    );
    expect(seen).toHaveLength(1000);
    expect(new Set(seen).size).toBe(1000);
  });

  it("an enqueue on one broker wakes listeners of the broker holding the recipient; local listeners are woken once", async () => {
    const h = await isolated();
    const other = (await sibling(h.schema)) as PostgresStore;
    const f = await makeMesh(h.store);
    const bob = await addMember(h.store, f.mesh.id, "bob");
    await holdOnline(other, "broker-other", [bob.id]);
    await holdOnline(h.store, "broker-self", [f.owner.id]);
    const remote: string[][] = [];
    const local: string[][] = [];
    other.onDeliveries((ids) => remote.push([...ids]));
    h.store.onDeliveries((ids) => local.push([...ids]));
    await other.whenListening();
    await (h.store as PostgresStore).whenListening();
    await h.store.enqueueMessages([message(f.mesh.id, f.owner.id, [bob.id])]);
    expect(local).toEqual([[bob.id]]);
    await waitFor(() => remote.length > 0);
    expect(remote).toEqual([[bob.id]]);
    // A recipient held by the enqueuing broker itself is woken in-process only: no NOTIFY comes back
    // to it, and the other broker hears nothing of it. The next wake-up of bob sequences the check.
    await h.store.enqueueMessages([message(f.mesh.id, f.owner.id, [f.owner.id])]);
    await h.store.enqueueMessages([message(f.mesh.id, f.owner.id, [bob.id])]);
    await waitFor(() => remote.length > 1);
    expect(remote).toEqual([[bob.id], [bob.id]]);
    expect(local).toEqual([[bob.id], [f.owner.id], [bob.id]]);
  });

  it("a receipt stored unpushed on one broker wakes the other broker's receipt listeners, once", async () => {
    const h = await isolated();
    const other = (await sibling(h.schema)) as PostgresStore;
    const f = await makeMesh(h.store);
    const bob = await addMember(h.store, f.mesh.id, "bob");
    await holdOnline(other, "broker-other", [bob.id, f.owner.id]);
    const remote: string[][] = [];
    const remoteDeliveries: string[][] = [];
    other.onReceipts((ids) => remote.push([...ids]));
    other.onDeliveries((ids) => remoteDeliveries.push([...ids]));
    await other.whenListening();
    const m = message(f.mesh.id, f.owner.id, [bob.id]);
    await h.store.enqueueMessages([m]);
    await waitFor(() => remoteDeliveries.length > 0);
    await h.store.recordReceipts({ recipientMemberId: bob.id, delivered: [m.messageId], shown: [], now: T0 });
    await waitFor(() => remote.length > 0);
    expect(remote).toEqual([[f.owner.id]]);
    // A receipt wake-up is not a delivery wake-up.
    expect(remoteDeliveries).toEqual([[bob.id]]);
    const pulled = await other.takeReceipts(f.owner.id, 10);
    expect(pulled.map((r) => [r.messageId, r.state, r.recipientPubkey])).toEqual([
      [m.messageId, "delivered", bob.pubkey],
    ]);
    expect(await h.store.takeReceipts(f.owner.id, 10)).toEqual([]);
  });

  it("two brokers storing one send id at once: exactly one is stored, the other names it", async () => {
    const h = await isolated();
    const other = await sibling(h.schema);
    const f = await makeMesh(h.store);
    const bob = await addMember(h.store, f.mesh.id, "bob");
    for (let round = 0; round < 10; round++) {
      const a = { ...message(f.mesh.id, f.owner.id, [bob.id]), clientId: `race-${round}` };
      const b = { ...message(f.mesh.id, f.owner.id, [bob.id]), clientId: `race-${round}` };
      const [ra, rb] = await Promise.all([h.store.enqueueMessages([a]), other.enqueueMessages([b])]);
      const named = [...ra.duplicates.values(), ...rb.duplicates.values()];
      expect(named).toHaveLength(1);
      expect([a.messageId, b.messageId]).toContain(named[0]);
    }
    expect(await h.store.countPending(bob.id)).toBe(10);
  });

  it("an enqueue racing an uncommitted revocation waits for it and then stores nothing (SPEC §2)", async () => {
    const h = await isolated();
    const f = await makeMesh(h.store);
    const bob = await addMember(h.store, f.mesh.id, "bob");
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    cleanups.push(() => admin.end());
    await admin.query("BEGIN");
    await admin.query(`UPDATE ${h.schema}.members SET revoked_at = $1 WHERE id = $2`, [T0 + 1, bob.id]);
    const late = { ...message(f.mesh.id, bob.id, [f.owner.id]), clientId: "late" };
    let settled = false;
    const enqueued = h.store.enqueueMessages([late]).finally(() => {
      settled = true;
    });
    // Until the enqueue is seen blocked by the revocation's transaction (or, without the lock, done). The
    // blocked statement may show as the enqueue's own text or its COMMIT, so ask who it waits for instead.
    const waiting = async () =>
      settled ||
      (
        await admin.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE pg_backend_pid() = ANY (pg_blocking_pids(pid))",
        )
      ).rows[0].n > 0;
    await waitFor(waiting, 5_000);
    await admin.query("COMMIT");
    const result = await enqueued;
    expect(result.revoked).toEqual(new Set([late.messageId]));
    expect(await h.store.countPending(f.owner.id)).toBe(0);
  });

  it("wake-ups for hundreds of recipients are split under the NOTIFY size limit", async () => {
    const h = await isolated();
    const other = (await sibling(h.schema)) as PostgresStore;
    const f = await makeMesh(h.store);
    const members = await Promise.all(
      Array.from({ length: 400 }, (_, i) => addMember(h.store, f.mesh.id, `m${i}`)),
    );
    await holdOnline(
      other,
      "broker-other",
      members.map((m) => m.id),
    );
    const received = new Set<string>();
    let notifications = 0;
    other.onDeliveries((ids) => {
      notifications++;
      for (const memberId of ids) received.add(memberId);
    });
    await other.whenListening();
    await h.store.enqueueMessages([
      message(
        f.mesh.id,
        f.owner.id,
        members.map((m) => m.id),
        { targetSpec: "*" },
      ),
    ]);
    await waitFor(() => received.size === 400);
    expect(notifications).toBeGreaterThan(1);
  });

  it("batches' deliveries are stored in the batches' order, rows leased to another broker's connection included", async () => {
    const h = await isolated();
    const f = await makeMesh(h.store);
    const bob = await addMember(h.store, f.mesh.id, "bob");
    const carol = await addMember(h.store, f.mesh.id, "carol");
    await h.store.upsertPresence(presence(bob.id, { brokerId: "bholder", presenceId: "bholder-c1" }));
    const batch = Array.from({ length: 3_000 }, (_, i) => {
      const m = message(f.mesh.id, i % 2 === 0 ? f.owner.id : carol.id, [bob.id, carol.id]);
      for (const d of m.deliveries) d.remoteLeaseUntil = T0 + 60_000;
      return m;
    });
    // In batches, often enough that each pooled connection runs the prepared statement past the
    // point where PostgreSQL may switch it to a generic plan.
    for (let i = 0; i < batch.length; i += 100) await h.store.enqueueMessages(batch.slice(i, i + 100));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (const who of [bob.id, carol.id]) {
        const { rows } = await client.query(
          `SELECT message_id, lease_owner FROM ${h.schema}.deliveries WHERE recipient_member_id = $1 ORDER BY seq`,
          [who],
        );
        expect(rows.map((r: { message_id: string }) => r.message_id)).toEqual(batch.map((m) => m.messageId));
        // bob's rows went to his connection on the other broker; carol is online nowhere.
        expect(new Set(rows.map((r: { lease_owner: string | null }) => r.lease_owner))).toEqual(
          new Set([who === bob.id ? "bholder-c1" : null]),
        );
      }
    } finally {
      await client.end();
    }
  });

  it("a batch of more deliveries than a VALUES list could bind (7,000 × 11 > 65,535) is stored atomically", async () => {
    const h = await isolated();
    const f = await makeMesh(h.store);
    const bob = await addMember(h.store, f.mesh.id, "bob");
    const batch = Array.from({ length: 7_000 }, () => message(f.mesh.id, f.owner.id, [bob.id]));
    await h.store.enqueueMessages(batch);
    expect(await h.store.countPending(bob.id)).toBe(7_000);
    const first = await h.store.claimDeliveries({
      recipientMemberId: bob.id,
      priorities: ["next"],
      leaseOwner: "o",
      now: T0,
      leaseMs: 1,
      limit: 3,
    });
    expect(first.map((r) => r.messageId)).toEqual(batch.slice(0, 3).map((m) => m.messageId));
    // A failing row rolls the whole batch back: the last message names an unknown recipient.
    const bad = [
      ...Array.from({ length: 7_000 }, () => message(f.mesh.id, f.owner.id, [bob.id])),
      message(f.mesh.id, f.owner.id, ["ghost"]),
    ];
    await expect(h.store.enqueueMessages(bad)).rejects.toThrow(/foreign key/);
    expect(await h.store.countPending(bob.id)).toBe(7_000);
  });

  it("an unreachable server: ping() is false and every method rejects StoreUnavailableError", async () => {
    const proxy = new TcpProxy("127.0.0.1", 1);
    await proxy.start();
    const port = proxy.port;
    await proxy.stop(); // nothing listens on `port` now
    const store = openStore(proxy.url(url), { schema: uniqueSchema(), connectTimeoutMs: 1_000 });
    cleanups.push(() => store.close());
    expect(port).toBeGreaterThan(0);
    expect(await store.ping()).toBe(false);
    await expect(store.migrate()).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.getMesh("m")).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(
      store.redeemInvite({
        meshId: "m",
        inviteId: "i",
        maxUses: 1,
        memberId: "x",
        pubkey: "a".repeat(64),
        displayName: "x",
        role: "member",
        now: 1,
      }),
    ).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.enqueueMessages([message("m", "a", ["b"])])).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    await expect(store.enqueueMessages([message("m", "a", ["b"])])).rejects.toThrow(
      /PostgreSQL is unavailable \(ECONNREFUSED\)/,
    );
  });

  it("survives PostgreSQL going away and recovers without a restart, LISTEN included", async () => {
    const { proxy, direct, viaProxy } = await storesBesideAProxy();
    const f = await makeMesh(direct);
    const bob = await addMember(direct, f.mesh.id, "bob");
    await holdOnline(viaProxy, "broker-proxied", [f.owner.id]);
    const woken: string[][] = [];
    viaProxy.onDeliveries((ids) => woken.push([...ids]));
    await viaProxy.whenListening();
    // Pool connections exist (idle) before the outage.
    await Promise.all([
      viaProxy.getMesh(f.mesh.id),
      viaProxy.countPending(bob.id),
      viaProxy.listMembers(f.mesh.id),
    ]);

    await proxy.stop();
    expect(await viaProxy.ping()).toBe(false);
    await expect(viaProxy.getMesh(f.mesh.id)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(viaProxy.enqueueMessages([message(f.mesh.id, f.owner.id, [bob.id])])).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    // Enqueued elsewhere while this broker's LISTEN is down: the NOTIFY is lost to it.
    const missed = message(f.mesh.id, f.owner.id, [bob.id]);
    await direct.enqueueMessages([missed]);

    await proxy.start();
    await waitFor(() => viaProxy.ping());
    expect(await viaProxy.getMesh(f.mesh.id)).toEqual(f.mesh);
    await viaProxy.whenListening();
    // After LISTEN comes back, recipients with undelivered rows are woken (the missed NOTIFY).
    await waitFor(() => woken.some((ids) => ids.includes(bob.id)));
    woken.length = 0;
    await direct.enqueueMessages([message(f.mesh.id, f.owner.id, [f.owner.id])]);
    await waitFor(() => woken.some((ids) => ids.includes(f.owner.id)));
    expect(await viaProxy.countPending(bob.id)).toBe(1);
    void id;
  });

  it("a row leased here whose notification LISTEN missed is handed over once LISTEN is back", async () => {
    const { proxy, direct, viaProxy } = await storesBesideAProxy();
    direct.attachBroker("bsender");
    const f = await makeMesh(direct);
    const bob = await addMember(direct, f.mesh.id, "bob");
    const owner = "bholder-conn1";
    viaProxy.attachBroker("bholder");
    await viaProxy.upsertPresence(
      presence(bob.id, { brokerId: "bholder", presenceId: owner, status: "idle" }),
    );
    const leased: string[] = [];
    viaProxy.onLeasedDeliveries((rows) => leased.push(...rows.map((r) => `${r.messageId}@${r.leaseOwner}`)));
    await viaProxy.whenListening();
    const sent = () => {
      const m = message(f.mesh.id, f.owner.id, [bob.id]);
      m.deliveries[0]!.remoteLeaseUntil = Date.now() + 60_000;
      return m;
    };
    // Heard while LISTEN is up.
    const heard = sent();
    await direct.enqueueMessages([heard]);
    await waitFor(() => leased.length === 1);
    expect(leased).toEqual([`${heard.messageId}@${owner}`]);

    await proxy.stop();
    expect(await viaProxy.ping()).toBe(false);
    const missed = sent();
    await direct.enqueueMessages([missed]);
    await proxy.start();
    await waitFor(() => viaProxy.ping());
    await viaProxy.whenListening();
    // Both rows are still leased to the connection here; the listener skips the one it pushed.
    await waitFor(() => leased.includes(`${missed.messageId}@${owner}`));
    expect(leased.slice(1).sort()).toEqual(
      [`${heard.messageId}@${owner}`, `${missed.messageId}@${owner}`].sort(),
    );
  });
});
