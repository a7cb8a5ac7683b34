// Wires delivery for one MCP session (SPEC §5): a ledger per agent identity, the routes in order, transcript confirmation, hooks and status without hooks.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { InboundMessage } from "@claudemesh/client";
import { resolveConfigDir, type Env } from "../config/paths.js";
import { hookPointerPath, hookSocketPath } from "../hooks/socket-path.js";
import { locateTranscript } from "../mcp/transcript/path.js";
import { TranscriptWatcher } from "../mcp/transcript/watcher.js";
import {
  ClaudeSessionWatcher,
  findClaudeSession,
  transcriptPathFor,
  type ClaudeSessionInfo,
} from "./claude-session.js";
import { DeliveryCoordinator, type Mailbox, type PushRoute } from "./coordinator.js";
import { createHookHandler } from "./hook-handler.js";
import { HookServer } from "./hook-server.js";
import { InboxSocketRoute, type InboxTarget } from "./inbox-socket-route.js";
import { DeliveryLedger } from "./ledger.js";

/** What delivery needs of one mesh link. */
export interface DeliveryLink {
  readonly meshSlug: string;
  readonly pubkey: string;
  sendShown(messageIds: string[]): void;
  setStatus(status: "idle" | "working"): void;
}

export interface SessionDeliveryOptions {
  env: Env;
  cwd: string;
  links: readonly DeliveryLink[];
  log: { info(m: string): void; warn(m: string): void };
  /** Routes tried after the inbox socket (the channel route). */
  laterRoutes?: readonly PushRoute[];
  /** `CLAUDEMESH_INBOX_SOCKET=off` turns the inbox socket route off (tests, or a user who prefers hooks). */
  inboxDisabled?: boolean;
  transcriptPollMs?: number;
}

/** Transcripts larger than this are not searched for earlier confirmations. */
const MAX_SEARCHED_TRANSCRIPT_BYTES = 64 * 1024 * 1024;

/**
 * The offer ids in `wanted` that a transcript in `dir` (this project's, any session, changed in the
 * last week) confirms. Used at start for offers an earlier session may have taken unconfirmed.
 */
export function confirmedInTranscripts(dir: string, wanted: ReadonlySet<string>): string[] {
  if (wanted.size === 0) return [];
  const found = new Set<string>();
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".jsonl"));
  } catch {
    return [];
  }
  const since = Date.now() - 7 * 86_400_000;
  for (const name of names) {
    try {
      const path = join(dir, name);
      const info = statSync(path);
      if (info.mtimeMs < since || info.size > MAX_SEARCHED_TRANSCRIPT_BYTES) continue;
      const lines = readFileSync(path, "utf8")
        .split("\n")
        .filter((line) => [...wanted].some((id) => line.includes(id)));
      for (const id of confirmedOfferIds(lines)) if (wanted.has(id)) found.add(id);
    } catch {
      // unreadable or gone: nothing confirmed there
    }
  }
  return [...found];
}

/** How long an unconfirmed offer holds the next one back. */
export const OFFER_BLOCK_MS = 5 * 60_000;

type Origin = { kind?: unknown; msg_id?: unknown } | undefined;

/**
 * The transcript entries that prove an offer reached the model: a user turn whose `origin`
 * carries our msg_id, or — for a line taken in mid-turn — an attachment whose `attachment.origin` does.
 */
export function confirmedOfferIds(lines: readonly string[]): string[] {
  const ids: string[] = [];
  const take = (origin: Origin): void => {
    if (origin?.kind === "peer" && typeof origin.msg_id === "string") ids.push(origin.msg_id);
  };
  for (const line of lines) {
    if (!line.includes('"msg_id"')) continue;
    try {
      const entry = JSON.parse(line) as { type?: unknown; origin?: Origin; attachment?: { origin?: Origin } };
      if (entry.type === "user") take(entry.origin);
      else if (entry.type === "attachment") take(entry.attachment?.origin);
    } catch {
      // not a JSON line
    }
  }
  return ids;
}

export class SessionDelivery {
  readonly coordinator: DeliveryCoordinator;
  readonly inbox: InboxSocketRoute;
  readonly hookServer: HookServer;
  private readonly ledgers: DeliveryLedger[] = [];
  private readonly sessionWatcher: ClaudeSessionWatcher | null;
  private readonly transcript: TranscriptWatcher;
  private session: ClaudeSessionInfo | null;
  private readonly envTarget: InboxTarget | null;
  readonly claudePid: number;

