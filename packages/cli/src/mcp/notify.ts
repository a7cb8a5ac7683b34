// Builds the `notifications/claude/channel` push for one inbound peer message (SPEC §5).
import type { InboundMessage } from "@claudemesh/client";

/** The notification method Claude Code listens on for servers that declare `experimental["claude/channel"]`. */
export const CHANNEL_NOTIFICATION_METHOD = "notifications/claude/channel";

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

export interface ChannelNotification {
  method: typeof CHANNEL_NOTIFICATION_METHOD;
  params: { content: string; meta: ChannelMeta };
}

/**
 * The push for `message`: `content` is the decrypted text exactly as sent (Claude Code shows it
 * to the agent inside a channel tag carrying the meta), `meta` names sender, mesh and priority.
 */
export function channelNotification(message: InboundMessage): ChannelNotification {
  return {
    method: CHANNEL_NOTIFICATION_METHOD,
    params: {
      content: message.text,
      meta: {
        from: message.from,
        from_pubkey: message.fromPubkey,
        mesh: message.meshSlug,
        priority: message.priority,
        message_id: message.messageId,
        sent_at: message.sentAt,
      },
    },
  };
}
