// SQLite adapter (better-sqlite3, WAL, synchronous=NORMAL): synchronous statements driven inside
// async methods; one in-process connection, so IMMEDIATE transactions serialise every writer.
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import {
  StoreUnavailableError,
  type ClaimOptions,
  type DeliveryRow,
  type EnqueueResult,
  type NewMessage,
} from "../types.js";
import { silentLog, type OpenStoreOptions } from "../options.js";
import { sqliteDialect } from "../sql/dialect.js";
import { applyMigration, MIGRATIONS } from "../sql/migrations.js";
import {
  driveSync,
  MAX_TRANSACTION_ATTEMPTS,
  RetryTransaction,
  type Op,
  type RawRow,
  type Statement,
} from "../sql/op.js";
import { toDelivery } from "../sql/rows.js";
import {
  claimLeaseSql,
  claimReadParams,
  claimReadSql,
  mergeClaimable,
  DELIVERY_INSERT_COLUMNS,
  DELIVERY_INSERT_CONFLICT,
  deliveryValues,
  recipientIds,
} from "../sql/rules.js";
import { bodyValues, INSERT_BODY_SQL, isGroup } from "../sql/group-bodies.js";
import { CLAIM_SEND_ID_SQL, isTracked, sendIdValues, STORED_SEND_ID_SQL } from "../sql/send-ids.js";
import { liveSendersSql, senderIds } from "../sql/sender-guard.js";
import { SqlStore } from "../sql/sql-store.js";
import type { AdmitHelloInput, AdmitHelloResult, Takeover } from "../admission.js";
import { admitHelloSteps, type AdmitOutcome } from "../sql/admit.js";

const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** SQLite result codes that mean the file cannot be used right now (locked, unreadable, disk full). */
const UNAVAILABLE_CODE =
  /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL|READONLY|NOTADB|CORRUPT|PROTOCOL|NOLFS|AUTH)/;

const CLAIM_READ_SQL = claimReadSql(sqliteDialect);
/** The same reads returning only `seq`: ~5 µs against ~50 µs with the push columns. */
const CLAIM_PROBE_SQL = claimReadSql(sqliteDialect, "seq");
/** Both, holding each sender behind its rows leased to another owner (ClaimOptions.behindForeignLeases). */
const CLAIM_READ_BEHIND_SQL = claimReadSql(sqliteDialect, undefined, true);
const CLAIM_PROBE_BEHIND_SQL = claimReadSql(sqliteDialect, "seq", true);
const LEASE_SQL = claimLeaseSql(sqliteDialect);
const LIVE_SENDERS_SQL = liveSendersSql(sqliteDialect);

const INSERT_DELIVERY_SQL =
  `INSERT INTO deliveries (${DELIVERY_INSERT_COLUMNS.join(", ")}) ` +
  `VALUES (${DELIVERY_INSERT_COLUMNS.map(() => "?").join(", ")}) ${DELIVERY_INSERT_CONFLICT}`;

/**
 * Open stores by database file, so brokers of one process on one file tell each other about
 * takeovers (newest wins across them). Brokers in other processes are not told: see store/README.md.
 */
const storesByFile = new Map<string, Set<SqliteStore>>();

export class SqliteStore extends SqlStore {
  readonly kind = "sqlite" as const;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  /** Runs a callback in a transaction; `.immediate` takes the write lock up front (no upgrade deadlocks). */
  private readonly inTransaction: Database.Transaction<(work: () => unknown) => unknown>;
  /** The resolved database file (null for `:memory:`), the key of storesByFile. */
  private readonly file: string | null = null;
  /** Admissions waiting for the next batch (one IMMEDIATE transaction per event-loop turn). */
  private admissions: Array<{
    input: AdmitHelloInput;
    resolve: (result: AdmitHelloResult) => void;
    reject: (error: unknown) => void;
  }> = [];