  constructor(private readonly options: SessionDeliveryOptions) {
    const { env, log } = options;
    this.session = findClaudeSession(env);
    this.claudePid = this.session?.pid ?? process.ppid;
    const socket = env.CLAUDE_CODE_MESSAGING_SOCKET;
    this.envTarget =
      socket && socket.startsWith("/")
        ? {
            socketPath: socket,
            ...(env.CLAUDE_CODE_MESSAGING_TOKEN ? { token: env.CLAUDE_CODE_MESSAGING_TOKEN } : {}),
          }
        : null;
    this.inbox = new InboxSocketRoute({
      target: () => this.inboxTarget(),
      // Unconfirmed offers to this session; after OFFER_BLOCK_MS one no longer holds the next back
      // (it stays offered — never given out twice — but a confirmation Claude Code lost cannot stall delivery).
      outstanding: () => {
        const current = this.inboxTarget()?.socketPath;
        const since = Date.now() - OFFER_BLOCK_MS;
        const live = this.coordinator
          .inState("offered")
          .filter((d) => d.entry.offerTarget === current && (d.entry.offeredAt ?? 0) >= since);
        return new Set(live.map((d) => d.entry.offerId)).size;
      },
      onReceipt: (offerId, _status, outcome, detail) =>
        this.coordinator.offerStatus(offerId, outcome, detail),
      log: (m) => log.warn(m),
    });
    this.coordinator = new DeliveryCoordinator({
      pushRoutes: [this.inbox, ...(options.laterRoutes ?? [])],
      log: (m) => log.info(m),
    });
    const configDir = resolveConfigDir(env);
    for (const link of options.links) {
      const ledger = new DeliveryLedger(join(configDir, "inbox", `${link.pubkey}.jsonl`));
      this.ledgers.push(ledger);
      const mailbox: Mailbox = { key: link.meshSlug, ledger, sendShown: (ids) => link.sendShown(ids) };
      this.coordinator.addMailbox(mailbox);
    }
    const initial = locateTranscript(
      this.session?.sessionId ? { ...env, CLAUDE_CODE_SESSION_ID: this.session.sessionId } : env,
      options.cwd,
    );
    this.transcript = new TranscriptWatcher({
      location: initial,
      startedAtMs: Date.now(),
      intervalMs: options.transcriptPollMs ?? 1_000,
      fromStart: true,
      onStatus: (status) => this.setStatus(status),
      onLines: (lines) => {
        for (const id of confirmedOfferIds(lines)) this.coordinator.confirmOffer(id);
      },
    });
    this.sessionWatcher = this.session
      ? new ClaudeSessionWatcher(env, this.session.pid, (info) => this.onSession(info))
      : null;
    this.hookServer = new HookServer(
      hookSocketPath(configDir, this.claudePid),
      createHookHandler({
        coordinator: this.coordinator,
        onStatus: (s) => this.setStatus(s),
        onTranscript: (path) =>
          this.transcript.relocate({ projectDir: path.replace(/\/[^/]*$/, ""), sessionFile: path }),
      }),
      (m) => log.warn(m),
      hookPointerPath(this.claudePid),
    );
  }

  /** Takes an inbound message of the link `meshSlug` (durable when this returns). */
  receive(meshSlug: string, message: InboundMessage): void {
    this.coordinator.receive(meshSlug, message);
  }

  async start(): Promise<void> {
    // Offers to a session that is gone were never confirmed there: they are offered again here.
    // An earlier session may have taken an offer without us seeing it confirmed: its transcript says.
    const stale = this.coordinator
      .inState("offered")
      .map((d) => d.entry.offerId)
      .filter((id): id is string => id !== undefined);
    for (const id of confirmedInTranscripts(this.transcriptDir(), new Set(stale)))
      this.coordinator.confirmOffer(id);
    const reclaimed = this.coordinator.reclaimOffers(this.inboxTarget()?.socketPath ?? null);
    if (reclaimed > 0)
      this.options.log.info(
        `delivery: ${reclaimed} unconfirmed offer(s) of an earlier session offered again`,
      );
    this.coordinator.resendReceipts();
    this.reportRegistryStatus(this.session?.status);
    this.transcript.start();
    this.sessionWatcher?.start();
    await this.hookServer
      .start()
      .catch((err: unknown) => this.options.log.warn(`hook socket not started: ${String(err)}`));
    const target = this.inboxTarget();
    this.options.log.info(
      target
        ? `delivery: session inbox socket ${target.socketPath}${this.envTarget ? "" : " (found in the session registry)"}`
        : `delivery: no session inbox socket (${this.options.inboxDisabled ? "turned off" : "Claude Code did not provide one"}); hooks and check_messages deliver`,
    );
    this.coordinator.schedule();
  }

  /** Where the model's messages go right now: the route a doctor reports. */
  describeRoute(): string {
    return this.inboxTarget() ? "inbox-socket" : "hooks / check_messages";
  }

  async close(): Promise<void> {
    // Claude Code wrote the transcript before closing our stdin: confirm what it took before going.
    await this.transcript.tick().catch(() => undefined);
    this.coordinator.close();
    this.transcript.stop();
    this.sessionWatcher?.stop();
    await this.inbox.close();
    await this.hookServer.close();
    for (const l of this.ledgers) l.close();
  }

  /** This project's transcript directory (every session of this cwd writes there). */
  private transcriptDir(): string {
    return locateTranscript(this.options.env, this.options.cwd).projectDir;
  }

  private inboxTarget(): InboxTarget | null {
    if (this.options.inboxDisabled) return null;
    if (this.envTarget) return this.envTarget;
    const late = this.session?.messagingSocketPath;
    return late ? { socketPath: late } : null;
  }

  private lastStatus: "idle" | "working" | null = null;

  /**
   * Claude Code's own idle/busy: status with no hook at all (SPEC §5.2). Reported at start too, so a
   * status the broker kept from this agent's previous session ("working") cannot hold messages back.
   */
  private reportRegistryStatus(status: string | undefined): void {
    if (status === "idle") this.setStatus("idle");
    else if (status === "busy") this.setStatus("working");
  }

  /** One status from any source (hook, registry, transcript), sent only when it changes. */
  private setStatus(status: "idle" | "working"): void {
    if (status === this.lastStatus) return;
    this.lastStatus = status;
    for (const link of this.options.links) link.setStatus(status);
  }

  private onSession(info: ClaudeSessionInfo): void {
    const before = this.session;
    this.session = info;
    if (info.sessionId && info.sessionId !== before?.sessionId) {
      const path = transcriptPathFor(this.options.env, info.cwd ?? this.options.cwd, info.sessionId);
      this.transcript.relocate({ projectDir: path.replace(/\/[^/]*$/, ""), sessionFile: path });
    }
    if (info.status !== before?.status) this.reportRegistryStatus(info.status);
    if (info.messagingSocketPath !== before?.messagingSocketPath) this.coordinator.schedule();
  }
}
