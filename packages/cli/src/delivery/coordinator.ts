// Gives each inbound message to the model exactly once, by the first route that works (SPEC §5): push routes first, then hooks and check_messages for what is still pending.
import type { Priority } from "@claudemesh/protocol";
import type { DeliveryLedger, DeliveryRoute, LedgerEntry, ReceivedMessage } from "./ledger.js";

/** One inbound mailbox: an agent identity's ledger and how to tell its broker that messages were shown. */
export interface Mailbox {
  key: string;
  ledger: DeliveryLedger;
  /** Sends the `shown` receipt (SPEC §3) for `messageIds` over this identity's broker connection. */
  sendShown(messageIds: string[]): void;
}

/** An entry with the mailbox it belongs to. */
export interface Delivery {
  mailbox: Mailbox;
  entry: LedgerEntry;
}

export type OfferResult =
  /** The first `count` of the batch were handed over to `target`; in the model's context once confirmed under `offerId`. */
  | { kind: "offered"; offerId: string; count: number; target?: string }
  /** The route puts it straight into the context (nothing to confirm). */
  | { kind: "in_context" }
  /** Not now (rate limit, queue full): try again in `retryInMs`, with whatever is pending then. */
  | { kind: "later"; retryInMs: number }
  /** The route cannot take messages; the next route is tried. */
  | { kind: "unavailable"; reason: string };

/** A route that pushes messages into the session by itself (the inbox socket; channel notifications). */
export interface PushRoute {
  readonly name: Extract<DeliveryRoute, "inbox-socket" | "channel">;
  available(): boolean;
  offer(batch: readonly Delivery[], priority: Priority): Promise<OfferResult>;
}

export interface CoordinatorOptions {
  pushRoutes: readonly PushRoute[];
  /** A burst arriving within this many ms goes out as one offer. Default 25. */
  coalesceMs?: number;
  log?: (message: string) => void;
}

const PRIORITY_RANK: Record<Priority, number> = { now: 0, next: 1, low: 2 };

/** The most urgent priority in `batch` (a coalesced offer goes at the pace of its most urgent message). */
export function batchPriority(batch: readonly Delivery[]): Priority {
  let best: Priority = "low";
  for (const { entry } of batch)
    if (PRIORITY_RANK[entry.priority] < PRIORITY_RANK[best]) best = entry.priority;
  return best;
}

interface Waiter {
  resolve(batch: Delivery[]): void;
}

export class DeliveryCoordinator {
  private readonly mailboxes = new Map<string, Mailbox>();
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing = false;
  private flushAgain = false;
  private closed = false;
  private readonly waiters = new Set<Waiter>();
  private readonly coalesceMs: number;
  private readonly log: (message: string) => void;

  constructor(private readonly options: CoordinatorOptions) {
    this.coalesceMs = options.coalesceMs ?? 25;
    this.log = options.log ?? (() => undefined);
  }

  addMailbox(mailbox: Mailbox): void {
    this.mailboxes.set(mailbox.key, mailbox);
    // Restart: receipts not yet handed over go now; pending messages are offered again.
    this.sendReceipts(
      mailbox,
      mailbox.ledger.unreceipted().map((e) => e.messageId),
    );
    this.schedule();
  }

  /** Hands over every `shown` receipt that could not be handed over before (no broker connection yet). */
  resendReceipts(): void {
    for (const mailbox of this.mailboxes.values())
      this.sendReceipts(
        mailbox,
        mailbox.ledger.unreceipted().map((e) => e.messageId),
      );
  }

  /**
   * Takes one inbound message: on disk when this returns (the broker ack may follow), then offered.
   * Returns false for a duplicate (seen before, also across restarts).
   */
  receive(key: string, message: ReceivedMessage): boolean {
    const mailbox = this.mailboxes.get(key);
    if (!mailbox) throw new Error(`no mailbox ${key}`);
    if (mailbox.ledger.receive(message) === "duplicate") return false;
    this.schedule();
    return true;
  }

  /** Every delivery in `state`, oldest first, across mailboxes. */
  inState(state: LedgerEntry["state"]): Delivery[] {
    const out: Delivery[] = [];
    for (const mailbox of this.mailboxes.values())
      for (const entry of mailbox.ledger.inState(state)) out.push({ mailbox, entry });
    return out.sort((a, b) => a.entry.receivedAt - b.entry.receivedAt);
  }

  /**
   * A pull route (hook, check_messages) takes what is pending — never what a push route already
   * offered — and the model has it when this returns: the entries are in_context and receipted.
   */
  take(
    route: Extract<DeliveryRoute, "hook" | "check_messages">,
    filter: (e: LedgerEntry) => boolean = () => true,
  ): Delivery[] {
    const batch = this.inState("pending").filter((d) => filter(d.entry));
    return this.markInContext(batch, route);
  }

