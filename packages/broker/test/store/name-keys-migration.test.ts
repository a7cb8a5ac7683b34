// Migration "display-name keys" on a database written before it: existing names get their
// skeleton as name_key, old look-alike twins survive it, and new joins still avoid both.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, expect, it } from "vitest";
import { openStore } from "../../src/store/index.js";
import { sqliteDialect } from "../../src/store/sql/dialect.js";
import { applyMigration, MIGRATIONS } from "../../src/store/sql/migrations.js";
import { driveSync, type Statement } from "../../src/store/sql/op.js";
import { addMember, T0 } from "./fixtures.js";

let dir = "";
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = "";
});

const NAME_KEYS = MIGRATIONS.find((m) => m.name === "display-name keys");

it("backfills name_key in creation order, leaves later twins NULL, and keeps names unique after", async () => {
  expect(NAME_KEYS).toBeDefined();
  dir = mkdtempSync(join(tmpdir(), "cm-namekeys-"));
  const path = join(dir, "broker.db");
  const raw = new Database(path);
  const execute = (s: Statement): unknown =>
    s.want === "rows" ? raw.prepare(s.sql).all(...s.params) : raw.prepare(s.sql).run(...s.params).changes;
  for (const migration of MIGRATIONS.filter((m) => m.version < (NAME_KEYS?.version ?? 0)))
    driveSync(applyMigration(sqliteDialect, migration, T0), execute);
  raw
    .prepare("INSERT INTO meshes (id, slug, name, owner_member_id, created_at) VALUES (?, ?, ?, ?, ?)")
    .run("mesh_a", "a", "A", "m1", T0);
  const member = raw.prepare(
    `INSERT INTO members (id, mesh_id, pubkey, display_name, role, created_at, revoked_at)
     VALUES (?, 'mesh_a', ?, ?, 'member', ?, ?)`,
  );
  // Written by an older broker that compared names exactly: José and jose are look-alike twins.
  member.run("m1", "pk1", "José", T0, null);
  member.run("m2", "pk2", "jose", T0 + 1, null);
  member.run("m3", "pk3", "bob", T0 + 2, T0 + 3); // revoked: its name stays taken
  raw.close();

  const store = openStore(path);
  await store.migrate();
  const check = new Database(path, { readonly: true });
  expect(check.prepare("SELECT id, name_key FROM members ORDER BY id").all()).toEqual([
    { id: "m1", name_key: "jose" },
    { id: "m2", name_key: null },
    { id: "m3", name_key: "bob" },
  ]);
  check.close();
  expect((await addMember(store, "mesh_a", "JOSE")).displayName).toBe("JOSE-2");
  expect((await addMember(store, "mesh_a", "jose")).displayName).toBe("jose-3");
  expect((await addMember(store, "mesh_a", "Bob")).displayName).toBe("Bob-2");
  expect((await addMember(store, "mesh_a", "carol")).displayName).toBe("carol");
  await store.close();
});
