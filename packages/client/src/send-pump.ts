// The send part of BrokerClient: the outbox, sealing (direct box or group seal), the recipients_mismatch retry and stable send ids (SPEC §3, §4).
import { encryptDirect, randomId, sealGroup, type SealedGroup } from "@claudemesh/crypto";
import type { Ack, ErrorFrame, Priority } from "@claudemesh/protocol";
import { ClientError } from "./errors.js";
import type { FrameLink } from "./link.js";
import { Outbox, type PendingSend } from "./outbox.js";
import { assertFrameSize, sendFrameText, validateSend } from "./send-frame.js";
import type { SendResult } from "./types.js";

export interface SendPumpOptions {
  /** Wait this long for a send's ack once it is on the wire. */
  sendAckTimeoutMs: number;
  /** Sends waiting for a connection before new ones are refused with queue_full. */
  outboundQueueMax: number;
  /** Largest frame written; bigger sends fail with too_large. */
  maxFrameBytes: number;
  /** Re-seals after `recipients_mismatch` before giving up. */
  maxMismatchRetries: number;
}

export interface SendPumpDeps {
  link: FrameLink;
  /** This peer's keys: the pubkey is never addressed, the secret key encrypts and seals. */
  pubkey: string;
  secretKey: string;
  /** The mesh every group message is signed for (part of the canonical group string, SPEC §4). */
  meshId: string;
  /** The pubkeys a fan-out (`*` / `#name`) must be sealed for right now. */
  recipients(targetSpec: string): Promise<string[]>;
  options: SendPumpOptions;
}

export interface SendOptions {
  /** Abort a send still waiting in the queue (or waiting for its ack; it may then still be delivered). */
  signal?: AbortSignal;
}

/**
 * Writes sends in the caller's order while the link is authenticated. Each message keeps the id
 * it was given by send() for all of its writes, so a resend after a lost ack is recognised by the
 * broker as the same message (SPEC §3 "Sends are idempotent").
 */
export class SendPump {
  private readonly outbox = new Outbox();
  private pumping = false;

  constructor(private readonly deps: SendPumpDeps) {}

  /** Sends not yet on the wire. */
  get waiting(): number {
    return this.outbox.waiting;
  }

  /** Sends written and waiting for their ack. */
  get inflight(): number {
    return this.outbox.inflightCount;
  }

  /** Validates, encrypts (direct) and queues a send; resolves with the broker's ack. */
  send(
    targetSpec: string,
    message: string,
    priority: Priority,
    options: SendOptions = {},
  ): Promise<SendResult> {
    let item: PendingSend;
    try {
      item = this.prepare(targetSpec, message, priority);
    } catch (err) {
      return Promise.reject(err);
    }
    const { outboundQueueMax } = this.deps.options;
    if (this.outbox.waiting >= outboundQueueMax) {
      return Promise.reject(
        new ClientError(
          "queue_full",
          `outbound queue is full (${outboundQueueMax} messages waiting for broker at ${this.deps.link.httpBase}; ${this.deps.link.describeLink()}) — try again once it reconnects`,
        ),
      );
    }
    if (options.signal?.aborted) {
      return Promise.reject(new ClientError("aborted", "send aborted before it was queued"));
    }
    const promise = new Promise<SendResult>((resolve, reject) => {
      item.resolve = resolve;
      item.reject = reject;
    });
    if (options.signal) {
      const signal = options.signal;
      const onAbort = (): void => {
        const wasInflight = item.stage === "inflight";
        this.outbox.settleError(
          item,
          new ClientError(
            "aborted",
            wasInflight
              ? "send aborted while waiting for its ack; it may still be delivered"
              : "send aborted while queued; nothing was sent",
          ),
        );
      };
      signal.addEventListener("abort", onAbort, { once: true });
      item.detachSignal = () => signal.removeEventListener("abort", onAbort);
    }
    this.outbox.add(item);
    this.kick();
    return promise;
  }

  /** Starts writing queued sends if the link is authenticated (after hello_ack, after a re-queue). */
  kick(): void {
    void this.pump();
  }

  /** Settles the send an ack answers; false when no send waits for its id. */
  onAck(frame: Ack): boolean {
    const item = this.outbox.takeInflight(frame.id);
    if (!item) return false;
    this.outbox.settleOk(item, { messageId: frame.messageId, queued: frame.queued });
    return true;
  }

