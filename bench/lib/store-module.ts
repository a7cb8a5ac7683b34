// A broker store opened straight from a build's store module (this checkout's, or another's via --impl), for store-level benches.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import pg from "pg";

interface Closable {
  close(): Promise<void>;
}
type OpenStore<S> = (target: string, options?: { schema?: string }) => S;

/** This checkout's built store module. */
export function defaultStoreModule(): string {
  return join(fileURLToPath(new URL(".", import.meta.url)), "../../../packages/broker/dist/store/index.js");
}

/**
 * Opens a store of the module at `impl`: on a fresh SQLite file in a temp dir, or in a fresh schema of
 * the PostgreSQL database at `url`. `cleanup` closes it and removes the file or drops the schema.
 */
export async function openBenchStore<S extends Closable>(
  impl: string,
  url: string | undefined,
  tag: string,
): Promise<{ store: S; cleanup: () => Promise<void> }> {
  const { openStore } = (await import(pathToFileURL(impl).href)) as { openStore: OpenStore<S> };
  const dir = url ? null : mkdtempSync(join(tmpdir(), `cm-${tag}-`));
  const schema = `cm_bench_${randomBytes(4).toString("hex")}`;
  const store = openStore(url ?? join(dir ?? "", "broker.db"), url ? { schema } : {});
  const cleanup = async (): Promise<void> => {
    await store.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (url) {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  };
  return { store, cleanup };
}
