// PostgreSQL adapter (pg Pool): shared rules over pooled clients, multi-row INSERT + NOTIFY as the
// hot path, an advisory-locked migrator, and a LISTEN connection for cross-broker wake-ups.
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { pgDriver } from "./driver.js";
import type { EnqueueResult, NewMessage } from "../types.js";
import { silentLog, type OpenStoreOptions } from "../options.js";
import { postgresDialect } from "../sql/dialect.js";
import { applyMigration, MIGRATIONS } from "../sql/migrations.js";
import {
  driveAsync,
  exec,
  MAX_TRANSACTION_ATTEMPTS,
  RetryTransaction,
  rows,
  type Op,
  type Statement,
} from "../sql/op.js";
import {
  DELIVERY_INSERT_COLUMNS,
  DELIVERY_INSERT_CONFLICT,
  deliveryValues,
  pendingRecipients,
  recipientIds,
} from "../sql/rules.js";
import { bodyArrays, insertBodiesPg, isGroup } from "../sql/group-bodies.js";
import { unnotifiedSenders } from "../sql/receipts.js";
import { claimSendIdsPg, isTracked, sendIdArrays, storedMessageIds } from "../sql/send-ids.js";
import { liveSenderCtesPg, liveSendersSql, senderIds } from "../sql/sender-guard.js";
import { SqlStore } from "../sql/sql-store.js";
import { isPgUnavailable } from "./errors.js";
import { NotificationListener } from "./listener.js";
import { decodeWakeup, encodeWakeups } from "./wakeup-payload.js";
import type { AdmitHelloInput, AdmitHelloResult } from "../admission.js";
import { decideAdmission } from "../sql/admit.js";
import { admitHelloPg } from "./admit-statement.js";
import { decodeTakeoverNotice } from "./takeover-notice.js";

const DEFAULT_POOL_SIZE = 10;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const PING_TIMEOUT_MS = 2_000;
/** PostgreSQL allows 65,535 bind parameters per statement; stay well below. */
const MAX_PARAMS_PER_STATEMENT = 60_000;
const ROWS_PER_INSERT = Math.floor(MAX_PARAMS_PER_STATEMENT / DELIVERY_INSERT_COLUMNS.length);
const CHANNEL = "claudemesh_deliveries";
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,39}$/;
const LIVE_SENDERS_SQL = liveSendersSql(postgresDialect);

/** `?` placeholders → `$1, $2, …` (shared SQL never contains a literal `?`). */
const pgTextCache = new Map<string, string>();
function toPgText(sql: string): string {
  // Statements built with $n already (multi-row inserts) vary in length: never cache them.
  if (!sql.includes("?")) return sql;
  let text = pgTextCache.get(sql);
  if (text === undefined) {
    let n = 0;
    text = sql.replace(/\?/g, () => `$${++n}`);
    pgTextCache.set(sql, text);
  }
  return text;
}

type Queryable = Pick<pg.Pool, "query"> | Pick<pg.PoolClient, "query">;

async function execute(on: Queryable, s: Statement): Promise<unknown> {
  const text = toPgText(s.sql);
  const values = s.params as unknown[];
  const result = await (s.name ? on.query({ name: s.name, text, values }) : on.query(text, values));
  return s.want === "rows" ? result.rows : (result.rowCount ?? 0);
}

export class PostgresStore extends SqlStore {
  readonly kind = "postgres" as const;
  private readonly pool: pg.Pool;
  private readonly listener: NotificationListener;
  private readonly schema: string | null;
  private readonly channel: string;
  /** Tags our own NOTIFYs: local listeners were already woken right after commit. */
  private readonly instanceId = randomUUID();