  constructor(
    /** A file path, or `:memory:` (tests). */
    readonly path: string,
    options: OpenStoreOptions = {},
  ) {
    super(sqliteDialect, options.log ?? silentLog);
    try {
      if (path !== ":memory:") {
        // The database holds mesh membership and queued ciphertext: owner-only, like the config dir (SPEC §6).
        mkdirSync(dirname(resolve(path)), { recursive: true, mode: 0o700 });
        closeSync(openSync(path, "a", 0o600));
      }
      this.db = new Database(path);
      // WAL + NORMAL: a committed transaction survives a process crash (kill -9, SPEC §3);
      // only an OS crash or power loss may lose the last few commits.
      this.db.pragma("journal_mode = WAL");
      this.db.pragma("synchronous = NORMAL");
      this.db.pragma(`busy_timeout = ${Math.floor(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS)}`);
      this.db.pragma("foreign_keys = ON");
      // Measured on the queue's workload (store/README.md, docs/BENCHMARKS.md): SQLite's default
      // checkpoint every 4 MB of WAL. Every 40 MB gave ~1.5× batch inserts in isolation, but each
      // checkpoint then stalled the event loop for ~30–40 ms (latency max 38 ms, p99 7 ms); at 4 MB the
      // stalls are a few ms (max 6.5 ms, p99 4.1 ms) at the same 20k durable msgs/s through the broker.
      // Temp b-trees in memory; a 32 MB page cache keeps the (message_id, recipient) index hot.
      this.db.pragma("wal_autocheckpoint = 1000");
      this.db.pragma("journal_size_limit = 67108864");
      this.db.pragma("temp_store = MEMORY");
      this.db.pragma("cache_size = -32768");
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new StoreUnavailableError(`cannot open SQLite database ${path}: ${reason}`, { cause: err });
    }
    this.inTransaction = this.db.transaction((work: () => unknown) => work());
    if (path !== ":memory:") {
      this.file = resolve(path);
      const open = storesByFile.get(this.file) ?? new Set<SqliteStore>();
      open.add(this);
      storesByFile.set(this.file, open);
    }
  }

  /**
   * Hot path (every hello): the admissions that arrive in one event-loop turn run in one IMMEDIATE
   * transaction, one after another (each sees the ones before it, as if committed alone), so a burst
   * of hellos pays one commit rather than one each. A failure fails the whole batch (nothing of it
   * is stored, so every hello of it may be retried).
   */
  override admitHello(input: AdmitHelloInput): Promise<AdmitHelloResult> {
    if (this.closed) return Promise.reject(new StoreUnavailableError("SQLite store is closed"));
    return new Promise((resolve, reject) => {
      this.admissions.push({ input, resolve, reject });
      if (this.admissions.length === 1) setImmediate(() => this.admitBatch());
    });
  }

  private admitBatch(): void {
    const batch = this.admissions;
    this.admissions = [];
    let outcomes: AdmitOutcome[];
    try {
      if (this.closed) throw new StoreUnavailableError("SQLite store is closed");
      outcomes = this.inTransaction.immediate(() =>
        batch.map((a) => driveSync(admitHelloSteps(a.input), this.execute)),
      ) as AdmitOutcome[];
    } catch (err) {
      const mapped = this.mapError(err);
      for (const a of batch) a.reject(mapped);
      return;
    }
    for (const [i, a] of batch.entries()) {
      try {
        a.resolve(this.admissionDecided(a.input, outcomes[i]!));
      } catch (err) {
        a.reject(err);
      }
    }
  }

  /** Tells the other stores of this process on the same file, after this turn (like a NOTIFY at commit). */
  protected override publishTakeover(takeover: Takeover): void {
    if (!this.file) return;
    for (const store of storesByFile.get(this.file) ?? []) {
      if (store !== this) setImmediate(() => store.takeovers.emit([takeover]));
    }
  }

  protected describe(): string {
    return "SQLite";
  }

  protected isUnavailable(err: unknown): boolean {
    if (err instanceof TypeError && /database connection is not open/.test(err.message)) return true;
    const code = (err as { code?: unknown } | null)?.code;
    return typeof code === "string" && UNAVAILABLE_CODE.test(code);
  }

