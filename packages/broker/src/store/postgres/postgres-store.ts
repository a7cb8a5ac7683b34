// PostgreSQL adapter (pg Pool): shared rules over pooled clients, multi-row INSERT + NOTIFY as the
// hot path, an advisory-locked migrator, and a LISTEN connection for cross-broker wake-ups (the
// shared channel, plus each attached broker's own channel for wake-ups targeted at it).
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { pgDriver } from "./driver.js";
import type {
  EnqueueResult,
  HookAnswer,
  HookNotice,
  LeasedDelivery,
  NewMessage,
  PendingHookStatus,
  PresenceRow,
} from "../types.js";
import { silentLog, type OpenStoreOptions } from "../options.js";
import { postgresDialect } from "../sql/dialect.js";
import { applyMigration, MIGRATIONS } from "../sql/migrations.js";
import {
  driveAsync,
  MAX_TRANSACTION_ATTEMPTS,
  RetryTransaction,
  rows,
  type Op,
  type RawRow,
  type Statement,
} from "../sql/op.js";
import { pendingRecipients, recipientIds } from "../sql/rules.js";
import { unnotifiedSenders } from "../sql/receipts.js";
import { isTracked, storedMessageIds } from "../sql/send-ids.js";
import { SqlStore } from "../sql/sql-store.js";
import { isPgUnavailable } from "./errors.js";
import { NotificationListener } from "./listener.js";
import { decodeWakeup, encodeWakeups } from "./wakeup-payload.js";
import { decodeLeased } from "./leased-payload.js";
import type { AdmitHelloInput, AdmitHelloResult } from "../admission.js";
import { decideAdmission } from "../sql/admit.js";
import { admitHelloPg } from "./admit-statement.js";
import { decodeTakeoverNotice } from "./takeover-notice.js";
import { decodeHookMessage, encodeHookAnswer, encodeHookNotice } from "./hook-payload.js";
import { brokerChannel, holderWakeupsSql, pushHolderParams } from "./holder-wakeups.js";
import { guardedInsertStatement, type HolderWake } from "./enqueue-statements.js";
import { preparedName } from "./prepared.js";
import { DELIVERY_COLUMNS, PRESENCE_COLUMNS, toDelivery, toPresence } from "../sql/rows.js";
import { leaseOwnerPrefix } from "../sql/brokers.js";
import { pendingHookParams, STASH_PENDING_HOOK_SQL } from "../sql/presence.js";

const DEFAULT_POOL_SIZE = 10;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const PING_TIMEOUT_MS = 2_000;
const CHANNEL = "claudemesh_deliveries";
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,39}$/;
/**
 * Leased rows read after a LISTEN (re)connect (leasedHere). Beyond this many, a row whose
 * notification was lost waits for its lease to run out and the recipient's next claim.
 */
