// The primary route (SPEC §5.1): Claude Code's session inbox socket — one JSON line per offer, receipts on a socket of ours beside it.
import { randomUUID } from "node:crypto";
import { chmodSync, rmSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { dirname, join } from "node:path";
import type { Priority } from "@claudemesh/protocol";
import type { Delivery, OfferResult, PushRoute } from "./coordinator.js";
import { frameMessages } from "./framing.js";

/** Where Claude Code's inbox is: from `CLAUDE_CODE_MESSAGING_SOCKET` / `_TOKEN`, or the session registry (a late bind). */
export interface InboxTarget {
  socketPath: string;
  token?: string;
}

/** Claude Code's priorities for an inbox line. */
export type InboxPriority = "now" | "next" | "later";

/**
 * claudemesh priority → inbox priority (SPEC §5): `now` at the next tool boundary without aborting
 * the model's stream (`next`), `next` after the current turn (`later`), `low` too.
 */
export const INBOX_PRIORITY: Record<Priority, InboxPriority> = { now: "next", next: "later", low: "later" };

/** How a receipt from Claude Code moves an offer. */
export type OfferOutcome = "offered" | "pending" | "held";

/**
 * Claude Code's receipt statuses (`peer_message_status`) and what each means for the offer:
 * `held` waits for its user; `delivered` (a held message released) is on its way into the context
 * again; `denied` / `expired` end it without showing it; `refused` (the inbox is off) and
 * `dropped` (rate limit, duplicate, full queue) leave it to the other routes.
 */
export const RECEIPT_OUTCOME: Record<string, { outcome: OfferOutcome; cooldownMs: number }> = {
  held: { outcome: "held", cooldownMs: 0 },
  delivered: { outcome: "offered", cooldownMs: 0 },
  denied: { outcome: "held", cooldownMs: 0 },
  expired: { outcome: "held", cooldownMs: 0 },
  refused: { outcome: "pending", cooldownMs: 60_000 },
  dropped: { outcome: "pending", cooldownMs: 5_000 },
};

export interface InboxRouteOptions {
  target: () => InboxTarget | null;
  /** Offers sent and not yet confirmed or settled (Claude Code queues at most 50). */
  outstanding: () => number;
  /** A receipt from Claude Code about the offer `offerId`. */
  onReceipt: (offerId: string, status: string, outcome: OfferOutcome, detail: string) => void;
  log?: (message: string) => void;
  now?: () => number;
  /** Lines in a burst (Claude Code allows ≈30 per sender, then 0.5/s). Default 20. */
  burst?: number;
  /** Lines per second after the burst. Default 0.5. */
  refillPerSecond?: number;
  /**
   * Offers not yet confirmed at most. Default 1: Claude Code merges lines that queue up into one
   * turn and keeps only the first line's msg_id in the transcript, so a second outstanding line
   * could never be confirmed. What arrives meanwhile is coalesced into the next line (or taken by a hook).
   */
  maxOutstanding?: number;
  /** Content bytes in one line at most; the rest of a burst goes in the next line. Default 256 KiB. */
  maxLineBytes?: number;
}

/** Refill-on-read token bucket. */
class TokenBucket {
  private tokens: number;
  private at: number;
  constructor(
    private readonly capacity: number,
    private readonly perMs: number,
    private readonly now: () => number,
  ) {
    this.tokens = capacity;
    this.at = now();
  }
  /** Takes a token, or returns how many ms until one is there. */
  take(): number {
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + (t - this.at) * this.perMs);
    this.at = t;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - this.tokens) / this.perMs);
  }
}

export class InboxSocketRoute implements PushRoute {
  readonly name = "inbox-socket" as const;
  private server: Server | null = null;
  private listenPath: string | null = null;
  private cooldownUntil = 0;
  private readonly bucket: TokenBucket;
  private readonly now: () => number;
  private readonly log: (message: string) => void;

