// Runs the Store contract on SQLite (temp file and :memory:) plus SQLite-only behaviour.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, SchemaTooNewError, SqliteStore, StoreUnavailableError } from "../../src/store/index.js";
import { MIGRATIONS } from "../../src/store/sql/migrations.js";
import { registerStoreContract } from "./contract.js";
import { makeMesh, message } from "./fixtures.js";

let dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "cm-store-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

registerStoreContract("sqlite file", async () => {
  const store = openStore(join(tempDir(), "broker.db"));
  await store.migrate();
  return { store, dispose: () => store.close() };
});

registerStoreContract("sqlite :memory:", async () => {
  const store = openStore(":memory:");
  await store.migrate();
  return { store, dispose: () => store.close() };
});

describe("sqlite store", () => {
  let path: string;
  beforeEach(() => {
    path = join(tempDir(), "nested", "deeper", "broker.db");
  });

  it("openStore picks SQLite for a path and creates the parent dir 0700 and the file 0600", async () => {
    const store = openStore(path);
    expect(store.kind).toBe("sqlite");
    expect(store).toBeInstanceOf(SqliteStore);
    await store.migrate();
    expect(statSync(join(path, "..")).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await store.close();
  });

  it("runs in WAL mode with synchronous=NORMAL and records each migration once", async () => {
    const store = openStore(path);
    await store.migrate();
    await store.migrate();
    const raw = new Database(path);
    try {
      expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(raw.prepare("SELECT version FROM schema_migrations ORDER BY version").all()).toEqual(
        MIGRATIONS.map((m) => ({ version: m.version })),
      );
    } finally {
      raw.close();
    }
    // synchronous is per connection: read it through the store's own connection.
    expect((store as unknown as { db: Database.Database }).db.pragma("synchronous", { simple: true })).toBe(
      1,
    );
    await store.close();
  });

  it("keeps data across close and reopen", async () => {
    const store = openStore(path);
    await store.migrate();
    const f = await makeMesh(store);
    await store.enqueueMessages([message(f.mesh.id, f.owner.id, [f.owner.id])]);
    await store.close();
    const reopened = openStore(path);
    await reopened.migrate();
    expect(await reopened.getMesh(f.mesh.id)).toEqual(f.mesh);
    expect(await reopened.countPending(f.owner.id)).toBe(1);
    await reopened.close();
  });

  it("refuses a database migrated by a newer claudemesh", async () => {
    const store = openStore(path);
    await store.migrate();
    await store.close();
    const raw = new Database(path);
    raw.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)").run();
    raw.close();
    const again = openStore(path);
    await expect(again.migrate()).rejects.toBeInstanceOf(SchemaTooNewError);
    await again.close();
  });

  it("an unopenable path throws StoreUnavailableError", () => {
    const dir = tempDir();
    // The target is an existing directory, not a file.
    expect(() => openStore(dir)).toThrow(StoreUnavailableError);
  });

  it("a write lock held by another process surfaces as StoreUnavailableError after busy_timeout", async () => {
    const store = openStore(path, { busyTimeoutMs: 50 });
    await store.migrate();
    const f = await makeMesh(store);
    const other = new Database(path);
    other.exec("BEGIN IMMEDIATE");
    try {
      await expect(
        store.enqueueMessages([message(f.mesh.id, f.owner.id, [f.owner.id])]),
      ).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(
        store.redeemInvite({
          meshId: f.mesh.id,
          inviteId: "i",
          maxUses: 1,
          memberId: "m",
          pubkey: "b".repeat(64),
          displayName: "bob",
          role: "member",
          now: 1,
        }),
      ).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
    // Usable again once the lock is gone.
    await store.enqueueMessages([message(f.mesh.id, f.owner.id, [f.owner.id])]);
    expect(await store.countPending(f.owner.id)).toBe(1);
    await store.close();
  });
});