const MAX_LEASED_RESYNC = 10_000;

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
  const result = await (s.prepare
    ? on.query({ name: preparedName(text), text, values })
    : on.query(text, values));
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
  /** Post-commit wake-ups of recipients the enqueue found online nowhere (awaited by close()). */
  private readonly lateWakeups = new Set<Promise<void>>();

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
        notification: (payload, channel) => {
          const notice = decodeTakeoverNotice(payload);
          if (notice) {
            if (notice.origin !== this.instanceId) this.takeovers.emit([notice.takeover]);
            return;
          }
          const hook = decodeHookMessage(payload);
          if (hook) {
            if (hook.origin === this.instanceId) return;
            if (hook.kind === "hook") this.hookNotices.emit(hook.notice);
            else if (this.attachedBrokers.has(hook.answer.toBrokerId)) this.hookAnswers.emit(hook.answer);
            return;
          }
          if (channel !== this.channel) {
            // Rows another broker stored leased to a connection here (enqueue-statements.ts).
            const leased = decodeLeased(payload);
            if (leased) {
              if (leased.origin !== this.instanceId) this.leasedDeliveries.emit([leased.delivery]);
              return;
            }
          }
          const wakeup = decodeWakeup(payload);
          if (!wakeup || wakeup.origin === this.instanceId) return;
          if (wakeup.kind === "receipts") this.receiptWakeups.emit(wakeup.recipients);
          else if (wakeup.kind === "revoked") this.revocationWakeups.emit(wakeup.recipients);
          else this.wakeups.emit(wakeup.recipients, channel !== this.channel);
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
   * Hot path (group commit): the whole batch is one statement — the sender check (rows locked FOR
   * SHARE), the send-id claims, the bodies, the deliveries and the wake-up NOTIFY (delivered at
   * commit) — one round trip in autocommit, prepared once per pooled connection.
   */
  async enqueueMessages(messages: readonly NewMessage[]): Promise<EnqueueResult> {
    let duplicates = new Map<string, string>();
    const revoked = new Set<string>();
    if (messages.length === 0) return { duplicates, revoked };
    if (messages.every((m) => m.deliveries.length === 0) && !messages.some(isTracked))
      return { duplicates, revoked };
    const wake: HolderWake = {
      ids: recipientIds(messages),
      origin: this.instanceId,
      exclude: [...this.attachedBrokers],
    };
    /** Message ids of the batch whose send id was already stored (nothing stored for them). */
    const repeatedIds = new Set<string>();
    /** Recipients with no online presence row as the write saw it: nobody was woken for them. */
    const unheld: string[] = [];
    const result = await this.guard(() => this.pool.query(guardedInsertStatement(messages, wake)));
    for (const row of result.rows as { message_id: unknown; outcome: unknown }[]) {
      if (!isString(row.message_id)) continue;
      if (row.outcome === "unheld") unheld.push(row.message_id);
      else (row.outcome === "revoked" ? revoked : repeatedIds).add(row.message_id);
    }
    if (unheld.length > 0) this.wakeLate(unheld);
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

  /**
   * Kind `deliveries` to the brokers holding these recipients online, after the rows' commit (leases
   * released by releaseGoneBrokers; recipients an enqueue found online nowhere, see wakeLate).
   */
  protected override async publishDeliveries(recipientMemberIds: readonly string[]): Promise<void> {
    await this.notifyHolders(recipientMemberIds, "deliveries");
  }

  /** Kind `receipts` to the brokers holding these senders online, after the receipts' commit. */
  protected override async publishReceipts(senderMemberIds: readonly string[]): Promise<void> {
    await this.notifyHolders(senderMemberIds, "receipts");
  }

  /** One statement: a NOTIFY per payload on the channel of each broker holding some of `ids` online. */
  private async notifyHolders(ids: readonly string[], kind: "deliveries" | "receipts"): Promise<void> {
    if (ids.length === 0) return;
    const params: unknown[] = [];
    const numbers = pushHolderParams(params, ids, this.instanceId, [...this.attachedBrokers]);
    const text = holderWakeupsSql(numbers, kind);
    await this.guard(() => this.pool.query({ name: preparedName(text), text, values: params }));
  }

  /**
   * The enqueue woke the brokers holding its recipients as its own snapshot saw them; a recipient
   * whose hello committed its presence after that snapshot began but drained before the enqueue
   * committed would be missed. So the recipients it found online nowhere are looked up again after
   * the commit: a presence committed before this read is woken now, one committed after it drains
   * rows that were already committed. Off the send's path (the ack does not wait for it).
   */
  private wakeLate(recipientMemberIds: readonly string[]): void {
    const done = this.tellOthers("store.delivery_notify_failed", () =>
      this.publishDeliveries(recipientMemberIds),
    ).finally(() => this.lateWakeups.delete(done));
    this.lateWakeups.add(done);
  }

  /** Stash, presence read and the notice to every broker (shared channel, delivered at commit): one statement. */
  protected override async stashAndNotifyHook(
    entry: PendingHookStatus,
    notice: HookNotice,
  ): Promise<PresenceRow | null> {
    const params = [
      ...pendingHookParams(entry),
      this.channel,
      encodeHookNotice(this.instanceId, notice),
      notice.memberId,
    ];
    const n = params.length - 3;
    const columns = PRESENCE_COLUMNS.split(", ")
      .map((c) => `p.${c}`)
      .join(", ");
    const result = await this.pool.query(
      `WITH stash AS (${toPgText(STASH_PENDING_HOOK_SQL)})
       SELECT pg_notify($${n + 1}, $${n + 2}) AS notified, ${columns}
       FROM (SELECT 1) AS one LEFT JOIN presence p ON p.member_id = $${n + 3}`,
      params,
    );
    const row = result.rows[0] as Record<string, unknown> | undefined;
    return row && row.member_id !== null && row.member_id !== undefined ? toPresence(row) : null;
  }

  /** On the shared channel, like relayHookStatus's notice. */
  protected override async publishHookNotice(notice: HookNotice): Promise<void> {
    await this.pool.query("SELECT pg_notify($1, $2)", [
      this.channel,
      encodeHookNotice(this.instanceId, notice),
    ]);
  }

  /** On the waiting broker's own channel. */
  protected override async publishHookAnswer(answer: HookAnswer): Promise<void> {
    const channel = brokerChannel(answer.toBrokerId);
    if (!channel) return;
    await this.pool.query("SELECT pg_notify($1, $2)", [channel, encodeHookAnswer(this.instanceId, answer)]);
  }

  /** Every broker of the database hears the shared channel and its own. */
  override reachesBroker(_brokerId: string): boolean {
    return true;
  }

  protected override brokerAttached(brokerId: string): void {
    const channel = brokerChannel(brokerId);
    if (!channel) throw new Error(`broker id "${brokerId}" cannot name a NOTIFY channel`);
    this.listener.addChannel(channel);
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

  /**
   * Undelivered rows under a live lease of a connection of a broker attached here (claimed, pushed
   * directly, or leased by another broker's enqueue), oldest first; the listener skips the ones it
   * has pushed already.
   */
  private async leasedHere(): Promise<LeasedDelivery[]> {
    const prefixes = [...this.attachedBrokers].map(leaseOwnerPrefix);
    if (prefixes.length === 0) return [];
    const found = await this.guard(() =>
      this.pool.query(
        `SELECT ${DELIVERY_COLUMNS}, lease_owner, lease_until FROM deliveries
         WHERE lease_until > $1 AND delivered_at IS NULL
           AND EXISTS (SELECT 1 FROM unnest($2::text[]) AS b (prefix) WHERE starts_with(lease_owner, b.prefix))
         ORDER BY seq LIMIT ${MAX_LEASED_RESYNC}`,
        [Date.now(), prefixes],
      ),
    );
    return (found.rows as RawRow[]).map((row) => ({
      ...toDelivery(row),
      leaseOwner: String(row.lease_owner),
      leaseUntil: Number(row.lease_until),
    }));
  }

  /** After (re)connecting LISTEN: wake every recipient with undelivered rows, since NOTIFYs may have been missed. */
  private async resync(): Promise<void> {
    try {
      const recipients = await this.guard(() => this.autocommit(pendingRecipients()));
      this.wakeups.emit(recipients);
      this.receiptWakeups.emit(await this.guard(() => this.autocommit(unnotifiedSenders())));
      // Rows other brokers leased to connections here whose notification may have been lost too.
      const leased = await this.leasedHere();
      if (leased.length > 0) this.leasedDeliveries.emit(leased);
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
    await Promise.all([...this.lateWakeups]);
    await this.listener.stop();
    await this.pool.end();
  }
}

function isString(value: unknown): value is string {
  return typeof value === "string";
}
