// The ordered outbound queue of BrokerClient: pending sends, their stable send ids and how each one settles (SPEC §3, §7).
import type { Priority } from "@claudemesh/protocol";
import type { ClientError } from "./errors.js";
import type { SendResult } from "./types.js";

/** `queued`: waiting for a connection; `preparing`: fetching fan-out recipients; `inflight`: written, awaiting ack. */
export type SendStage = "queued" | "preparing" | "inflight";

export interface PendingSend {
  /**
   * The send's idempotency key (SPEC §3 "Sends are idempotent"): chosen once and written in every
   * frame of this message — after a reconnect and after a recipients_mismatch re-seal alike — so
   * the broker acks a resend whose first copy it stored with the same messageId instead of storing it twice.
   */
  readonly id: string;
  targetSpec: string;
  priority: Priority;
  /** Plaintext, kept in memory only for fan-out sends so they can be re-sealed (SPEC §4); cleared on settle. */
  text: string;
  /** Direct sends are encrypted once, when send() is called. */
  direct?: { nonce: string; ciphertext: string };
  /** Recipients the broker told us to seal for (recipients_mismatch `expected`). */
  expected?: string[];
  mismatchRetries: number;
  stage: SendStage;
  ackTimer?: NodeJS.Timeout;
  settled: boolean;
  resolve(result: SendResult): void;
  reject(error: ClientError): void;
  detachSignal?: () => void;
}

/** Sends in the caller's order; each settles exactly once (ack, error, timeout, abort or close). */
export class Outbox {
  private readonly items: PendingSend[] = [];
  private readonly inflight = new Map<string, PendingSend>();

  /** Adds a send at the end; the caller has already checked `waiting` against the cap. */
  add(item: PendingSend): void {
    this.items.push(item);
  }

  /** Sends not yet on the wire (what the outbound-queue cap counts). */
  get waiting(): number {
    return this.items.length - this.inflight.size;
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  /** The earliest send waiting to be written. */
  nextQueued(): PendingSend | undefined {
    return this.items.find((s) => s.stage === "queued");
  }

  /** Records that `item` is on the wire; `onTimeout` fires if no ack arrives in `timeoutMs`. */
  markInflight(item: PendingSend, timeoutMs: number, onTimeout: () => void): void {
    item.stage = "inflight";
    this.inflight.set(item.id, item);
    item.ackTimer = setTimeout(onTimeout, timeoutMs);
  }

  /** Removes and returns the in-flight send with id `id` (an answer for a settled or re-queued send finds nothing). */
  takeInflight(id: string): PendingSend | undefined {
    const item = this.inflight.get(id);
    if (!item) return undefined;
    this.inflight.delete(id);
    if (item.ackTimer) clearTimeout(item.ackTimer);
    return item;
  }

  /** After a drop: every written-but-unacked send goes back to `queued`, keeping its place. */
  requeueInflight(): void {
    for (const item of this.inflight.values()) {
      if (item.ackTimer) clearTimeout(item.ackTimer);
      item.stage = "queued";
      item.expected = undefined; // membership may have changed while away: fan-outs re-fetch recipients
    }
    this.inflight.clear();
  }

  settleOk(item: PendingSend, result: SendResult): void {
    if (this.remove(item)) item.resolve(result);
  }

  settleError(item: PendingSend, error: ClientError): void {
    if (this.remove(item)) item.reject(error);
  }

  /** Rejects every pending send with `error`. */
  failAll(error: ClientError): void {
    for (const item of [...this.items]) this.settleError(item, error);
  }

  private remove(item: PendingSend): boolean {
    if (item.settled) return false;
    item.settled = true;
    if (item.ackTimer) clearTimeout(item.ackTimer);
    if (this.inflight.get(item.id) === item) this.inflight.delete(item.id);
    item.detachSignal?.();
    const index = this.items.indexOf(item);
    if (index >= 0) this.items.splice(index, 1);
    item.text = "";
    return true;
  }
}