  constructor(private readonly options: InboxRouteOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => undefined);
    this.bucket = new TokenBucket(options.burst ?? 20, (options.refillPerSecond ?? 0.5) / 1000, this.now);
  }

  /** The `from` Claude Code sends receipts to (`uds:<our socket>`), once listening. */
  get replyAddress(): string | null {
    return this.listenPath ? `uds:${this.listenPath}` : null;
  }

  available(): boolean {
    return this.options.target() !== null && this.now() >= this.cooldownUntil;
  }

  /** Pauses the route for `ms` (the inbox refused or dropped a line). */
  coolDown(ms: number): void {
    this.cooldownUntil = Math.max(this.cooldownUntil, this.now() + ms);
  }

  async offer(batch: readonly Delivery[], priority: Priority): Promise<OfferResult> {
    const target = this.options.target();
    if (!target) return { kind: "unavailable", reason: "no session inbox socket" };
    await this.ensureListening(target);
    if (this.options.outstanding() >= (this.options.maxOutstanding ?? 1))
      return { kind: "later", retryInMs: 2_000 };
    const wait = this.bucket.take();
    if (wait > 0) return { kind: "later", retryInMs: wait };
    const maxBytes = this.options.maxLineBytes ?? 256 * 1024;
    let count = batch.length;
    let content = frameMessages(batch.map((d) => d.entry));
    while (count > 1 && Buffer.byteLength(content) > maxBytes) {
      count = Math.max(1, Math.floor(count / 2));
      content = frameMessages(batch.slice(0, count).map((d) => d.entry));
    }
    const offerId = randomUUID();
    const line = {
      type: "user",
      msgV: 1,
      msg_id: offerId,
      ...(this.replyAddress ? { from: this.replyAddress } : {}),
      priority: INBOX_PRIORITY[priority],
      message: { role: "user", content },
    };
    try {
      await writeLines(target, [line]);
    } catch (err) {
      this.coolDown(10_000);
      return { kind: "unavailable", reason: `inbox socket ${target.socketPath}: ${(err as Error).message}` };
    }
    return { kind: "offered", offerId, count, target: target.socketPath };
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (this.listenPath) rmSync(this.listenPath, { force: true });
    this.listenPath = null;
  }

  /** Listens for receipts on `claudemesh-<pid>.sock` in the inbox socket's own directory (Claude Code answers only there). */
  private async ensureListening(target: InboxTarget): Promise<void> {
    const path = join(dirname(target.socketPath), `claudemesh-${process.pid}.sock`);
    if (this.listenPath === path) return;
    await this.close();
    rmSync(path, { force: true });
    const server = createServer((socket) => {
      let buffer = "";
      socket.setEncoding("utf8");
      socket.on("error", () => socket.destroy());
      socket.on("data", (chunk: string) => {
        buffer += chunk;
        if (buffer.length > 64 * 1024) return void socket.destroy();
        let end: number;
        while ((end = buffer.indexOf("\n")) !== -1) {
          this.onReceiptLine(buffer.slice(0, end));
          buffer = buffer.slice(end + 1);
        }
      });
      socket.on("end", () => {
        if (buffer.trim() !== "") this.onReceiptLine(buffer);
      });
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(path, () => {
          server.off("error", reject);
          resolve();
        });
      });
      chmodSync(path, 0o600);
      server.unref();
      this.server = server;
      this.listenPath = path;
    } catch (err) {
      this.log(
        `receipts socket ${path} not available: ${(err as Error).message}; offers go without a reply address`,
      );
    }
  }

  private onReceiptLine(line: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof raw !== "object" || raw === null) return;
    const r = raw as Record<string, unknown>;
    if (
      r.action !== "peer_message_status" ||
      typeof r.orig_msg_id !== "string" ||
      typeof r.status !== "string"
    )
      return;
    const status = r.status === "expired" && r.status_detail === "refused" ? "refused" : r.status;
    const mapping = RECEIPT_OUTCOME[status];
    if (!mapping) return;
    if (mapping.cooldownMs > 0) this.coolDown(mapping.cooldownMs);
    const detail = typeof r.drop_reason === "string" ? `${status}: ${r.drop_reason}` : status;
    this.options.onReceipt(r.orig_msg_id, status, mapping.outcome, detail);
  }
}

/** Writes `lines` (after the auth line when a token is known) to the inbox socket and closes. */
function writeLines(target: InboxTarget, lines: object[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path: target.socketPath });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("timed out writing"));
    }, 5_000);
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once("connect", () => {
      const text = [
        ...(target.token ? [JSON.stringify({ type: "auth", token: target.token })] : []),
        ...lines.map((l) => JSON.stringify(l)),
      ].join("\n");
      socket.end(`${text}\n`, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  });
}
