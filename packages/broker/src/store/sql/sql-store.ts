// The Store implementation shared by both adapters: each method runs a shared rule (rules.ts); an
// adapter supplies only how statements execute, the hot-path insert, migrations and liveness.
// Running statements and the wake-up and notice fan-out are in store-base.ts.
import {
  type AuditEntry,
  type ClaimOptions,
  type DeliveryRow,
  type EnqueueResult,
  type MemberRow,
  type MeshRow,
  type NewMessage,
  type StoredEnvelope,
  type PendingHookStatus,
  type PeersPage,
  type PresenceRow,
  type ReceiptChange,
  type RecipientStatusRow,
  type RecordReceiptsInput,
  type RedeemResult,
  type RevokeResult,
  type ClaimBrokerEndpointInput,
  type ReleaseGoneBrokersInput,
  type ReleasedBrokers,
  type Store,
} from "../types.js";
import type { AdmitHelloInput, AdmitHelloResult } from "../admission.js";
import { admitHelloSteps, decideAdmission, takeoverOf, type AdmitOutcome } from "./admit.js";
import type { Priority } from "@claudemesh/protocol";
import * as brokers from "./brokers.js";
import * as groupAcks from "./group-acks.js";
import { sweepBodiesStep } from "./group-bodies.js";
import * as inspect from "./inspect.js";
import { listPeersPage } from "./peers-page.js";
import * as receipts from "./receipts.js";
import * as replayKeys from "./replay-keys.js";
import * as rules from "./rules.js";
import * as revocation from "./revocation.js";
import { sweepSendIdsStep } from "./send-ids.js";
import { WAITING_MAIL_BATCH, waitingMail, type Waiting } from "./waiting.js";
import { SqlStoreBase } from "./store-base.js";

/** Agents retired per transaction by retireIdleAgents. */
const RETIRE_STEP = 500;

export abstract class SqlStore extends SqlStoreBase implements Store {
  abstract migrate(): Promise<void>;
  abstract ping(): Promise<boolean>;
  abstract close(): Promise<void>;
  abstract enqueueMessages(messages: readonly NewMessage[]): Promise<EnqueueResult>;

  // ------------------------------------------------------------ meshes and members

  createMesh(input: Parameters<Store["createMesh"]>[0]): Promise<{ mesh: MeshRow; owner: MemberRow } | null> {
    return this.atomic(() => rules.createMesh(input));
  }

  getMesh(meshId: string): Promise<MeshRow | null> {
    return this.direct(rules.getMesh(meshId));
  }

  getMember(meshId: string, pubkey: string): Promise<MemberRow | null> {
    return this.direct(rules.getMember(meshId, pubkey));
  }

  getMemberById(memberId: string): Promise<MemberRow | null> {
    return this.direct(rules.getMemberById(memberId));
  }

  listMembers(meshId: string): Promise<MemberRow[]> {
    return this.direct(rules.listMembers(meshId));
  }

  redeemInvite(input: Parameters<Store["redeemInvite"]>[0]): Promise<RedeemResult> {
    return this.atomic(() => rules.redeemInvite(input));
  }

  enrollAgent(input: Parameters<Store["enrollAgent"]>[0]): Promise<MemberRow> {
    return this.atomic(() => rules.enrollAgent(input));
  }

  async revokeMember(memberId: string, now: number): Promise<void> {
    const effect = await this.atomic(() => this.revokeFamilyOp(memberId, now));
    await this.afterRevocation(effect.ids, effect.senders);
  }

  private *revokeFamilyOp(memberId: string, now: number) {
    const family = yield* rules.familyIds(memberId);
    const effect = yield* revocation.revokeIds(this.dialect, family, now);
    return { ids: family, senders: effect.senders };
  }

  async revoke(input: Parameters<Store["revoke"]>[0]): Promise<RevokeResult> {
    const result = await this.atomic(() => revocation.revokeMember(this.dialect, input));
    if (result.kind === "revoked")
      await this.afterRevocation(
        result.revoked.map((m) => m.memberId),
        result.receiptSenders,
      );
    return result;
  }

