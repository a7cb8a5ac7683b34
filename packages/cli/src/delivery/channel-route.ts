// The channel route (SPEC §5.3): `notifications/claude/channel` pushes, for users who started Claude Code with channels enabled.
import type { Priority } from "@claudemesh/protocol";
import type { Delivery, OfferResult, PushRoute } from "./coordinator.js";
import { frameMessages } from "./framing.js";

/** Meta keys of a channel notification; every value is a string (SPEC §5). */
export interface ChannelMeta {
  [key: string]: string;
  from: string;
  from_pubkey: string;
  mesh: string;
  priority: string;
  message_id: string;
  sent_at: string;
}

export interface ChannelRouteOptions {
  /** Channels are on only when the user says so (`claudemesh mcp --channels`): Claude Code drops them silently otherwise. */
  enabled: boolean;
  /** True once the MCP client has initialized (pushes before that may be lost). */
  ready: () => boolean;
  notify: (content: string, meta: ChannelMeta) => Promise<void>;
}

/** One notification per message, framed like every route; the model has it once Claude Code took the notification. */
export class ChannelRoute implements PushRoute {
  readonly name = "channel" as const;
  constructor(private readonly options: ChannelRouteOptions) {}

  available(): boolean {
    return this.options.enabled && this.options.ready();
  }

  async offer(batch: readonly Delivery[], _priority: Priority): Promise<OfferResult> {
    for (const { entry } of batch) {
      await this.options.notify(frameMessages([entry]), {
        from: entry.from,
        from_pubkey: entry.fromPubkey,
        mesh: entry.meshSlug,
        priority: entry.priority,
        message_id: entry.messageId,
        sent_at: entry.sentAt,
      });
    }
    return { kind: "in_context" };
  }
}