  /**
   * Resolves with pending messages (taken into the context by `route`) as soon as some are
   * older than `graceMs` — long enough for a working push route to have offered them — or with
   * none after `waitMs` or when `signal` aborts. Used by the rewake hook.
   */
  waitForPending(
    waitMs: number,
    graceMs: number,
    signal: AbortSignal,
    filter: (e: LedgerEntry) => boolean = () => true,
  ): Promise<Delivery[]> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      let poll: NodeJS.Timeout | null = null;
      const waiter: Waiter = {
        resolve: (batch) => {
          if (timer) clearTimeout(timer);
          if (poll) clearInterval(poll);
          signal.removeEventListener("abort", onAbort);
          this.waiters.delete(waiter);
          resolve(batch);
        },
      };
      const onAbort = (): void => waiter.resolve([]);
      const check = (): void => {
        const cutoff = Date.now() - graceMs;
        const ripe = this.inState("pending").filter((d) => filter(d.entry));
        if (ripe.length > 0 && ripe.some((d) => d.entry.receivedAt <= cutoff)) {
          waiter.resolve(this.markInContext(ripe, "hook"));
        }
      };
      if (signal.aborted) return resolve([]);
      signal.addEventListener("abort", onAbort, { once: true });
      timer = setTimeout(() => waiter.resolve([]), waitMs);
      poll = setInterval(check, Math.max(100, Math.min(graceMs, 1_000)));
      timer.unref();
      poll.unref();
      this.waiters.add(waiter);
      check();
    });
  }

  /** The push route confirmed that the offer `offerId` is in the model's context (the transcript shows it). */
  confirmOffer(offerId: string): Delivery[] {
    const batch: Delivery[] = [];
    for (const mailbox of this.mailboxes.values())
      for (const entry of mailbox.ledger.byOffer(offerId)) batch.push({ mailbox, entry });
    const moved = this.markInContext(batch, "inbox-socket");
    // The route keeps one offer outstanding: the next one can go now.
    if (moved.length > 0) this.schedule();
    return moved;
  }

  /**
   * Offers made to another target than `current` (a Claude Code session that is gone: this is a
   * new session, or the server restarted under a new one) go back to pending; they were never
   * confirmed in that session's transcript. Returns how many.
   */
  reclaimOffers(current: string | null): number {
    let count = 0;
    for (const mailbox of this.mailboxes.values()) {
      const stale = mailbox.ledger
        .inState("offered")
        .filter((e) => e.offerTarget !== current)
        .map((e) => e.messageId);
      count += mailbox.ledger.transition(stale, "pending").length;
    }
    if (count > 0) this.schedule();
    return count;
  }

  /**
   * The push route reports where the offer `offerId` went instead of the context: `pending`
   * (refused, dropped — the other routes take it), `held` (Claude Code holds it for its user, or
   * the user declined it; no route offers it again) or `offered` again (a held message released).
   */
  offerStatus(offerId: string, state: "pending" | "held" | "offered", why: string): void {
    let count = 0;
    for (const mailbox of this.mailboxes.values()) {
      const ids = mailbox.ledger.byOffer(offerId).map((e) => e.messageId);
      count += mailbox.ledger.transition(ids, state).length;
    }
    if (count === 0) return;
    if (state === "held")
      this.log(`${count} peer message(s) held by Claude Code (${why}); they wait for your approval there`);
    if (state === "pending") {
      this.log(
        `${count} peer message(s) not taken by the session inbox (${why}); other routes will deliver them`,
      );
      this.schedule();
    }
  }

  /** Offers pending messages on the first available push route, after a short coalescing delay. */
  schedule(delayMs = this.coalesceMs): void {
    if (this.closed) return;
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      void this.flush();
    }, delayMs);
    this.flushTimer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    for (const w of [...this.waiters]) w.resolve([]);
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    let retryInMs: number | null = null;
    try {
      const pending = this.inState("pending");
      if (pending.length === 0) return;
      for (const route of this.options.pushRoutes) {
        if (!route.available()) continue;
        const result = await route.offer(pending, batchPriority(pending));
        if (result.kind === "unavailable") {
          this.log(`route ${route.name} unavailable: ${result.reason}`);
          continue;
        }
        if (result.kind === "later") {
          retryInMs = result.retryInMs;
          break;
        }
        if (result.kind === "in_context") this.markInContext(pending, route.name);
        else {
          for (const { mailbox, entry } of pending.slice(0, result.count))
            mailbox.ledger.transition([entry.messageId], "offered", {
              route: route.name,
              offerId: result.offerId,
              ...(result.target !== undefined ? { offerTarget: result.target } : {}),
            });
          if (result.count < pending.length) this.flushAgain = true;
        }
        break;
      }
    } catch (err) {
      this.log(`offering messages failed: ${err instanceof Error ? err.message : String(err)}`);
      retryInMs = 1_000;
    } finally {
      this.flushing = false;
      if (this.flushAgain) {
        this.flushAgain = false;
        this.schedule();
      } else if (retryInMs !== null) this.schedule(retryInMs);
    }
  }

  private markInContext(batch: readonly Delivery[], route: DeliveryRoute): Delivery[] {
    const moved: Delivery[] = [];
    const byMailbox = new Map<Mailbox, string[]>();
    for (const d of batch) {
      const ids = byMailbox.get(d.mailbox) ?? [];
      ids.push(d.entry.messageId);
      byMailbox.set(d.mailbox, ids);
    }
    for (const [mailbox, ids] of byMailbox) {
      const entries = mailbox.ledger.transition(ids, "in_context", { route });
      for (const entry of entries) moved.push({ mailbox, entry });
      this.sendReceipts(
        mailbox,
        entries.map((e) => e.messageId),
      );
    }
    return moved;
  }

  private sendReceipts(mailbox: Mailbox, ids: string[]): void {
    if (ids.length === 0) return;
    try {
      mailbox.sendShown(ids);
      mailbox.ledger.markShownSent(ids);
    } catch (err) {
      this.log(`shown receipt not sent: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
