// The durable per-agent record of inbound messages and where each one is on its way into the model's context (SPEC §3, §5).
import { closeSync, fdatasyncSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { InboundMessage } from "@claudemesh/client";
import { writeFileAtomic } from "../config/atomic.js";
import { DIR_MODE, FILE_MODE } from "../config/paths.js";
import type { FramedMessage } from "./framing.js";

/**
 * Where a message is. `pending`: on local disk (and so acked to the broker), not yet given to the
 * model by any route. `offered`: handed to a push route that confirms later (the session inbox
 * socket: confirmed by the transcript entry carrying our msg_id). `held`: Claude Code holds it
 * (its inbound policy asks the user); it is not offered again. `in_context`: the model has it —
 * the final state; no route gives it out again.
 */
export const DELIVERY_STATES = ["pending", "offered", "held", "in_context"] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** The routes of SPEC §5, in its order of preference. */
export const DELIVERY_ROUTES = ["inbox-socket", "hook", "channel", "check_messages"] as const;
export type DeliveryRoute = (typeof DELIVERY_ROUTES)[number];

export interface LedgerEntry extends FramedMessage {
  /** The sender's per-message nonce (duplicate detection beside messageId, SPEC §3); absent for group messages. */
  nonce?: string;
  receivedAt: number;
  state: DeliveryState;
  route?: DeliveryRoute;
  /** The id the push route carried (the inbox socket's msg_id) while offered. */
  offerId?: string;
  /** Where it was offered (the inbox socket path): an offer to a session that is gone is offered again. */
  offerTarget?: string;
  offeredAt?: number;
  inContextAt?: number;
  /** The `shown` receipt was handed to the broker connection. */
  shownSent: boolean;
}

/** An inbound message as the ledger takes it. */
export type ReceivedMessage = InboundMessage;

export interface LedgerOptions {
  /**
   * Finished entries are remembered (without their text) this long, so a late redelivery is still
   * caught. Default 7 days: the broker's retention (SPEC §7), past which it holds no copy to redeliver.
   * There is no count cap — the record is complete for the retention window, however many messages.
   */
  rememberMs?: number;
  now?: () => number;
}

type JournalOp =
  | { op: "add"; m: LedgerEntry }
  | {
      op: "set";
      ids: string[];
      state: DeliveryState;
      route?: DeliveryRoute;
      offerId?: string;
      offerTarget?: string;
      at: number;
    }
  | { op: "shown"; ids: string[] };

const DAY_MS = 86_400_000;

/**
 * One agent identity's inbound messages, journaled to a 0600 JSON-lines file: every change is
 * appended and fdatasync'ed before the call returns, so a message is on local disk before the
 * client acks it to the broker, and a state reached survives a crash of the MCP server. Finished
 * messages lose their text at the next compaction and are kept as small tombstones for
 * `rememberMs`, so a redelivery days later is still recognised as a duplicate.
 */
export class DeliveryLedger {
  private readonly entries = new Map<string, LedgerEntry>();
  private readonly byNonce = new Map<string, string>();
  private fd: number;
  private journalLines = 0;
  private readonly rememberMs: number;
  private readonly now: () => number;

  constructor(
    readonly path: string,
    options: LedgerOptions = {},
  ) {
    this.rememberMs = options.rememberMs ?? 7 * DAY_MS;
    this.now = options.now ?? Date.now;
    mkdirSync(dirname(path), { recursive: true, mode: DIR_MODE });
    this.load();
    this.compact();
    this.fd = openSync(path, "a", FILE_MODE);
  }

  /** Stores `message` durably. `duplicate` when its messageId or (sender, nonce) was seen before: nothing changes. */
  receive(message: ReceivedMessage): "new" | "duplicate" {
    if (this.entries.has(message.messageId)) return "duplicate";
    if (message.nonce !== undefined && this.byNonce.has(nonceKey(message.fromPubkey, message.nonce)))
      return "duplicate";
    const entry: LedgerEntry = {
      messageId: message.messageId,
      meshSlug: message.meshSlug,
      from: message.from,
      fromPubkey: message.fromPubkey,
      targetSpec: message.targetSpec,
      kind: message.kind,
      priority: message.priority,
      sentAt: message.sentAt,
      text: message.text,
      ...(message.nonce !== undefined ? { nonce: message.nonce } : {}),
      receivedAt: this.now(),
      state: "pending",
      shownSent: false,
    };
    this.append({ op: "add", m: entry });
    this.apply({ op: "add", m: entry });
    return "new";
  }

  get(messageId: string): LedgerEntry | undefined {
    return this.entries.get(messageId);
  }

  /** Entries in `state`, oldest first. */
  inState(state: DeliveryState): LedgerEntry[] {
    return [...this.entries.values()]
      .filter((e) => e.state === state)
      .sort((a, b) => a.receivedAt - b.receivedAt);
  }

  /** Entries offered under `offerId` that are not in the context yet (offered, or held by Claude Code). */
  byOffer(offerId: string): LedgerEntry[] {
    return [...this.entries.values()].filter(
      (e) => (e.state === "offered" || e.state === "held") && e.offerId === offerId,
    );
  }

  /** In the model's context, but the `shown` receipt was not handed to the broker connection yet. */
  unreceipted(): LedgerEntry[] {
    return [...this.entries.values()].filter((e) => e.state === "in_context" && !e.shownSent);
  }

  /**
   * Moves `ids` to `state` and returns the entries that moved. `in_context` is final: an entry
   * there never moves again, so a message is given to the model once whatever the routes do.
   */
  transition(
    ids: readonly string[],
    state: DeliveryState,
    detail: { route?: DeliveryRoute; offerId?: string; offerTarget?: string } = {},
  ): LedgerEntry[] {
    const moving = ids
      .map((id) => this.entries.get(id))
      .filter((e): e is LedgerEntry => e !== undefined && e.state !== "in_context" && e.state !== state);
    if (moving.length === 0) return [];
    const op: JournalOp = {
      op: "set",
      ids: moving.map((e) => e.messageId),
      state,
      ...(detail.route !== undefined ? { route: detail.route } : {}),
      ...(detail.offerId !== undefined ? { offerId: detail.offerId } : {}),
      ...(detail.offerTarget !== undefined ? { offerTarget: detail.offerTarget } : {}),
      at: this.now(),
    };
    this.append(op);
    this.apply(op);
    return moving;
  }

  /** Records that the `shown` receipts of `ids` went to the broker connection. */
  markShownSent(ids: readonly string[]): void {
    const open = ids.filter((id) => {
      const e = this.entries.get(id);
      return e !== undefined && !e.shownSent;
    });
    if (open.length === 0) return;
    const op: JournalOp = { op: "shown", ids: open };
    this.append(op);
    this.apply(op);
  }

  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
  }

  private append(op: JournalOp): void {
    const line = Buffer.from(`${JSON.stringify(op)}\n`, "utf8");
    let offset = 0;
    while (offset < line.length) offset += writeSync(this.fd, line, offset, line.length - offset);
    fdatasyncSync(this.fd);
    this.journalLines += 1;
    if (this.journalLines > 2 * this.entries.size + 1_000) this.rotate();
  }

  private apply(op: JournalOp): void {
    if (op.op === "add") {
      this.entries.set(op.m.messageId, op.m);
      if (op.m.nonce !== undefined) this.byNonce.set(nonceKey(op.m.fromPubkey, op.m.nonce), op.m.messageId);
      return;
    }
    for (const id of op.ids) {
      const entry = this.entries.get(id);
      if (!entry) continue;
      if (op.op === "shown") {
        entry.shownSent = true;
        continue;
      }
      if (entry.state === "in_context") continue;
      entry.state = op.state;
      if (op.route !== undefined) entry.route = op.route;
      if (op.state === "offered") {
        entry.offeredAt = op.at;
        if (op.offerId !== undefined) entry.offerId = op.offerId;
        if (op.offerTarget !== undefined) entry.offerTarget = op.offerTarget;
      }
      if (op.state === "in_context") entry.inContextAt = op.at;
    }
  }

  private load(): void {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw err;
    }
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      try {
        this.apply(JSON.parse(line) as JournalOp);
      } catch {
        // A torn last line from a crash mid-append: everything before it stands.
      }
    }
  }

  /** Rewrites the journal as one `add` per entry; finished entries keep no text and expire. */
  private compact(): void {
    const cutoff = this.now() - this.rememberMs;
    const finished = [...this.entries.values()].filter((e) => e.state === "in_context" && e.shownSent);
    for (const entry of finished) {
      if (entry.receivedAt < cutoff) {
        this.entries.delete(entry.messageId);
        if (entry.nonce !== undefined) this.byNonce.delete(nonceKey(entry.fromPubkey, entry.nonce));
      } else {
        entry.text = "";
      }
    }
    const lines = [...this.entries.values()].map((m) => JSON.stringify({ op: "add", m } satisfies JournalOp));
    writeFileAtomic(this.path, lines.length > 0 ? `${lines.join("\n")}\n` : "", FILE_MODE);
    this.journalLines = lines.length;
  }

  private rotate(): void {
    closeSync(this.fd);
    this.compact();
    this.fd = openSync(this.path, "a", FILE_MODE);
  }
}

function nonceKey(senderPubkey: string, nonce: string): string {
  return `${senderPubkey}:${nonce}`;
}
