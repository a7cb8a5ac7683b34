// One mesh as seen by this MCP session: its agent identity (SPEC §1), enrollment via POST /agents, and the BrokerClient speaking as that agent.
import {
  BrokerClient,
  enrollAgent,
  isClientError,
  type BrokerClientOptions,
  type InboundMessage,
} from "@claudemesh/client";
import { RECONNECT_BACKOFF_MS, type Peer } from "@claudemesh/protocol";
import { acquireAgentIdentity, type AgentIdentity, type Env, type MeshEntry } from "../config/index.js";
import type { McpLog } from "./log.js";

/** How long start-up and a first tool call wait for the broker's hello_ack before carrying on. */
export const CONNECT_WAIT_MS = 3_000;

export interface MeshLinkOptions {
  env: Env;
  mesh: MeshEntry;
  /** `--name`; default derived from cwd by acquireAgentIdentity. */
  requestedName: string | undefined;
  cwd: string;
  /** Claude Code's session id, so hook statuses find this presence. */
  sessionId: string | undefined;
  /** Channels to join once connected (re-applied by the client after reconnects). */
  channels: readonly string[];
  log: McpLog;
  /**
   * Takes each inbound message durably (the delivery ledger); the client acks it to the broker
   * only after this returns or resolves (SPEC §3: on local disk first).
   */
  onMessage: (message: InboundMessage) => Promise<void> | void;
  /** Client tunables (tests shorten timeouts). */
  clientOptions?: Partial<BrokerClientOptions>;
  /** Enrollment retry delays; the last one repeats (default: the client reconnect schedule, SPEC §7). */
  enrollBackoffMs?: readonly number[];
}

/**
 * A mesh this session serves. The identity is claimed at construction (so two sessions in one
 * directory get distinct names); enrollment and the broker connection happen in start(), and
 * keep retrying in the background when the broker is unreachable, so the MCP server never
 * blocks Claude Code's start-up on the network.
 */
export class MeshLink {
  readonly identity: AgentIdentity;
  private _client: BrokerClient | null = null;
  private _displayName: string;
  private lastProblem = "connecting to the broker";
  private enrollTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** The last peer list the broker gave us: lets sends by name be queued while it is unreachable. */
  private peerCache: Peer[] | null = null;
  /** The first start(): enrollment and the first hello, shared by whoever waits for them. */
  private starting: Promise<void> | null = null;

  constructor(private readonly options: MeshLinkOptions) {
    this.identity = acquireAgentIdentity({
      env: options.env,
      mesh: { slug: options.mesh.slug, meshId: options.mesh.meshId },
      requestedName: options.requestedName,
      cwd: options.cwd,
    });
    this._displayName = this.identity.name;
  }

  get meshSlug(): string {
    return this.options.mesh.slug;
  }

  get meshId(): string {
    return this.options.mesh.meshId;
  }

  get pubkey(): string {
    return this.identity.keypair.pubkey;
  }

  /** The name peers see: the broker's answer (enrollment or hello_ack) once known. */
  get displayName(): string {
    return this._client?.displayName ?? this._displayName;
  }

  /** The connected (or reconnecting) client, or null while this agent is not enrolled yet. */
  get client(): BrokerClient | null {
    return this._client;
  }

  /** The client, or an error a person can act on when there is none yet. */
  requireClient(): BrokerClient {
    if (this._client) return this._client;
    throw new Error(
      `mesh ${this.meshSlug}: not connected yet (${this.lastProblem}); retrying in the background`,
    );
  }

  /**
   * The mesh's peers: fresh from the broker when connected; the last list seen (live = false)
   * when it is not, so a message can still be addressed by name and wait in the outbound queue.
   */
  async peers(): Promise<{ peers: Peer[]; live: boolean }> {
    // A tool call that comes while the first enrollment is still on its way waits a moment for it.
    if (!this._client && this.starting)
      await Promise.race([this.starting, new Promise((r) => setTimeout(r, CONNECT_WAIT_MS).unref())]);
    const client = this.requireClient();
    // A tool call right after start-up (or a reconnect) should not fail just because the hello is still in flight.
    if (!client.isOpen && !this.peerCache)
      await client.connect({ timeoutMs: CONNECT_WAIT_MS }).catch(() => undefined);
    try {
      const peers = await client.listPeers();
      this.peerCache = peers;
      return { peers, live: true };
    } catch (err) {
      if (this.peerCache && isClientError(err) && (err.code === "not_connected" || err.code === "timeout"))
        return { peers: this.peerCache, live: false };
      throw err;
    }
  }

