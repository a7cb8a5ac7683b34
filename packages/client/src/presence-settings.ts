// The presence part of BrokerClient: summary, status and channel membership, confirmed by a barrier and re-applied after reconnects (SPEC §3).
import {
  ChannelNameSchema,
  StatusSchema,
  SummarySchema,
  type ClientFrame,
  type Status,
} from "@claudemesh/protocol";
import { ClientError } from "./errors.js";
import type { FrameLink } from "./link.js";

export interface PresenceDeps {
  link: FrameLink;
  /** Resolves when the broker has answered everything written before it (a list_peers round trip). */
  barrier(): Promise<unknown>;
  /** The error for a call after the client stopped, or null while it runs. */
  stopped(): ClientError | null;
}

/** The presence this session wants; written when set and again after every hello_ack. */
export class PresenceSettings {
  private summary: string | undefined;
  private status: { status: Status; source: "manual" | "jsonl" } | undefined;
  private readonly channels = new Map<string, boolean>();

  constructor(private readonly deps: PresenceDeps) {}

  async setSummary(summary: string): Promise<void> {
    if (!SummarySchema.safeParse(summary).success) {
      throw new ClientError("invalid_argument", "summary must be a string of at most 280 characters");
    }
    this.summary = summary;
    await this.update({ type: "set_summary", summary });
  }

  async setStatus(status: Status, source: "manual" | "jsonl"): Promise<void> {
    if (!StatusSchema.safeParse(status).success) {
      throw new ClientError(
        "invalid_argument",
        `status must be idle, working or dnd (got ${JSON.stringify(status)})`,
      );
    }
    if (source !== "manual" && source !== "jsonl") {
      throw new ClientError("invalid_argument", "status source must be manual or jsonl");
    }
    this.status = { status, source };
    await this.update({ type: "set_status", status, source });
  }

  async joinChannel(name: string): Promise<void> {
    const channel = channelName(name);
    this.channels.set(channel, true);
    await this.update({ type: "join_channel", name: channel });
  }

  async leaveChannel(name: string): Promise<void> {
    const channel = channelName(name);
    this.channels.set(channel, false);
    await this.update({ type: "leave_channel", name: channel });
  }

  /** Restores summary, status and channel membership after a (re)connect. */
  reapply(): void {
    const { link } = this.deps;
    if (this.summary !== undefined) link.write({ type: "set_summary", summary: this.summary });
    if (this.status !== undefined) link.write({ type: "set_status", ...this.status });
    for (const [name, joined] of this.channels) {
      link.write({ type: joined ? "join_channel" : "leave_channel", name });
    }
  }

  /**
   * Writes an id-less update and, when connected, confirms it with the barrier: an error frame
   * before the barrier's answer belongs to this update. When disconnected it resolves at once;
   * the desired state is applied on the next hello_ack.
   */
  private async update(frame: ClientFrame): Promise<void> {
    if (!this.deps.link.authenticated) {
      const stopped = this.deps.stopped();
      if (stopped) throw stopped;
      return;
    }
    this.deps.link.write(frame);
    try {
      await this.deps.barrier();
    } catch (err) {
      // Dropped before the barrier answered: the update is re-applied on the next hello_ack anyway.
      if (err instanceof ClientError && err.code === "not_connected") return;
      throw err;
    }
  }
}

function channelName(input: string): string {
  const name = input.startsWith("#") ? input.slice(1) : input;
  if (!ChannelNameSchema.safeParse(name).success) {
    throw new ClientError(
      "invalid_argument",
      `channel name "${input}" must be 1–64 lowercase letters, digits, . _ or - (e.g. #backend)`,
    );
  }
  return name;
}
