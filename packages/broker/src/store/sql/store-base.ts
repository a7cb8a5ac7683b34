// The part of SqlStore every method builds on: how an adapter runs statements (guarded against an
// unreachable database), and the fan-out of wake-ups and notices to this process's listeners and,
// through the adapter's publish hooks, to other brokers sharing the store.
import {
  StoreUnavailableError,
  type DeliveryListener,
  type HookAnswer,
  type HookAnswerListener,
  type HookNotice,
  type HookNoticeListener,
  type LeasedDelivery,
  type LeasedDeliveryListener,
  type PendingHookStatus,
  type PresenceRow,
  type RevocationListener,
  type Store,
} from "../types.js";
import type { Takeover, TakeoverListener } from "../admission.js";
import type { StoreLog } from "../options.js";
import type { Dialect } from "./dialect.js";
import { NoticeListeners } from "./notices.js";
import type { Op } from "./op.js";
import * as rules from "./rules.js";
import { TakeoverFanout } from "./takeovers.js";
import { DeliveryWakeups } from "./wakeups.js";

export abstract class SqlStoreBase implements Partial<Store> {
  abstract readonly kind: "sqlite" | "postgres";
  protected readonly wakeups: DeliveryWakeups;
  /** "These senders have receipts to pull" (same fan-out as delivery wake-ups). */
  protected readonly receiptWakeups: DeliveryWakeups;
  /** "These member ids were revoked" (same fan-out as delivery wake-ups). */
  protected readonly revocationWakeups: DeliveryWakeups;
  /** "Your connection of this member was replaced" (admissions on other brokers of the store). */
  protected readonly takeovers: TakeoverFanout;
  /** Relayed hooks and their answers (same fan-out; PostgreSQL adds other brokers). */
  protected readonly hookNotices: NoticeListeners<HookNotice>;
  protected readonly hookAnswers: NoticeListeners<HookAnswer>;
  /** Rows other brokers stored leased to connections here (PostgreSQL's NewDelivery.remoteLeaseUntil). */
  protected readonly leasedDeliveries: NoticeListeners<readonly LeasedDelivery[]>;
  /** Broker ids served by this store object (attachBroker). */
  protected readonly attachedBrokers = new Set<string>();
  protected closed = false;

  protected constructor(
    protected readonly dialect: Dialect,
    protected readonly log: StoreLog,
  ) {
    this.wakeups = new DeliveryWakeups(log);
    this.receiptWakeups = new DeliveryWakeups(log);
    this.revocationWakeups = new DeliveryWakeups(log);
    this.takeovers = new TakeoverFanout(log);
    this.hookNotices = new NoticeListeners(log, "hook_notice");
    this.hookAnswers = new NoticeListeners(log, "hook_answer");
    this.leasedDeliveries = new NoticeListeners(log, "leased_deliveries");
  }

  // ------------------------------------------------------------ adapter hooks

  /** Runs an operation with each statement committed on its own (reads, single-statement writes). */
  protected abstract autocommit<T>(op: Op<T>): Promise<T>;
  /** Runs an operation atomically (SQLite: IMMEDIATE; PostgreSQL: one client, BEGIN/COMMIT), retrying on RetryTransaction. */
  protected abstract transaction<T>(makeOp: () => Op<T>): Promise<T>;
  /**
   * Runs a one-statement write atomically. Default: a transaction (SQLite: IMMEDIATE). PostgreSQL
   * overrides it with autocommit, where one statement is already atomic and BEGIN/COMMIT would
   * triple the round trips.
   */
  protected atomicStatement<T>(makeOp: () => Op<T>): Promise<T> {
    return this.transaction(makeOp);
  }
  /** True when `err` means the database cannot be reached (mapped to StoreUnavailableError). */
  protected abstract isUnavailable(err: unknown): boolean;
  protected abstract describe(): string;
  /** Called when the first wake-up listener subscribes (PostgreSQL starts LISTEN). */
  protected listenerAdded(): void {}
  /** Tells other brokers sharing the store that these senders have receipts to pull (PostgreSQL NOTIFY). */
  protected async publishReceipts(_senderMemberIds: readonly string[]): Promise<void> {}
  /** Tells other brokers sharing the store that these member ids were revoked (PostgreSQL NOTIFY). */
  protected async publishRevocations(_memberIds: readonly string[]): Promise<void> {}
  /** Tells the broker holding a replaced connection (SQLite: brokers of this process on the same file). */
  protected publishTakeover(_takeover: Takeover): void {}
  /** Tells other brokers sharing the store that these recipients have deliveries to claim (PostgreSQL NOTIFY). */
  protected async publishDeliveries(_recipientMemberIds: readonly string[]): Promise<void> {}
  /**
   * relayHookStatus's write: stash and presence read (one statement on PostgreSQL, with the NOTIFY to
   * other brokers). Default: one transaction, no other broker told (SQLite).
   */
  protected stashAndNotifyHook(entry: PendingHookStatus, notice: HookNotice): Promise<PresenceRow | null> {
    void notice;
    return this.atomic(() => rules.stashHookAndReadPresence(entry, notice.memberId));
  }
  /** Tells every other broker about a relayed hook (PostgreSQL NOTIFY on the shared channel). */
  protected async publishHookNotice(_notice: HookNotice): Promise<void> {}
  /** Tells the broker an answer is addressed to, when it is in another process (PostgreSQL NOTIFY). */
  protected async publishHookAnswer(_answer: HookAnswer): Promise<void> {}
  /** A broker was attached (PostgreSQL LISTENs on its channel). */
  protected brokerAttached(_brokerId: string): void {}

