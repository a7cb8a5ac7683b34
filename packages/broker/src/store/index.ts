// The broker's storage entry point: openStore() picks the adapter from the target; types re-exported.
import type { OpenStoreOptions } from "./options.js";
import { PostgresStore } from "./postgres/postgres-store.js";
import { SqliteStore } from "./sqlite/sqlite-store.js";
import type { Store } from "./types.js";

export * from "./types.js";
export type { OpenStoreOptions, StoreLog } from "./options.js";
export { SchemaTooNewError, LATEST_SCHEMA_VERSION } from "./sql/migrations.js";
export { PostgresStore } from "./postgres/postgres-store.js";
export { SqliteStore } from "./sqlite/sqlite-store.js";
export { timeOrderedId } from "./ids.js";

/** True for targets handled by the PostgreSQL adapter. */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/**
 * Opens the store named by `target` (SPEC §6 `--db`): a `postgres://` / `postgresql://` URL selects
 * PostgreSQL, anything else is a SQLite file path (`:memory:` for tests). Call migrate() before use.
 * Throws StoreUnavailableError when a SQLite file cannot be opened; PostgreSQL connects lazily.
 */
export function openStore(target: string, options: OpenStoreOptions = {}): Store {
  return isPostgresUrl(target) ? new PostgresStore(target, options) : new SqliteStore(target, options);
}