  /** Handles an error frame answering a send (re-seal on mismatch, else reject); false when it is not one. */
  onError(frame: ErrorFrame & { id: string }): boolean {
    const item = this.outbox.takeInflight(frame.id);
    if (!item) return false;
    const { maxMismatchRetries } = this.deps.options;
    if (
      frame.code === "recipients_mismatch" &&
      frame.expected !== undefined &&
      item.mismatchRetries < maxMismatchRetries
    ) {
      // The recipient set changed between list_peers and send (SPEC §3): re-seal to what the broker expects.
      const expected = frame.expected.filter((p) => p !== this.deps.pubkey);
      if (expected.length > 0) {
        item.mismatchRetries += 1;
        item.expected = expected;
        item.stage = "queued";
        this.kick();
        return true;
      }
    }
    this.outbox.settleError(
      item,
      new ClientError(frame.code, sendErrorMessage(frame, item.targetSpec), { expected: frame.expected }),
    );
    return true;
  }

  /** After a drop: written-but-unacked sends go back to the queue, keeping their place and their ids. */
  requeue(): void {
    this.outbox.requeueInflight();
  }

  /** Rejects every pending send with `error`. */
  failAll(error: ClientError): void {
    this.outbox.failAll(error);
  }

  private prepare(targetSpec: string, message: string, priority: Priority): PendingSend {
    const fanout = validateSend(targetSpec, message, priority, this.deps.pubkey);
    const item: PendingSend = {
      id: randomId(),
      targetSpec,
      priority,
      text: fanout ? message : "",
      mismatchRetries: 0,
      stage: "queued",
      settled: false,
      resolve: () => undefined,
      reject: () => undefined,
    };
    if (!fanout) {
      item.direct = cryptoCall(() => encryptDirect(message, targetSpec, this.deps.secretKey));
      // Refuse an oversize direct message now rather than have the broker close the socket (1009).
      assertFrameSize(sendFrameText(item), this.deps.options.maxFrameBytes);
    }
    return item;
  }

  /** Writes queued sends in order while connected; fan-outs first fetch the current recipients. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        if (!this.deps.link.authenticated) return;
        const item = this.outbox.nextQueued();
        if (!item) return;
        item.stage = "preparing";
        let text: string;
        try {
          let group: SealedGroup | undefined;
          if (item.direct === undefined) {
            const recipients = item.expected ?? (await this.deps.recipients(item.targetSpec));
            group = cryptoCall(() =>
              sealGroup(item.text, recipients, this.deps.secretKey, this.deps.meshId, item.targetSpec),
            );
          }
          text = sendFrameText(item, group);
          assertFrameSize(text, this.deps.options.maxFrameBytes, group?.keys.length);
        } catch (err) {
          if (item.settled) continue;
          if (err instanceof ClientError && err.code === "not_connected") {
            item.stage = "queued"; // the connection dropped while fetching recipients: retry after reconnect
            continue;
          }
          this.outbox.settleError(item, toClientError(err));
          continue;
        }
        if (item.settled) continue; // aborted while recipients were fetched
        if (!this.deps.link.authenticated) {
          item.stage = "queued";
          return;
        }
        this.transmit(item, text);
      }
    } finally {
      this.pumping = false;
    }
  }

  private transmit(item: PendingSend, text: string): void {
    const { sendAckTimeoutMs } = this.deps.options;
    this.outbox.markInflight(item, sendAckTimeoutMs, () => {
      this.outbox.settleError(
        item,
        new ClientError(
          "timeout",
          `broker at ${this.deps.link.httpBase} did not acknowledge the message within ${sendAckTimeoutMs} ms; it may or may not have been delivered`,
        ),
      );
    });
    this.deps.link.writeText(text);
  }
}

/** Crypto argument errors (e.g. a lone surrogate in the text) become `invalid_argument`. */
function cryptoCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ClientError) throw err;
    throw new ClientError("invalid_argument", `cannot encrypt the message: ${errorText(err)}`, {
      cause: err,
    });
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function toClientError(err: unknown): ClientError {
  return err instanceof ClientError ? err : new ClientError("internal", errorText(err), { cause: err });
}

function sendErrorMessage(frame: ErrorFrame, targetSpec: string): string {
  const target = targetSpec.length === 64 ? `${targetSpec.slice(0, 8)}…` : targetSpec;
  return `broker refused the message to ${target}: ${frame.message}`;
}
