// Options of openStore() beyond the target (file path or postgres:// URL).

/** Where the store reports recoverable trouble (a subset of the broker's Logger). */
export interface StoreLog {
  warn(event: string, fields?: Record<string, unknown>): void;
}

export interface OpenStoreOptions {
  /**
   * PostgreSQL only: schema holding the tables (created by migrate(); every pooled connection gets
   * it as search_path, and the wake-up channel is scoped to it). Lowercase letters, digits, `_`.
   */
  schema?: string;
  /** PostgreSQL only: pool size (default 10). */
  poolSize?: number;
  /** PostgreSQL only: give up connecting after this long (default 5,000 ms). */
  connectTimeoutMs?: number;
  /** SQLite only: how long a writer waits for a lock held by another process (default 5,000 ms). */
  busyTimeoutMs?: number;
  /** Default: silent. */
  log?: StoreLog;
}

export const silentLog: StoreLog = { warn: () => undefined };
