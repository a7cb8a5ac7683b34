// Named defaults of SPEC §7; every one is configurable where it is used and documented in docs/CONFIG.md.

/**
 * The version of every package of this repository (reported by /health, `claudemesh --version` and the
 * MCP server). A test checks that each package.json carries this same version, so a bump changes both.
 */
export const CLAUDEMESH_VERSION = "0.1.0";

/** An ed25519 public key on the wire: 64 lowercase hex chars (SPEC §1). The one copy of this pattern. */
export const PUBKEY_HEX_RE = /^[0-9a-f]{64}$/;
/** An ed25519 signature on the wire: 128 lowercase hex chars (SPEC §1). The one copy of this pattern. */
export const SIGNATURE_HEX_RE = /^[0-9a-f]{128}$/;
/** An ed25519 secret key (libsodium layout seed‖pubkey) has the signature's shape: 128 lowercase hex. */
export const SECRET_KEY_HEX_RE = SIGNATURE_HEX_RE;

/** Hello and signed-HTTP timestamp window, both directions (SPEC §3 check 1). */
export const HELLO_SKEW_MS = 60_000;
/** Broker ping interval (SPEC §3 Liveness). */
export const PING_INTERVAL_MS = 30_000;
/** A socket silent this long is dropped. */
export const DEAD_AFTER_MS = 75_000;
/** A dropped peer stays listed offline-held this long before it is `left`. */
export const PRESENCE_GRACE_MS = 90_000;
/** Lease on a pushed message; redelivered when no client_ack arrives in time. */
export const CLAIM_LEASE_MS = 30_000;
/** Undelivered messages older than this are swept. */
export const RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** Largest WebSocket text frame accepted (larger closes with 1009). */
export const MAX_FRAME_BYTES = 64 * 1024;
/**
 * Largest group body ciphertext (SPEC §4, §7 revision 2), counted as its wire form: the base64
 * `body.ciphertext` string may be at most this many chars (49,152 bytes of secretbox output, so a
 * 48 KB message fits).
 */
export const MAX_GROUP_BODY_CIPHERTEXT_CHARS = 64 * 1024;
/** Peers in one `peers` reply when `list_peers` names no `limit` (claudemesh extension, docs/PROTOCOL.md). */
export const DEFAULT_PEERS_PAGE = 500;
/** Largest `limit` a `list_peers` request may ask for. */
export const MAX_PEERS_PAGE = 1_000;
/** Most recipients of one group send: the mesh connection cap (SPEC §7). */
export const MAX_GROUP_RECIPIENTS = 1_000;
/** What a group frame may grow per recipient, on top of MAX_FRAME_BYTES (SPEC §7). */
export const GROUP_FRAME_BYTES_PER_RECIPIENT = 256;
/**
 * Group frame cap for `recipients` keys (SPEC §7): 64 KiB + 256 B × recipients, with recipients
 * counted up to MAX_GROUP_RECIPIENTS. A group send or push larger than this is refused.
 */
export function groupFrameCap(
  recipients: number,
  maxFrameBytes: number = MAX_FRAME_BYTES,
  maxRecipients: number = MAX_GROUP_RECIPIENTS,
): number {
  const counted = Math.max(0, Math.min(Math.floor(recipients), maxRecipients));
  return maxFrameBytes + GROUP_FRAME_BYTES_PER_RECIPIENT * counted;
}
/** The largest frame any group send can be: the cap at MAX_GROUP_RECIPIENTS (the socket-level limit). */
export const MAX_GROUP_FRAME_BYTES = groupFrameCap(MAX_GROUP_RECIPIENTS);
/** Largest HTTP body accepted (larger gets 413 before parsing). */
export const MAX_HTTP_BODY_BYTES = 16 * 1024;
/** Bytes the broker buffers for one connection before closing it with 1013 (error replies included). */
export const MAX_OUTBOUND_BYTES = 4 * 1024 * 1024;
/** Channels one member (or agent) may be in; one more join gets `limit_reached`. */
export const MAX_CHANNELS_PER_MEMBER = 64;
/** Live connections allowed per mesh before `capacity`. */
export const MAX_CONNECTIONS_PER_MESH = 1_000;
/** A lower-ranked status source may overwrite only a record older than this. */
export const STATUS_FRESH_MS = 30_000;
/** A peer stuck in `working` longer than this flips to `idle`. */
export const WORKING_TTL_MS = 60_000;
/** A hook status that arrives before its session connects is kept this long. */
export const PENDING_HOOK_MS = 10_000;
/** Client reconnect backoff schedule; the last value repeats. */
export const RECONNECT_BACKOFF_MS = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000] as const;
/** Client outbound queue capacity while disconnected. */
export const CLIENT_OUTBOUND_QUEUE = 100;
/** Client buffer of received pushes awaiting check_messages. */
export const CLIENT_PUSH_BUFFER = 500;
/** Client waits this long for hello_ack. */
export const HELLO_ACK_TIMEOUT_MS = 5_000;
/** Client waits this long for a send's ack. */
export const SEND_ACK_TIMEOUT_MS = 10_000;
/** Default broker port (SPEC §2). */
export const DEFAULT_PORT = 7900;
/** Default broker bind address. */
export const DEFAULT_HOST = "127.0.0.1";
/** Longest status summary (SPEC §3 set_summary). */
export const MAX_SUMMARY_CHARS = 280;
/** Longest display / agent / mesh name. */
export const MAX_NAME_CHARS = 64;
/** Largest process id accepted (`hello.pid`, hook `pid`): the store keeps it in a 32-bit INTEGER column. */
export const MAX_PID = 2 ** 31 - 1;
/** Longest channel name (without the leading #). */
export const MAX_CHANNEL_CHARS = 64;
/** Shortest unique hex prefix accepted as a target (SPEC §5). */
export const MIN_PUBKEY_PREFIX = 8;
/** Invite payload version. */
export const INVITE_VERSION = 1;
/** Invite link prefix. */
export const INVITE_PREFIX = "ic://join/";