  /** Runs `work`, turning connectivity failures (and use after close) into StoreUnavailableError. */
  protected async guard<T>(work: () => T | Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError(`${this.describe()} store is closed`);
    try {
      return await work();
    } catch (err) {
      throw this.mapError(err);
    }
  }

  protected mapError(err: unknown): unknown {
    if (err instanceof StoreUnavailableError || !this.isUnavailable(err)) return err;
    const code = (err as { code?: unknown }).code;
    const reason = typeof code === "string" ? code : err instanceof Error ? err.message : "unknown error";
    return new StoreUnavailableError(`${this.describe()} is unavailable (${reason})`, { cause: err });
  }

  /** Subscribed: the adapter starts listening (PostgreSQL LISTEN) if it has not yet. */
  private listening(unsubscribe: () => void): () => void {
    this.listenerAdded();
    return unsubscribe;
  }

  /**
   * Runs a publish hook after a commit; a failure is logged as `event` and not thrown: what was
   * committed stays, and other brokers find it by their own next read.
   */
  protected async tellOthers(event: string, publish: () => Promise<void>): Promise<void> {
    try {
      await publish();
    } catch (err) {
      this.log.warn(event, { error: err instanceof Error ? err.message : String(err) });
    }
  }

  protected direct<T>(op: Op<T>): Promise<T> {
    return this.guard(() => this.autocommit(op));
  }

  protected atomic<T>(makeOp: () => Op<T>): Promise<T> {
    return this.guard(() => this.transaction(makeOp));
  }

  // ------------------------------------------------------------ wake-ups and notices

  onRevocations(listener: RevocationListener): () => void {
    return this.listening(this.revocationWakeups.subscribe(listener));
  }

  /**
   * After a revocation's commit: this process's listeners are called synchronously (so a revoke
   * route's own broker has closed the sockets before it answers), then other brokers are told.
   */
  protected async afterRevocation(memberIds: readonly string[], senders: readonly string[]): Promise<void> {
    if (memberIds.length > 0) {
      this.revocationWakeups.emit(memberIds);
      // Committed: other brokers still find it at their next periodic check (revokedAmong).
      await this.tellOthers("store.revocation_notify_failed", () => this.publishRevocations(memberIds));
    }
    await this.wakeReceipts(senders);
  }

  forwardDeliveries(recipientMemberIds: readonly string[]): Promise<void> {
    return this.publishDeliveries(recipientMemberIds);
  }

  onDeliveries(listener: DeliveryListener): () => void {
    return this.listening(this.wakeups.subscribe(listener));
  }

  onLeasedDeliveries(listener: LeasedDeliveryListener): () => void {
    return this.listening(this.leasedDeliveries.subscribe(listener));
  }

  onReceipts(listener: DeliveryListener): () => void {
    return this.listening(this.receiptWakeups.subscribe(listener));
  }

  /** After commit: wakes local receipt listeners and other brokers for these senders. */
  protected async wakeReceipts(senders: readonly string[]): Promise<void> {
    if (senders.length === 0) return;
    this.receiptWakeups.emit(senders);
    // The receipts are stored: a sender connected elsewhere gets them at its next hello.
    await this.tellOthers("store.receipt_notify_failed", () => this.publishReceipts(senders));
  }

  onTakeovers(listener: TakeoverListener): () => void {
    return this.listening(this.takeovers.subscribe(listener));
  }

  async relayHookStatus(entry: PendingHookStatus, notice: HookNotice): Promise<PresenceRow | null> {
    const holder = await this.guard(() => this.stashAndNotifyHook(entry, notice));
    // After commit, like every wake-up: a hello completing in this process takes the entry now.
    this.hookNotices.emit(notice);
    return holder;
  }

  async noticeHook(notice: HookNotice): Promise<void> {
    this.hookNotices.emit(notice);
    await this.guard(() => this.publishHookNotice(notice));
  }

  onHookNotices(listener: HookNoticeListener): () => void {
    return this.listening(this.hookNotices.subscribe(listener));
  }

  async answerHookStatus(answer: HookAnswer): Promise<void> {
    if (this.attachedBrokers.has(answer.toBrokerId)) {
      this.hookAnswers.emit(answer);
      return;
    }
    await this.guard(() => this.publishHookAnswer(answer));
  }

  onHookAnswers(listener: HookAnswerListener): () => void {
    return this.listening(this.hookAnswers.subscribe(listener));
  }

  reachesBroker(brokerId: string): boolean {
    return this.attachedBrokers.has(brokerId);
  }

  attachBroker(brokerId: string): void {
    if (this.attachedBrokers.has(brokerId)) return;
    this.attachedBrokers.add(brokerId);
    this.brokerAttached(brokerId);
  }
}
