// Display names on PostgreSQL: concurrent joins through several brokers into a large mesh get
// distinct names, and the (mesh_id, name_key) unique index refuses a twin outright.
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { displayNameSkeleton } from "@claudemesh/protocol";
import { openStore, type Store } from "../../src/store/index.js";
import { addMember, id, makeMesh, pubkey, T0 } from "./fixtures.js";
import { DATABASE_URL, openIsolated } from "./pg-harness.js";

describe.skipIf(!DATABASE_URL)("postgres display names", () => {
  const url = DATABASE_URL ?? "";
  let cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups = [];
  });

  it("joins racing on three brokers into a mesh of 1,000 members all get distinct names", async () => {
    const h = await openIsolated(url);
    cleanups.push(h.dispose);
    const brokers: Store[] = [h.store];
    for (let i = 0; i < 2; i++) {
      const store = openStore(url, { schema: h.schema, poolSize: 8 });
      cleanups.push(() => store.close());
      brokers.push(store);
    }
    const f = await makeMesh(h.store);
    for (let i = 1; i < 1000; i++) await addMember(h.store, f.mesh.id, i <= 5 ? "dev" : `m-${i}`);
    const invite = id("inv");
    // `Dev`, `dév` and `dеv` (Cyrillic е) share the skeleton of `dev`: all must be suffixed apart.
    const wanted = ["dev", "Dev", "dév", "d\u0435v"];
    const results = await Promise.all(
      Array.from({ length: 36 }, (_, i) =>
        brokers[i % brokers.length]!.redeemInvite({
          meshId: f.mesh.id,
          inviteId: invite,
          maxUses: 100,
          memberId: id("mem"),
          pubkey: pubkey(),
          displayName: wanted[i % wanted.length]!,
          role: "member",
          now: T0 + i,
        }),
      ),
    );
    const names = results.map((r) => (r.kind === "joined" ? r.member.displayName : r.kind));
    expect(names.filter((n) => ["existing", "revoked", "exhausted"].includes(n))).toEqual([]);
    const keys = names.map(displayNameSkeleton);
    expect(new Set(keys).size).toBe(36);
    // The five fillers hold dev..dev-5; the racers take exactly the next 36 suffixes.
    expect(keys.sort()).toEqual(
      Array.from({ length: 36 }, (_, i) => `dev-${i + 6}`)
        .map(displayNameSkeleton)
        .sort(),
    );
    const all = await h.store.listMembers(f.mesh.id);
    expect(new Set(all.map((m) => displayNameSkeleton(m.displayName))).size).toBe(all.length);
  });

  it("the unique index refuses a member whose name key another member of the mesh holds", async () => {
    const h = await openIsolated(url);
    cleanups.push(h.dispose);
    const f = await makeMesh(h.store, "alice");
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    cleanups.push(() => client.end());
    await client.query(`SET search_path TO ${h.schema}`);
    const insert = (name: string, key: string) =>
      client.query(
        `INSERT INTO members (id, mesh_id, pubkey, display_name, name_key, role, created_at)
         VALUES ($1, $2, $3, $4, $5, 'member', $6)`,
        [id("mem"), f.mesh.id, pubkey(), name, key, T0],
      );
    await expect(insert("Alice", displayNameSkeleton("Alice"))).rejects.toMatchObject({
      code: "23505",
      constraint: "members_mesh_name_key",
    });
    await insert("alice-2", displayNameSkeleton("alice-2"));
  });
});
