// Store operations as generators of SQL statements, so each business rule is written once and run
// synchronously inside a better-sqlite3 transaction or asynchronously on a PostgreSQL client.

/** One SQL statement with `?` placeholders; adapters translate placeholders for their dialect. */
export interface Statement {
  readonly sql: string;
  readonly params: readonly unknown[];
  /** `rows`: the statement returns rows (SELECT, RETURNING); `changes`: its affected-row count. */
  readonly want: "rows" | "changes";
  /**
   * A hot statement whose text is one of a fixed few: PostgreSQL parses and plans it once per
   * connection (a named prepared statement) instead of on every call. SQLite caches every text anyway.
   */
  readonly prepare?: boolean;
}

/** Options of rows/first/exec. */
export interface StatementOptions {
  /** See Statement.prepare. */
  prepare?: boolean;
}

/**
 * A store operation: yields statements and receives their results (rows or a change count).
 * Drivers feed each result back with `next(result)` until the generator returns.
 */
export type Op<T> = Generator<Statement, T, unknown>;

/** A raw database row as returned by either driver (column name → value). */
export type RawRow = Record<string, unknown>;

/** Runs a statement and returns its rows. */
export function* rows(
  sql: string,
  params: readonly unknown[] = [],
  options: StatementOptions = {},
): Op<RawRow[]> {
  return (yield { sql, params, want: "rows", prepare: options.prepare }) as RawRow[];
}

/** Runs a statement and returns its first row, or null. */
export function* first(
  sql: string,
  params: readonly unknown[] = [],
  options: StatementOptions = {},
): Op<RawRow | null> {
  const result = yield* rows(sql, params, options);
  return result[0] ?? null;
}

/** Runs a statement and returns how many rows it changed. */
export function* exec(
  sql: string,
  params: readonly unknown[] = [],
  options: StatementOptions = {},
): Op<number> {
  return (yield { sql, params, want: "changes", prepare: options.prepare }) as number;
}

/**
 * Thrown inside an operation when a concurrent writer got there first (a unique key claimed between
 * our read and our insert): the driver rolls back and runs the whole operation again, which then
 * sees the committed winner.
 */
export class RetryTransaction extends Error {
  override readonly name = "RetryTransaction";
}

/** How many times a transaction is re-run after RetryTransaction before giving up. */
export const MAX_TRANSACTION_ATTEMPTS = 5;

/** Drives an operation synchronously with a synchronous executor (better-sqlite3). */
export function driveSync<T>(op: Op<T>, execute: (statement: Statement) => unknown): T {
  let step = op.next();
  while (!step.done) step = op.next(execute(step.value));
  return step.value;
}

/** Drives an operation with an asynchronous executor (pg). */
export async function driveAsync<T>(
  op: Op<T>,
  execute: (statement: Statement) => Promise<unknown>,
): Promise<T> {
  let step = op.next();
  while (!step.done) step = op.next(await execute(step.value));
  return step.value;
}
