// Test store targets: a temp SQLite file always, an isolated PostgreSQL schema when DATABASE_URL is set.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

export type StoreKind = "sqlite" | "postgres";

/** The PostgreSQL URL of the shared test server, or undefined (suites then skip visibly). */
export const PG_URL: string | undefined = process.env.DATABASE_URL || undefined;

/** Store kinds to run a suite against: SQLite always, PostgreSQL when DATABASE_URL is set. */
export const STORE_KINDS: readonly StoreKind[] = PG_URL ? ["sqlite", "postgres"] : ["sqlite"];

if (!PG_URL) {
  console.warn(
    "[claudemesh tests] DATABASE_URL is not set: PostgreSQL variants of broker suites are skipped",
  );
}

/** A store target (`openStore` argument) plus the cleanup that removes it. */
export interface StoreTarget {
  kind: StoreKind;
  target: string;
  /** Removes the temp dir / drops the schema. Idempotent. */
  cleanup(): Promise<void>;
}

/** A fresh SQLite file in its own temp dir. */
export async function sqliteTarget(): Promise<StoreTarget> {
  const dir = await mkdtemp(join(tmpdir(), "claudemesh-test-"));
  let done = false;
  return {
    kind: "sqlite",
    target: join(dir, "broker.db"),
    async cleanup() {
      if (done) return;
      done = true;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Adds `options=-c search_path=<schema>` so every connection of the store lives in that schema. */
export function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set("options", `-c search_path=${schema}`);
  return u.toString();
}

/** A fresh, uniquely named schema on `baseUrl` (default DATABASE_URL): test files run in parallel. */
export async function postgresTarget(baseUrl: string | undefined = PG_URL): Promise<StoreTarget> {
  if (!baseUrl) throw new Error("postgresTarget needs DATABASE_URL");
  const schema = `cm_test_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  let done = false;
  return {
    kind: "postgres",
    target: withSearchPath(baseUrl, schema),
    async cleanup() {
      if (done) return;
      done = true;
      const client = new pg.Client({ connectionString: baseUrl });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A fresh target of `kind`. */
export function storeTarget(kind: StoreKind): Promise<StoreTarget> {
  return kind === "sqlite" ? sqliteTarget() : postgresTarget();
}