  async retireIdleAgents(seenBefore: number, now: number): Promise<string[]> {
    const retired: string[] = [];
    // Bounded: each full step revokes RETIRE_STEP agents, and there are finitely many active ones.
    for (;;) {
      const step = await this.atomic(() =>
        revocation.retireIdleAgents(this.dialect, seenBefore, now, RETIRE_STEP),
      );
      retired.push(...step.retired);
      await this.afterRevocation(step.retired, step.senders);
      if (step.retired.length < RETIRE_STEP) return retired;
    }
  }

  revokedAmong(memberIds: readonly string[]): Promise<string[]> {
    return this.direct(revocation.revokedAmong(this.dialect, memberIds));
  }

  // ------------------------------------------------------------ messages

  claimDeliveries(options: ClaimOptions): Promise<DeliveryRow[]> {
    return this.guard(() => this.atomicStatement(() => rules.claimDeliveries(this.dialect, options)));
  }

  /** Same write as a client_ack through recordReceipts, so every delivered copy has its receipt. */
  async markDelivered(
    recipientMemberId: string,
    messageIds: readonly string[],
    now: number,
  ): Promise<number> {
    const changes = await this.recordReceipts({ recipientMemberId, delivered: messageIds, shown: [], now });
    return changes.length;
  }

  /**
   * The released rows are claimable at once: their recipient is woken here and on every broker of
   * the store (a connection that moved to another broker drains them now, not at lease expiry).
   */
  async releaseLeases(leaseOwner: string, messageIds?: readonly string[]): Promise<number> {
    if (messageIds?.length === 0) return 0;
    const released = await this.direct(rules.releaseLeases(this.dialect, leaseOwner, messageIds));
    if (released.length > 0) {
      const recipients = [...new Set(released)];
      this.wakeups.emit(recipients);
      // Released: the recipient's next wake-up, hello or lease timer claims them.
      await this.tellOthers("store.delivery_notify_failed", () => this.publishDeliveries(recipients));
    }
    return released.length;
  }

  earliestForeignLease(recipientMemberId: string, exceptOwner: string, now: number): Promise<number | null> {
    return this.direct(rules.earliestForeignLease(recipientMemberId, exceptOwner, now));
  }

  async waitingMail(memberIds: readonly string[]): Promise<Map<string, Waiting>> {
    const found = new Map<string, Waiting>();
    for (let i = 0; i < memberIds.length; i += WAITING_MAIL_BATCH) {
      const batch = await this.direct(waitingMail(memberIds.slice(i, i + WAITING_MAIL_BATCH)));
      for (const [id, waiting] of batch) found.set(id, waiting);
    }
    return found;
  }

  countHeld(recipientMemberId: string, allowed: readonly Priority[]): Promise<number> {
    return this.direct(rules.countHeld(recipientMemberId, allowed));
  }

  countPending(recipientMemberId: string): Promise<number> {
    return this.direct(rules.countPending(recipientMemberId));
  }

  storedEnvelopes(messageId: string): Promise<StoredEnvelope[]> {
    return this.direct(inspect.storedEnvelopes(messageId));
  }

