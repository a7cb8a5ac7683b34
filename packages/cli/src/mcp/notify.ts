// The notification method of Claude Code's channel route (SPEC §5.3); the route itself is delivery/channel-route.ts.

/** The notification method Claude Code listens on for servers that declare `experimental["claude/channel"]`. */
export const CHANNEL_NOTIFICATION_METHOD = "notifications/claude/channel";
