// The inbound part of BrokerClient: dedup → decrypt → hand-off → client_ack, in that order, for every push (SPEC §3 delivery).
import { decryptDirect, openGroup } from "@claudemesh/crypto";
import { isGroupPush, type Push } from "@claudemesh/protocol";
import { AckBatcher } from "./ack-batcher.js";
import { ClientError } from "./errors.js";
import { Inbox } from "./inbox.js";
import type { FrameLink } from "./link.js";
import { BoundedSet } from "./lru-set.js";
import { messageKind, type DroppedNotice, type InboundMessage, type UndecryptableMessage } from "./types.js";

/**
 * Durable hand-off of one inbound message. The message is acknowledged to the broker only once
 * the returned promise resolves; a rejection leaves it unacknowledged, so the broker delivers it again.
 * This pipeline remembers what it handed on only in memory (`dedupMax` ids): a sink that gives
 * messages to an agent keeps its own durable record (SPEC §3), e.g. packages/cli/src/delivery/ledger.ts,
 * so a redelivery after a restart or after more than `dedupMax` other messages is not shown twice.
 */
export type InboundSink = (message: InboundMessage) => Promise<void> | void;

/** What the inbound pipeline reports; none of these may throw. */
export interface InboundEvents {
  message(message: InboundMessage): void;
  undecryptable(notice: UndecryptableMessage): void;
  dropped(notice: DroppedNotice): void;
  error(error: ClientError): void;
}

export interface InboundDeps {
  link: FrameLink;
  meshSlug: string;
  /** This peer's secret key, to decrypt pushes. */
  secretKey: string;
  /** When set, replaces the push buffer and the `message` event (see BrokerClientConfig.inboundSink). */
  sink?: InboundSink;
  events: InboundEvents;
  /** Inbound messages kept for drain() when there is no sink. */
  pushBufferMax: number;
  /** Message ids (and sender nonces) remembered to drop redeliveries. */
  dedupMax: number;
}

/** A message the sink holds right now, and the ids of copies that arrived meanwhile. */
interface HandOff {
  ids: Set<string>;
}

/**
 * Each push is handed on at most once per messageId and per (senderPubkey, nonce) — the nonce is
 * fresh per message, so a copy the broker stored again under a new id is caught too — and acked
 * only after its hand-off: buffered and emitted, or (with a sink) durably accepted by the sink.
 * Redeliveries are acked again without being handed on; an undecryptable push is reported
 * (metadata only) and acked so it does not come back forever.
 */