  async sweepMessages(olderThan: number, now: number = Date.now()): Promise<number> {
    let total = 0;
    // Undelivered rows past retention first, each leaving an `expired` receipt for its sender.
    for (;;) {
      const step = await this.guard(() =>
        this.atomicStatement(() => receipts.expireStep(this.dialect, olderThan, now)),
      );
      total += step.deleted;
      await this.wakeReceipts(step.senders);
      if (step.deleted < receipts.RECEIPT_SWEEP_CHUNK_ROWS) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Bounded: each full step deletes SWEEP_CHUNK_ROWS rows, and the table is finite.
    for (;;) {
      const deleted = await this.direct(rules.sweepStep(olderThan));
      total += deleted;
      if (deleted < rules.SWEEP_CHUNK_ROWS) break;
      // Let queued enqueues and claims run between steps (SQLite runs each step synchronously).
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Group bodies go with the last delivery that names them (or past retention).
    while ((await this.direct(sweepBodiesStep(olderThan, rules.SWEEP_CHUNK_ROWS))) >= rules.SWEEP_CHUNK_ROWS)
      await new Promise((resolve) => setImmediate(resolve));
    // Send ids (idempotency keys) live as long as the messages they name could.
    while ((await this.direct(sweepSendIdsStep(olderThan, rules.SWEEP_CHUNK_ROWS))) >= rules.SWEEP_CHUNK_ROWS)
      await new Promise((resolve) => setImmediate(resolve));
    // Replay keys live only until their signed request's window ends (not counted in the total).
    await this.sweepReplayKeys(now);
    return total;
  }

  // ------------------------------------------------------------ receipts

  async recordReceipts(input: RecordReceiptsInput): Promise<ReceiptChange[]> {
    const op = () => receipts.recordReceipts(this.dialect, input);
    const recorded = receipts.recordsInOneStatement(this.dialect, input)
      ? await this.guard(() => this.atomicStatement(op))
      : await this.atomic(op);
    await this.wakeReceipts(recorded.waiting);
    return recorded.changes;
  }

  async recordReceiptsMany(inputs: readonly RecordReceiptsInput[]): Promise<ReceiptChange[]> {
    if (inputs.length === 0) return [];
    const op = () => groupAcks.recordReceiptsMany(this.dialect, inputs);
    const recorded = groupAcks.acksInOneStatement(this.dialect, inputs)
      ? await this.guard(() => this.atomicStatement(op))
      : await this.atomic(op);
    await this.wakeReceipts(recorded.waiting);
    return recorded.changes;
  }

  async markRevokedReceipts(recipientMemberIds: readonly string[], now: number): Promise<number> {
    const { written, senders } = await this.guard(() =>
      this.atomicStatement(() => receipts.markRevokedReceipts(this.dialect, recipientMemberIds, now)),
    );
    await this.wakeReceipts(senders);
    return written;
  }

  takeReceipts(senderMemberId: string, limit: number): Promise<ReceiptChange[]> {
    return this.guard(() =>
      this.atomicStatement(() => receipts.takeReceipts(this.dialect, senderMemberId, limit)),
    );
  }

  messageStatus(
    senderMemberId: string,
    messageIds: readonly string[],
    limit: number,
  ): Promise<{ statuses: Map<string, RecipientStatusRow[]>; truncated: boolean }> {
    return this.direct(receipts.messageStatus(this.dialect, senderMemberId, messageIds, limit));
  }

  async sweepReceipts(olderThan: number): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.direct(receipts.sweepReceiptsStep(olderThan));
      total += deleted;
      if (deleted < receipts.RECEIPT_SWEEP_CHUNK_ROWS) return total;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  // ------------------------------------------------------------ replay claims

  claimReplayKey(key: string, expiresAt: number, now: number): Promise<boolean> {
    return this.guard(() => this.atomicStatement(() => replayKeys.claimReplayKey(key, expiresAt, now)));
  }

  releaseReplayKey(key: string): Promise<void> {
    return this.direct(replayKeys.releaseReplayKey(key));
  }

  async sweepReplayKeys(now: number): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.direct(replayKeys.sweepReplayKeysStep(now));
      total += deleted;
      if (deleted < replayKeys.REPLAY_SWEEP_CHUNK_ROWS) return total;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  // ------------------------------------------------------------ broker liveness

  beatBroker(brokerId: string, now: number): Promise<void> {
    return this.direct(brokers.beatBroker(brokerId, now));
  }

  removeBroker(brokerId: string): Promise<void> {
    return this.direct(brokers.removeBroker(brokerId));
  }

  async releaseGoneBrokers(input: ReleaseGoneBrokersInput): Promise<ReleasedBrokers> {
    const gone = await this.direct(brokers.staleBrokers(input.selfBrokerId, input.staleBefore));
    const orphaned = input.orphans ? await this.atomic(() => brokers.releaseOrphanLeases()) : [];
    return this.releaseBrokers(gone, input.staleBefore, input.now, orphaned);
  }

  async claimBrokerEndpoint(input: ClaimBrokerEndpointInput): Promise<ReleasedBrokers> {
    const predecessors = await this.direct(brokers.claimEndpoint(input.selfBrokerId, input.endpoint));
    // Gone whatever their beat: every beat counts as stale.
    return this.releaseBrokers(predecessors, Number.MAX_SAFE_INTEGER, input.now, []);
  }

  retireBroker(brokerId: string, now: number): Promise<ReleasedBrokers> {
    // Its own beat counts as stale: the release always wins.
    return this.releaseBrokers([brokerId], Number.MAX_SAFE_INTEGER, now, []);
  }

  /** Releases each broker in its own transaction (of brokers noticing one at once, one wins) and wakes the recipients. */
  private async releaseBrokers(
    candidates: readonly string[],
    staleBefore: number,
    now: number,
    alsoWoken: readonly string[],
  ): Promise<ReleasedBrokers> {
    const released: string[] = [];
    const recipients = new Set<string>(alsoWoken);
    for (const brokerId of candidates) {
      const woken = await this.atomic(() => brokers.releaseBroker(brokerId, staleBefore, now));
      if (woken === null) continue;
      released.push(brokerId);
      for (const id of woken) recipients.add(id);
    }
    const ids = [...recipients];
    if (ids.length > 0) {
      this.wakeups.emit(ids);
      // Released rows are claimable: other brokers' peers get them at their next wake-up or hello.
      await this.tellOthers("store.delivery_notify_failed", () => this.publishDeliveries(ids));
    }
    return { brokers: released, recipients: ids };
  }

  // ------------------------------------------------------------ the hello

  /** Default: the steps in one transaction, then the takeover notice (PostgreSQL: one statement instead). */
  async admitHello(input: AdmitHelloInput): Promise<AdmitHelloResult> {
    return this.admissionDecided(input, await this.atomic(() => admitHelloSteps(input)));
  }

  /** The answer to an admission's outcome; a takeover of another broker's connection is published. */
  protected admissionDecided(input: AdmitHelloInput, outcome: AdmitOutcome): AdmitHelloResult {
    const result = decideAdmission(input, outcome);
    const takeover = takeoverOf(input, result);
    if (takeover) this.publishTakeover(takeover);
    return result;
  }

  // ------------------------------------------------------------ presence, status, channels

  getPresence(memberId: string): Promise<PresenceRow | null> {
    return this.direct(rules.getPresence(memberId));
  }

  listPresence(meshId: string): Promise<PresenceRow[]> {
    return this.direct(rules.listPresence(meshId));
  }

  upsertPresence(row: PresenceRow): Promise<void> {
    return this.direct(rules.upsertPresence(row));
  }

  upsertPresences(rows: readonly PresenceRow[]): Promise<string[]> {
    if (rows.length === 0) return Promise.resolve([]);
    // Up to PRESENCE_UPSERT_ROWS rows are one statement, atomic by itself (PostgreSQL: autocommit,
    // no BEGIN/COMMIT round trips); more are several statements in one transaction.
    if (rows.length <= rules.PRESENCE_UPSERT_ROWS)
      return this.guard(() => this.atomicStatement(() => rules.upsertPresences(rows)));
    return this.atomic(() => rules.upsertPresences(rows));
  }

  markBrokerPresencesOffline(brokerId: string, now: number): Promise<number> {
    return this.direct(rules.markBrokerPresencesOffline(brokerId, now));
  }

  stashPendingHook(entry: PendingHookStatus): Promise<void> {
    return this.direct(rules.stashPendingHook(entry));
  }

  takePendingHook(meshId: string, pubkey: string, notBefore: number): Promise<PendingHookStatus | null> {
    return this.direct(rules.takePendingHook(meshId, pubkey, notBefore));
  }

  // ------------------------------------------------------------ hooks relayed to the holding broker

  joinChannel(meshId: string, channel: string, memberId: string, maxChannels?: number): Promise<boolean> {
    return this.direct(rules.joinChannel(meshId, channel, memberId, maxChannels));
  }

  leaveChannel(meshId: string, channel: string, memberId: string): Promise<void> {
    return this.direct(rules.leaveChannel(meshId, channel, memberId));
  }

  listChannelMembers(meshId: string, channel: string): Promise<string[]> {
    return this.direct(rules.listChannelMembers(meshId, channel));
  }

  listChannelsByMember(meshId: string): Promise<Map<string, string[]>> {
    return this.direct(rules.listChannelsByMember(meshId));
  }

  listPeersPage(meshId: string, page: { after: string | null; limit: number }): Promise<PeersPage | null> {
    return this.direct(listPeersPage(meshId, page));
  }

  // ------------------------------------------------------------ audit

  appendAudit(entry: AuditEntry): Promise<void> {
    return this.direct(rules.appendAudit(entry));
  }

  listAudit(meshId: string, limit: number): Promise<AuditEntry[]> {
    return this.direct(rules.listAudit(meshId, limit));
  }
}