  /**
   * Enrolls the agent and connects. Resolves after the first enrollment attempt (success or
   * not) and at most CONNECT_WAIT_MS more for the first hello_ack. An agent enrolled by an
   * earlier session (member id on file) connects at once; enrollment then only refreshes its
   * display name.
   */
  start(): Promise<void> {
    this.starting ??= this.begin();
    return this.starting;
  }

  private async begin(): Promise<void> {
    const known = this.identity.memberId;
    if (known !== undefined) {
      this.openClient(known);
      void this.enroll(0);
    } else {
      await this.enroll(0);
    }
    // Give the first hello a moment, so the first tool call usually finds the session online.
    await this._client?.connect({ timeoutMs: CONNECT_WAIT_MS }).catch(() => undefined);
  }

  private async enroll(attempt: number): Promise<void> {
    if (this.closed) return;
    const { mesh } = this.options;
    try {
      const result = await enrollAgent({
        brokerUrl: mesh.brokerUrl,
        meshId: mesh.meshId,
        parent: { pubkey: mesh.pubkey, secretKey: mesh.secretKey },
        agent: this.identity.keypair,
        agentName: this.identity.name,
      });
      if (this.closed) return;
      this._displayName = result.displayName;
      this.identity.saveMemberId(result.memberId);
      if (!this._client) this.openClient(result.memberId);
      this.options.log.info(`mesh ${mesh.slug}: enrolled as "${result.displayName}"`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.lastProblem = `enrollment failed: ${message}`;
      // A refusal (revoked parent, bad signature) will not fix itself; a network problem may.
      const retry =
        !isClientError(err) ||
        ["unreachable", "timeout", "storage_unavailable", "rate_limited", "internal"].includes(err.code);
      this.options.log.warn(`mesh ${mesh.slug}: ${this.lastProblem}${retry ? " — retrying" : ""}`);
      if (!retry || this._client) return;
      const schedule = this.options.enrollBackoffMs ?? RECONNECT_BACKOFF_MS;
      const delay = schedule[Math.min(attempt, schedule.length - 1)] ?? 30_000;
      this.enrollTimer = setTimeout(() => void this.enroll(attempt + 1), delay);
      this.enrollTimer.unref();
    }
  }

  private openClient(memberId: string): void {
    const { mesh, log } = this.options;
    const client = new BrokerClient({
      brokerUrl: mesh.brokerUrl,
      meshId: mesh.meshId,
      meshSlug: mesh.slug,
      memberId,
      pubkey: this.identity.keypair.pubkey,
      secretKey: this.identity.keypair.secretKey,
      displayName: this._displayName,
      ...(this.options.sessionId !== undefined ? { sessionId: this.options.sessionId } : {}),
      cwd: this.options.cwd,
      options: { ...this.options.clientOptions, inboundSink: (m) => this.options.onMessage(m) },
    });
    // Without an "error" listener EventEmitter would throw; these are reported, the client retries.
    client.on("error", (err) => {
      this.lastProblem = err.message;
      log.warn(`mesh ${mesh.slug}: ${err.message}`);
    });
    client.on("state", (state) => {
      // Prime the peer cache on every (re)connect so names resolve during a later outage.
      if (state === "open") void this.peers().catch(() => undefined);
      if (state === "open")
        log.info(`mesh ${mesh.slug}: connected as "${client.displayName ?? this._displayName}"`);
      else if (state === "reconnecting") log.warn(`mesh ${mesh.slug}: connection lost — reconnecting`);
    });
    client.on("undecryptable", (notice) =>
      log.warn(
        `mesh ${mesh.slug}: message ${notice.messageId} from ${notice.from} could not be decrypted and was dropped`,
      ),
    );
    client.on("dropped", (notice) =>
      log.warn(
        `mesh ${mesh.slug}: inbox full (${notice.bufferMax}); oldest unread message dropped (${notice.droppedTotal} so far)`,
      ),
    );
    for (const channel of this.options.channels) {
      client
        .joinChannel(channel)
        .catch((err: unknown) => log.warn(`mesh ${mesh.slug}: cannot join #${channel}: ${String(err)}`));
    }
    this._client = client;
    client.connect().catch(() => {
      // Fatal rejections are reported through the "error" event above.
    });
  }

  /** Closes the client and frees the agent name. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.enrollTimer) clearTimeout(this.enrollTimer);
    const client = this._client;
    try {
      if (client) await client.close();
    } finally {
      this.identity.release();
    }
  }
}