export class InboundPipeline {
  private readonly seenIds: BoundedSet;
  private readonly seenNonces: BoundedSet;
  private readonly inbox: Inbox;
  private readonly acks: AckBatcher;
  /** In the sink now, under `id:<messageId>` and `nonce:<senderPubkey>:<nonce>` (both point at the same record). */
  private readonly handing = new Map<string, HandOff>();
  /** Sink calls run one at a time, in arrival order. */
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly deps: InboundDeps) {
    this.seenIds = new BoundedSet(deps.dedupMax);
    this.seenNonces = new BoundedSet(deps.dedupMax);
    this.inbox = new Inbox(deps.pushBufferMax);
    this.acks = new AckBatcher((ids) => this.deps.link.write({ type: "client_ack", messageIds: ids }));
  }

  get buffered(): number {
    return this.inbox.size;
  }

  get droppedTotal(): number {
    return this.inbox.droppedTotal;
  }

  /** Hand-offs the sink has not settled yet. */
  get handingOff(): number {
    return new Set(this.handing.values()).size;
  }

  onPush(push: Push): void {
    const nonce = isGroupPush(push) ? push.body.nonce : push.nonce;
    const nonceKey = `${push.senderPubkey}:${nonce}`;
    const inSink = this.handing.get(`id:${push.messageId}`) ?? this.handing.get(`nonce:${nonceKey}`);
    if (inSink) {
      // A copy of a message the sink is still writing: acked together with it, or not at all.
      inSink.ids.add(push.messageId);
      return;
    }
    if (this.seenIds.has(push.messageId) || this.seenNonces.has(nonceKey)) {
      // A redelivery (lease expired, reconnect) or a re-stored copy: ack again so the broker stops, hand on nothing.
      this.seenIds.add(push.messageId);
      this.acks.add(push.messageId);
      return;
    }
    this.seenIds.add(push.messageId);
    this.seenNonces.add(nonceKey);
    const meta: UndecryptableMessage = {
      messageId: push.messageId,
      meshId: push.meshId,
      meshSlug: this.deps.meshSlug,
      from: push.senderName,
      fromPubkey: push.senderPubkey,
      targetSpec: push.targetSpec,
      kind: messageKind(push.targetSpec),
      priority: push.priority,
      sentAt: isoTime(push.createdAt),
    };
    const text = openPush(push, this.deps.secretKey);
    if (text === null) {
      this.deps.events.undecryptable(meta);
      this.acks.add(push.messageId); // known undecryptable: acked so it does not loop
      return;
    }
    // The nonce goes along so a durable record of what was handed on (the CLI's delivery ledger)
    // catches a copy re-stored under a new id as well — across restarts, beyond this process's window.
    const message: InboundMessage = { ...meta, text, ...(nonce ? { nonce } : {}) };
    if (this.deps.sink) {
      this.handOff(this.deps.sink, message, nonceKey);
      return;
    }
    const evicted = this.inbox.push(message);
    if (evicted) {
      this.deps.events.dropped({
        messageId: evicted.messageId,
        droppedTotal: this.inbox.droppedTotal,
        bufferMax: this.inbox.max,
      });
    }
    this.deps.events.message(message);
    // Acked only now that it is buffered and emitted.
    this.acks.add(push.messageId);
  }

  /** Returns and clears every buffered message, oldest first (always empty with a sink). */
  drain(): InboundMessage[] {
    return this.inbox.drain();
  }

  /** Resolves once every hand-off started so far has settled, or after `timeoutMs`, whichever comes first. */
  async settled(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.tail, timeout]);
    clearTimeout(timer);
  }

  /** Writes the client_acks queued so far right now (before a receipt, before a clean close). */
  flushAcks(): void {
    this.acks.flushNow();
  }

  /** The connection is gone: queued acks are forgotten, the broker redelivers those messages. */
  dropped(): void {
    this.acks.clear();
  }

  private handOff(sink: InboundSink, message: InboundMessage, nonceKey: string): void {
    const record: HandOff = { ids: new Set([message.messageId]) };
    this.handing.set(`id:${message.messageId}`, record);
    this.handing.set(`nonce:${nonceKey}`, record);
    this.tail = this.tail.then(async () => {
      try {
        await sink(message);
        for (const id of record.ids) this.acks.add(id);
      } catch (err) {
        // Not acked: forget it so the broker's redelivery is handed on again instead of dropped as a duplicate.
        for (const id of record.ids) this.seenIds.delete(id); // record.ids includes message.messageId
        this.seenNonces.delete(nonceKey);
        this.deps.events.error(
          new ClientError(
            "handoff_failed",
            `inbound message ${message.messageId} was not acknowledged because the inbound sink failed (${errorText(err)}); the broker will deliver it again`,
            { cause: err },
          ),
        );
      } finally {
        this.handing.delete(`id:${message.messageId}`);
        this.handing.delete(`nonce:${nonceKey}`);
      }
    });
  }
}

/** The text of a direct or group push for this peer, or null when it does not open (never throws). */
function openPush(push: Push, secretKey: string): string | null {
  if (isGroupPush(push)) return openGroup(push, secretKey);
  if (push.nonce === undefined || push.ciphertext === undefined) return null;
  return decryptDirect({ nonce: push.nonce, ciphertext: push.ciphertext }, push.senderPubkey, secretKey);
}

function isoTime(value: string): string {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString();
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
