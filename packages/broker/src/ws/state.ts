// The shared state of one hub: registries of sockets and live peers plus the services every handler uses.
import type { BrokerContext } from "../context.js";
import { StoreReplayGuard } from "../core/replay.js";
import { KeyedRateLimiter } from "../rate-limit.js";
import { GroupCommitter } from "./committer.js";
import { DeliveredBatcher } from "./delivered.js";
import { directPushHooks } from "./direct-push.js";
import { LiveSessions } from "./live-sessions.js";
import { PushLedger } from "./drain.js";
import { MembershipCache } from "./membership.js";
import { PresenceBook } from "./presence.js";
import { ReceiptRelay } from "./receipts.js";
import { RevocationWatch } from "./revocation.js";
import type { Session } from "./session.js";
import { AdmissionSlots } from "./admission.js";
import { TakeoverWatch } from "./takeover.js";
import { MailProbe } from "./mail-probe.js";
import { RemotePushes } from "./remote-push.js";

export interface HubState {
  ctx: BrokerContext;
  /** Every open socket, authenticated or not (liveness, shutdown). */
  sockets: Set<Session>;
  /** The live authenticated connection per member id (newest wins), also indexed by mesh. */
  live: LiveSessions;
  /** Teardowns still releasing leases, by member: a reconnect waits for them before it drains. */
  teardowns: Map<string, Promise<void>>;
  /** Hellos in the store's admission, counted by the `capacity` check of the others. */
  admissions: AdmissionSlots;
  /** Connections here replaced by newer ones on other brokers (close 4001). */
  takeovers: TakeoverWatch;
  presence: PresenceBook;
  membership: MembershipCache;
  committer: GroupCommitter;
  delivered: DeliveredBatcher;
  /** Receipts to senders connected here (SPEC §3). */
  receipts: ReceiptRelay;
  /** Revoked connections cut, revoked senders refused (SPEC §2 POST /members/revoke). */
  revocation: RevocationWatch;
  ledger: PushLedger;
  /** Hello replay claims, recorded in the store (SPEC §3 check 5). */
  replay: StoreReplayGuard;
  memberSends: KeyedRateLimiter;
  /**
   * What waits for members just admitted, read after their commit; null on SQLite, where the
   * admission's own read tells (every write of the process wakes every listener).
   */
  mailProbe: MailProbe | null;
  /** Rows other brokers stored leased to connections here, pushed without a claim (PostgreSQL). */
  remotePushes: RemotePushes;
  /** Delivery wake-ups received from the store so far (lets a send skip a redundant wake). */
  storeWakeups: number;
  /** Most outbound bytes any connection of this hub had queued (gauge `outbound_buffered_peak_bytes`). */
  outboundPeak: number;
  /** Set by shutdown(): new sockets are turned away and no new work starts. */
  closing: boolean;
}

export function createHubState(ctx: BrokerContext): HubState {
  const { store, clock, metrics, log, options } = ctx;
  const state: HubState = {
    ctx,
    sockets: new Set(),
    live: new LiveSessions(),
    admissions: new AdmissionSlots(),
    takeovers: null as unknown as TakeoverWatch,
    teardowns: new Map(),
    // Wired below: a peer becoming idle wakes its delivery loop; a peer leaving forgets its pushes.
    presence: new PresenceBook(
      { store, options, clock, log, brokerId: ctx.brokerId },
      {
        onBecameIdle: (peer) => state.live.get(peer.member.id)?.drainer?.wake(),
        onLeft: (peer) => state.ledger.forget(peer.member.id),
        // As if the `replaced` notice had come: each closes with 4001 if it is still that connection.
        onTakenOver: (takeovers) => state.takeovers.received(takeovers),
      },
    ),
    membership: new MembershipCache(store, clock),
    committer: new GroupCommitter(
      store,
      options.maxBatch,
      metrics,
      () => state.storeWakeups,
      // A getter, not the hooks themselves: they read `state`, which is being built here.
      {
        beforeCommit: (batch) => hooks.beforeCommit(batch),
        afterCommit: (batch) => hooks.afterCommit(batch),
      },
    ),
    delivered: new DeliveredBatcher(store, clock, metrics, log, {
      targets: (recipients) => state.receipts.targetsMany(recipients),
      pushed: (changes, pushTo) => state.receipts.pushed(changes, pushTo),
    }),
    // Replaced below: the relay reads `state`, which is being built here.
    receipts: null as unknown as ReceiptRelay,
    revocation: null as unknown as RevocationWatch,
    ledger: new PushLedger(),
    replay: new StoreReplayGuard(store, clock),
    memberSends: new KeyedRateLimiter({
      ratePerSec: options.memberSendsPerSec,
      burst: options.memberSendBurst,
      clock,
    }),
    mailProbe:
      store.kind === "sqlite"
        ? null
        : new MailProbe(store, (error) => log.warn("ws.mail_probe_failed", { error })),
    remotePushes: null as unknown as RemotePushes,
    storeWakeups: 0,
    outboundPeak: 0,
    closing: false,
  };
  const hooks = directPushHooks(state);
  state.receipts = new ReceiptRelay(state);
  state.revocation = new RevocationWatch(state);
  state.takeovers = new TakeoverWatch(state);
  state.remotePushes = new RemotePushes(state);
  return state;
}

/**
 * Wakes the delivery loop of every listed recipient connected to this broker; returns the ones
 * with no open connection here (a connection still registering counts as one: it reads its
 * mailbox once registered).
 */
export function wakeRecipients(state: HubState, memberIds: Iterable<string>): string[] {
  const missing: string[] = [];
  for (const memberId of memberIds) {
    const session = state.live.get(memberId);
    if (!session || session.closed) missing.push(memberId);
    else session.drainer?.wake();
  }
  return missing;
}