  private prepare(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private readonly execute = (s: Statement): unknown => {
    const statement = this.prepare(s.sql);
    if (s.want === "rows") return statement.all(...s.params);
    return statement.run(...s.params).changes;
  };

  protected autocommit<T>(op: Op<T>): Promise<T> {
    return Promise.resolve(driveSync(op, this.execute));
  }

  protected transaction<T>(makeOp: () => Op<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return Promise.resolve(this.inTransaction.immediate(() => driveSync(makeOp(), this.execute)) as T);
      } catch (err) {
        if (!(err instanceof RetryTransaction) || attempt >= MAX_TRANSACTION_ATTEMPTS) throw err;
      }
    }
  }

  async migrate(): Promise<void> {
    await this.guard(() => {
      for (const migration of MIGRATIONS) {
        this.inTransaction.immediate(() =>
          driveSync(applyMigration(sqliteDialect, migration, Date.now()), this.execute),
        );
      }
    });
  }

  /**
   * Hot path (group commit): the whole batch in one IMMEDIATE transaction with prepared
   * statements (the sender check, the send-id claim, then the deliveries), run synchronously;
   * resolves after COMMIT, then wakes listeners in this process. The sender check is one indexed
   * read inside the transaction: no revocation can commit between it and the inserts.
   */
  async enqueueMessages(messages: readonly NewMessage[]): Promise<EnqueueResult> {
    const duplicates = new Map<string, string>();
    const revoked = new Set<string>();
    if (messages.length === 0) return { duplicates, revoked };
    await this.guard(() => {
      const liveSenders = this.prepare(LIVE_SENDERS_SQL);
      const insert = this.prepare(INSERT_DELIVERY_SQL);
      const claimSendId = this.prepare(CLAIM_SEND_ID_SQL);
      const storedSendId = this.prepare(STORED_SEND_ID_SQL);
      const insertBody = this.prepare(INSERT_BODY_SQL);
      this.inTransaction.immediate(() => {
        duplicates.clear();
        revoked.clear();
        const senders = sqliteDialect.list(senderIds(messages));
        const live = new Set((liveSenders.all(senders) as RawRow[]).map((row) => String(row.id)));
        for (const m of messages) {
          // A revoked sender (or an agent of a revoked member): store nothing (SPEC §2).
          if (!live.has(m.senderMemberId)) {
            revoked.add(m.messageId);
            continue;
          }
          // A send id already stored (a retry): store nothing, report the stored message id.
          if (isTracked(m) && claimSendId.run(...sendIdValues(m)).changes === 0) {
            const row = storedSendId.get(m.meshId, m.senderMemberId, m.clientId) as RawRow | undefined;
            duplicates.set(m.messageId, String(row?.message_id));
            continue;
          }
          // A group message's body and signature once, beside its per-recipient key rows (SPEC §4).
          if (isGroup(m)) insertBody.run(...bodyValues(m));
          for (const d of m.deliveries) insert.run(...deliveryValues(m, d));
        }
      });
    });
    this.wakeups.emit(
      recipientIds(messages.filter((m) => !duplicates.has(m.messageId) && !revoked.has(m.messageId))),
    );
    return { duplicates, revoked };
  }

  /**
   * Hot path: most drain rounds find nothing left to claim, and on SQLite even an UPDATE that
   * matches no row takes the write lock (measured ~40 µs, ~90 µs with RETURNING, against ~5 µs per
   * indexed read). So read the candidates first and only lease when there are some — read again
   * inside the IMMEDIATE transaction, where no other writer can lease them in between.
   */
  override async claimDeliveries(o: ClaimOptions): Promise<DeliveryRow[]> {
    if (o.limit <= 0 || o.priorities.length === 0) return [];
    return this.guard(() => {
      if (!this.anyClaimable(o)) return [];
      return this.inTransaction.immediate(() => {
        const picked = this.readClaimable(o);
        if (picked.length > 0) {
          const seqs = JSON.stringify(picked.map((row) => row.seq));
          this.prepare(LEASE_SQL).run(o.now + o.leaseMs, o.leaseOwner, seqs);
        }
        return picked;
      }) as DeliveryRow[];
    });
  }

  private anyClaimable(o: ClaimOptions): boolean {
    const params = claimReadParams(o);
    const sql = o.behindForeignLeases ? CLAIM_PROBE_BEHIND_SQL : CLAIM_PROBE_SQL;
    return (
      this.prepare(sql.unleased).get(...params.unleased) !== undefined ||
      this.prepare(sql.expired).get(...params.expired) !== undefined
    );
  }

  /** Never-leased and lease-expired deliveries, merged in storage order and cut to the limit. */
  private readClaimable(o: ClaimOptions): DeliveryRow[] {
    const params = claimReadParams(o);
    const sql = o.behindForeignLeases ? CLAIM_READ_BEHIND_SQL : CLAIM_READ_SQL;
    const unleased = this.prepare(sql.unleased).all(...params.unleased) as RawRow[];
    const expired = this.prepare(sql.expired).all(...params.expired) as RawRow[];
    return mergeClaimable(unleased.map(toDelivery), expired.map(toDelivery), o.limit);
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    try {
      this.prepare("SELECT 1").get();
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.file) {
      const open = storesByFile.get(this.file);
      open?.delete(this);
      if (open?.size === 0) storesByFile.delete(this.file);
    }
    this.statements.clear();
    this.db.close();
  }
}