  constructor(url: string, options: OpenStoreOptions = {}) {
    super(postgresDialect, options.log ?? silentLog);
    if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
      throw new Error(
        `invalid PostgreSQL schema name "${options.schema}": use lowercase letters, digits and _ (≤ 40)`,
      );
    }
    this.schema = options.schema ?? null;
    // Brokers sharing a schema share a channel; separate schemas on one database do not wake each other.
    this.channel = this.schema ? `${CHANNEL}_${this.schema}` : CHANNEL;
    const config: pg.PoolConfig = {
      connectionString: url,
      connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      keepAlive: true,
      application_name: "claudemesh-broker",
      // Bitmap scans off: on a queue table whose statistics lag (fresh, or a burst since the last
      // autoanalyze) the planner would otherwise bitmap-scan and sort a recipient's whole backlog
      // for every claim instead of walking the (recipient, seq) index and stopping at the limit.
      options: [this.schema ? `-c search_path=${this.schema}` : "", "-c enable_bitmapscan=off"]
        .join(" ")
        .trim(),
    };
    this.pool = new (pgDriver().Pool)({
      ...config,
      max: options.poolSize ?? DEFAULT_POOL_SIZE,
      idleTimeoutMillis: 30_000,
    });
    // An idle client whose connection drops (server restart, network) emits 'error' on the pool;
    // without a handler that would crash the broker. The pool discards it and reconnects on demand.
    this.pool.on("error", (err) => {
      this.log.warn("store.pg_idle_client_error", { code: (err as { code?: string }).code ?? null });
    });
    this.listener = new NotificationListener(
      config,
      this.channel,
      {
        notification: (payload) => {
          const notice = decodeTakeoverNotice(payload);
          if (notice) {
            if (notice.origin !== this.instanceId) this.takeovers.emit([notice.takeover]);
            return;
          }
          const wakeup = decodeWakeup(payload);
          if (!wakeup || wakeup.origin === this.instanceId) return;
          if (wakeup.kind === "receipts") this.receiptWakeups.emit(wakeup.recipients);
          else if (wakeup.kind === "revoked") this.revocationWakeups.emit(wakeup.recipients);
          else this.wakeups.emit(wakeup.recipients);
        },
        established: () => this.resync(),
      },
      this.log,
    );
  }

  protected describe(): string {
    return "PostgreSQL";
  }

  protected isUnavailable(err: unknown): boolean {
    return isPgUnavailable(err);
  }

  protected autocommit<T>(op: Op<T>): Promise<T> {
    return driveAsync(op, (s) => execute(this.pool, s));
  }

  protected override atomicStatement<T>(makeOp: () => Op<T>): Promise<T> {
    return this.autocommit(makeOp());
  }

  protected async transaction<T>(makeOp: () => Op<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: unknown = undefined;
    try {
      for (let attempt = 1; ; attempt++) {
        await client.query("BEGIN");
        try {
          const result = await driveAsync(makeOp(), (s) => execute(client, s));
          await client.query("COMMIT");
          return result;
        } catch (err) {
          try {
            await client.query("ROLLBACK");
          } catch (rollbackErr) {
            broken = rollbackErr; // the connection is gone: never return it to the pool
          }
          if (broken || !(err instanceof RetryTransaction) || attempt >= MAX_TRANSACTION_ATTEMPTS) throw err;
        }
      }
    } catch (err) {
      if (isPgUnavailable(err)) broken = err;
      throw err;
    } finally {
      client.release(broken ? (broken instanceof Error ? broken : true) : undefined);
    }
  }

  /**
   * Each migration in its own transaction under a transaction-scoped advisory lock, so brokers
   * starting together on one database apply each version exactly once.
   */
  async migrate(): Promise<void> {
    const schema = this.schema;
    const lockKey = `claudemesh.migrate.${schema ?? "default"}`;
    for (const migration of MIGRATIONS) {
      await this.guard(() =>
        this.transaction(function* () {
          yield* rows("SELECT pg_advisory_xact_lock(hashtext(?))", [lockKey]);
          if (schema) yield* rows(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
          return yield* applyMigration(postgresDialect, migration, Date.now());
        }),
      );
    }
  }

  /**
   * Hot path (group commit): a batch that fits one multi-row INSERT (≤ ROWS_PER_INSERT deliveries)
   * is one statement — the sender check (rows locked FOR SHARE), the send-id claims, the bodies, the
   * deliveries and the wake-up NOTIFY (delivered at commit) — one round trip in autocommit. Larger
   * batches run the same rules as several statements in one transaction.
   */
  async enqueueMessages(messages: readonly NewMessage[]): Promise<EnqueueResult> {
    let duplicates = new Map<string, string>();
    let revoked = new Set<string>();
    if (messages.length === 0) return { duplicates, revoked };
    const values: unknown[][] = [];
    for (const m of messages) for (const d of m.deliveries) values.push(deliveryValues(m, d));
    if (values.length === 0 && !messages.some(isTracked)) return { duplicates, revoked };
    const payloads = encodeWakeups(this.instanceId, recipientIds(messages));
    const chunks = chunked(values);
    const channel = this.channel;
    /** Message ids of the batch whose send id was already stored (nothing stored for them). */
    let repeatedIds = new Set<string>();
    await this.guard(async () => {
      if (chunks.length <= 1) {
        const result = await this.pool.query(
          guardedInsertStatement(messages, chunks[0] ?? [], channel, payloads),
        );
        for (const row of result.rows as { message_id: unknown; outcome: unknown }[]) {
          if (!isString(row.message_id)) continue;
          (row.outcome === "revoked" ? revoked : repeatedIds).add(row.message_id);
        }
        return;
      }
      const outcome = await this.transaction(function* () {
        const live = new Set((yield* rows(LIVE_SENDERS_SQL, [senderIds(messages)])).map((r) => String(r.id)));
        const allowed = messages.filter((m) => live.has(m.senderMemberId));
        const tracked = allowed.filter(isTracked);
        const free = new Set<string>();
        if (tracked.length > 0) {
          for (const r of yield* rows(claimSendIdsPg(1), sendIdArrays(tracked)))
            free.add(String(r.message_id));
        }
        const stored = allowed.filter((m) => !isTracked(m) || free.has(m.messageId));
        const storedGroups = stored.filter(isGroup);
        if (storedGroups.length > 0) yield* exec(insertBodiesPg(1), bodyArrays(storedGroups));
        const storedValues: unknown[][] = [];
        for (const m of stored) for (const d of m.deliveries) storedValues.push(deliveryValues(m, d));
        const parts = chunked(storedValues);
        for (const [i, chunk] of parts.entries()) {
          const statement = insertStatement(chunk, channel, i === parts.length - 1 ? payloads : []);
          yield* rows(statement.text, statement.values);
        }
        return {
          refused: messages.filter((m) => !live.has(m.senderMemberId)).map((m) => m.messageId),
          repeated: tracked.filter((m) => !free.has(m.messageId)).map((m) => m.messageId),
        };
      });
      revoked = new Set(outcome.refused);
      repeatedIds = new Set(outcome.repeated);
    });
    if (repeatedIds.size > 0) {
      const repeated = messages.filter(isTracked).filter((m) => repeatedIds.has(m.messageId));
      duplicates = await this.guard(() => this.autocommit(storedMessageIds(repeated)));
    }
    this.wakeups.emit(
      recipientIds(messages.filter((m) => !duplicates.has(m.messageId) && !revoked.has(m.messageId))),
    );
    return { duplicates, revoked };
  }

  /**
   * One statement, one round trip (sql/admit.ts, admit-statement.ts); the NOTIFY to the replaced
   * connection's broker rides in it and is delivered at commit.
   */
  override async admitHello(input: AdmitHelloInput): Promise<AdmitHelloResult> {
    const notice = { channel: this.channel, origin: this.instanceId };
    const outcome = await this.guard(() => this.autocommit(admitHelloPg(input, notice)));
    return decideAdmission(input, outcome);
  }

  /** One NOTIFY per payload on the wake-up channel, kind `deliveries` (leases released by releaseGoneBrokers). */
  protected override async publishDeliveries(recipientMemberIds: readonly string[]): Promise<void> {
    const payloads = encodeWakeups(this.instanceId, recipientMemberIds, "deliveries");
    await this.guard(() =>
      this.pool.query("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p", [this.channel, payloads]),
    );
  }

  /** One NOTIFY per payload on the wake-up channel, kind `receipts` (after the receipts' commit). */
  protected override async publishReceipts(senderMemberIds: readonly string[]): Promise<void> {
    const payloads = encodeWakeups(this.instanceId, senderMemberIds, "receipts");
    await this.guard(() =>
      this.pool.query("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p", [this.channel, payloads]),
    );
  }

  /** One NOTIFY per payload on the wake-up channel, kind `revoked` (after the revocation's commit). */
  protected override async publishRevocations(memberIds: readonly string[]): Promise<void> {
    const payloads = encodeWakeups(this.instanceId, memberIds, "revoked");
    await this.guard(() =>
      this.pool.query("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p", [this.channel, payloads]),
    );
  }

  protected override listenerAdded(): void {
    if (!this.closed) this.listener.start();
  }

  /** Resolves once the LISTEN connection is up and its catch-up wake-up has run (tests; callers that must not miss a wake-up). */
  whenListening(): Promise<void> {
    return this.listener.whenListening();
  }

  /** After (re)connecting LISTEN: wake every recipient with undelivered rows, since NOTIFYs may have been missed. */
  private async resync(): Promise<void> {
    try {
      const recipients = await this.guard(() => this.autocommit(pendingRecipients()));
      this.wakeups.emit(recipients);
      this.receiptWakeups.emit(await this.guard(() => this.autocommit(unnotifiedSenders())));
    } catch (err) {
      this.log.warn("store.resync_failed", { error: err instanceof Error ? err.message : String(err) });
    }
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
    });
    const probe = this.pool.query("SELECT 1").then(
      () => true,
      () => false,
    );
    try {
      return await Promise.race([probe, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.listener.stop();
    await this.pool.end();
  }
}

function isString(value: unknown): value is string {
  return typeof value === "string";
}

/** Delivery rows cut into INSERTs that stay under the bind-parameter limit. */
function chunked(values: readonly unknown[][]): unknown[][][] {
  const chunks: unknown[][][] = [];
  for (let i = 0; i < values.length; i += ROWS_PER_INSERT) chunks.push(values.slice(i, i + ROWS_PER_INSERT));
  return chunks;
}

/** Casts for DELIVERY_INSERT_COLUMNS in the VALUES list a SELECT reads from (text needs none). */
const DELIVERY_PG_CASTS = DELIVERY_INSERT_COLUMNS.map((c) =>
  c === "created_at" || c === "lease_until" ? "::bigint" : "",
);

/**
 * One statement storing a batch of at most one chunk of deliveries (SPEC §2, §3): checks the
 * senders (`live`: neither they nor their parent revoked; rows locked FOR SHARE, so a revocation
 * committing meanwhile either waits for this commit or is seen), claims the send ids of live
 * senders' messages, inserts the bodies and deliveries of the messages stored (`stored`: send id
 * free, or untracked, and sender live), NOTIFYs, and returns each message not stored with its
 * outcome: `revoked` (sender revoked) or `duplicate` (send id already stored) — usually no row.
 */
function guardedInsertStatement(
  messages: readonly NewMessage[],
  chunk: readonly unknown[][],
  channel: string,
  payloads: readonly string[],
): pg.QueryConfig {
  const tracked = messages.filter(isTracked);
  const groups = messages.filter(isGroup);
  // $1–$5 send ids, $6–$7 the batch (message id, sender), $8 untracked message ids.
  const params: unknown[] = [
    ...sendIdArrays(tracked),
    messages.map((m) => m.messageId),
    messages.map((m) => m.senderMemberId),
    messages.filter((m) => !isTracked(m)).map((m) => m.messageId),
  ];
  const isStored = "IN (SELECT message_id FROM stored)";
  let bodies = "";
  if (groups.length > 0) {
    // Group bodies once per message (SPEC §4), under the same condition as the deliveries.
    const first = params.length + 1;
    params.push(...bodyArrays(groups));
    bodies = `, bodies AS (${insertBodiesPg(first, `b.message_id ${isStored}`)})`;
  }
  let inserted = "";
  if (chunk.length > 0) {
    const tuples: string[] = [];
    for (const row of chunk) {
      const base = params.length;
      // Untyped parameters in a VALUES list read as text; only the bigint columns need a cast.
      tuples.push(`(${row.map((_, i) => `$${base + i + 1}${DELIVERY_PG_CASTS[i]}`).join(", ")})`);
      params.push(...row);
    }
    const columns = DELIVERY_INSERT_COLUMNS.join(", ");
    inserted = `, inserted AS (
      INSERT INTO deliveries (${columns})
      SELECT * FROM (VALUES ${tuples.join(", ")}) AS v (${columns})
      WHERE v.message_id ${isStored}
      ${DELIVERY_INSERT_CONFLICT}
    )`;
  }
  let notify = "";
  if (payloads.length > 0) {
    params.push(channel, [...payloads]);
    notify = ` UNION ALL SELECT NULL, NULL FROM (SELECT pg_notify($${params.length - 1}, p) FROM unnest($${params.length}::text[]) AS p) AS n`;
  }
  const isLive = "IN (SELECT id FROM live)";
  return {
    text:
      `WITH batch AS (SELECT * FROM unnest($6::text[], $7::text[]) AS t (message_id, sender_member_id)),
      ${liveSenderCtesPg("SELECT sender_member_id FROM batch")},
      kept AS (${claimSendIdsPg(1, `s.sender_member_id ${isLive}`)}),
      stored AS (
        SELECT message_id FROM kept
        UNION ALL
        SELECT b.message_id FROM batch b WHERE b.message_id = ANY($8::text[]) AND b.sender_member_id ${isLive}
      )${bodies}${inserted} ` +
      `SELECT b.message_id, CASE WHEN b.sender_member_id ${isLive} THEN 'duplicate' ELSE 'revoked' END AS outcome ` +
      `FROM batch b WHERE b.message_id NOT ${isStored}${notify}`,
    values: params,
  };
}

/**
 * `INSERT … VALUES ($1…$9), ($10…$18), …` for one chunk, wrapped so the same statement also
 * NOTIFYs each payload (a data-modifying CTE always runs to completion even when unreferenced).
 */
function insertStatement(
  chunk: readonly unknown[][],
  channel: string,
  payloads: readonly string[],
): pg.QueryConfig {
  const width = DELIVERY_INSERT_COLUMNS.length;
  const tuples: string[] = [];
  const params: unknown[] = [];
  for (const row of chunk) {
    const base = params.length;
    tuples.push(`(${row.map((_, i) => `$${base + i + 1}`).join(", ")})`);
    params.push(...row);
  }
  if (tuples.length * width !== params.length) throw new Error("insertStatement: ragged delivery rows");
  const insert = `INSERT INTO deliveries (${DELIVERY_INSERT_COLUMNS.join(", ")}) VALUES ${tuples.join(", ")} ${DELIVERY_INSERT_CONFLICT}`;
  if (payloads.length === 0) return { text: insert, values: params };
  params.push(channel, [...payloads]);
  return {
    text: `WITH inserted AS (${insert}) SELECT pg_notify($${params.length - 1}, p) FROM unnest($${params.length}::text[]) AS p`,
    values: params,
  };
}
