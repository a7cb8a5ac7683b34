// The few places where SQLite and PostgreSQL SQL differ; everything else in sql/ is shared text.

export interface Dialect {
  readonly name: "sqlite" | "postgres";
  /** Column types used by the migrations. */
  readonly types: {
    /** 64-bit integer (epoch ms timestamps, counters). */
    readonly bigint: string;
    readonly bool: string;
    /** Monotonic storage-order primary key (never reused). */
    readonly serialKey: string;
  };
  /** Extra DDL for the deliveries queue table, run by the first migration. */
  readonly queueTableTuning: readonly string[];
  /** Row-lock clause appended to a claim's inner SELECT so concurrent claimers skip each other's rows. */
  readonly skipLocked: string;
  /**
   * Row-lock clause for rows about to be updated (a revocation locks its member rows in id order
   * first, the order the enqueue's sender check locks them in, so the two never deadlock); empty
   * where one writer runs at a time.
   */
  readonly lockForUpdate: string;
  /**
   * Pins a table reference to an index where the planner, short of statistics, would pick a worse
   * one (SQLite's `INDEXED BY`); PostgreSQL's planner gets no hint.
   */
  indexedBy(index: string): string;
  /**
   * A condition, always true, whose evaluation lets the statement's transaction commit without
   * waiting for its WAL to reach disk (PostgreSQL: `synchronous_commit` off for that transaction
   * only). For writes a crash may lose without harm — a claim's lease: a lost lease only makes the
   * row claimable again (redelivered, at-least-once), a receipt pull's "pushed" mark: a lost mark
   * only pushes the receipt again — never for a stored message or an ack.
   */
  readonly unflushedCommit: string;
  /** `column` matches any value of one list parameter (bound with `list`): keeps one SQL text per query. */
  anyOf(column: string): string;
  /** Binds a list of values for an `anyOf` placeholder. */
  list(values: readonly string[]): unknown;
}

export const sqliteDialect: Dialect = {
  name: "sqlite",
  queueTableTuning: [],
  types: { bigint: "INTEGER", bool: "INTEGER", serialKey: "INTEGER PRIMARY KEY AUTOINCREMENT" },
  // One writer at a time: the claim runs in an IMMEDIATE transaction instead.
  skipLocked: "",
  lockForUpdate: "",
  // Commits are local to the file (WAL, synchronous=NORMAL): nothing to skip.
  unflushedCommit: "1 = 1",
  indexedBy: (index) => `INDEXED BY ${index}`,
  anyOf: (column) => `${column} IN (SELECT value FROM json_each(?))`,
  list: (values) => JSON.stringify(values),
};

export const postgresDialect: Dialect = {
  name: "postgres",
  // A queue table churns: refresh its statistics and reclaim dead rows far sooner than the default 10–20 %.
  queueTableTuning: [
    "ALTER TABLE deliveries SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02)",
  ],
  types: { bigint: "BIGINT", bool: "BOOLEAN", serialKey: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" },
  skipLocked: "FOR UPDATE SKIP LOCKED",
  // Not FOR UPDATE: that would also block the foreign-key checks (FOR KEY SHARE) of concurrent inserts.
  lockForUpdate: "FOR NO KEY UPDATE",
  // is_local: the setting ends with the statement's own (autocommit) transaction. Evaluated once.
  unflushedCommit: "(SELECT set_config('synchronous_commit', 'off', true)) = 'off'",
  indexedBy: () => "",
  anyOf: (column) => `${column} = ANY(?)`,
  list: (values) => [...values],
};
