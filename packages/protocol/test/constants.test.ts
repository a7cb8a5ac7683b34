// SPEC §7 defaults have their documented values, and the length limits the schemas enforce agree with them.
import { describe, expect, it } from "vitest";
import * as P from "@claudemesh/protocol";

describe("constants - SPEC §7 defaults", () => {
  it("have their documented values", () => {
    expect({
      HELLO_SKEW_MS: P.HELLO_SKEW_MS,
      PING_INTERVAL_MS: P.PING_INTERVAL_MS,
      DEAD_AFTER_MS: P.DEAD_AFTER_MS,
      PRESENCE_GRACE_MS: P.PRESENCE_GRACE_MS,
      CLAIM_LEASE_MS: P.CLAIM_LEASE_MS,
      RETENTION_MS: P.RETENTION_MS,
      MAX_FRAME_BYTES: P.MAX_FRAME_BYTES,
      MAX_CONNECTIONS_PER_MESH: P.MAX_CONNECTIONS_PER_MESH,
      STATUS_FRESH_MS: P.STATUS_FRESH_MS,
      WORKING_TTL_MS: P.WORKING_TTL_MS,
      PENDING_HOOK_MS: P.PENDING_HOOK_MS,
      RECONNECT_BACKOFF_MS: P.RECONNECT_BACKOFF_MS,
      CLIENT_OUTBOUND_QUEUE: P.CLIENT_OUTBOUND_QUEUE,
      CLIENT_PUSH_BUFFER: P.CLIENT_PUSH_BUFFER,
      HELLO_ACK_TIMEOUT_MS: P.HELLO_ACK_TIMEOUT_MS,
      SEND_ACK_TIMEOUT_MS: P.SEND_ACK_TIMEOUT_MS,
      MAX_OUTBOUND_BYTES: P.MAX_OUTBOUND_BYTES,
      MAX_CHANNELS_PER_MEMBER: P.MAX_CHANNELS_PER_MEMBER,
    }).toEqual({
      HELLO_SKEW_MS: 60_000,
      PING_INTERVAL_MS: 30_000,
      DEAD_AFTER_MS: 75_000,
      PRESENCE_GRACE_MS: 90_000,
      CLAIM_LEASE_MS: 30_000,
      RETENTION_MS: 7 * 24 * 3600 * 1000,
      MAX_FRAME_BYTES: 65_536,
      MAX_CONNECTIONS_PER_MESH: 1_000,
      STATUS_FRESH_MS: 30_000,
      WORKING_TTL_MS: 60_000,
      PENDING_HOOK_MS: 10_000,
      RECONNECT_BACKOFF_MS: [1_000, 2_000, 4_000, 8_000, 16_000, 30_000],
      CLIENT_OUTBOUND_QUEUE: 100,
      CLIENT_PUSH_BUFFER: 500,
      HELLO_ACK_TIMEOUT_MS: 5_000,
      SEND_ACK_TIMEOUT_MS: 10_000,
      MAX_OUTBOUND_BYTES: 4 * 1024 * 1024,
      MAX_CHANNELS_PER_MEMBER: 64,
    });
  });

  it("match the other numbers SPEC §2, §3 and §5 name", () => {
    expect(P.DEFAULT_PORT).toBe(7900);
    expect(P.DEFAULT_HOST).toBe("127.0.0.1");
    expect(P.MAX_SUMMARY_CHARS).toBe(280);
    expect(P.MIN_PUBKEY_PREFIX).toBe(8);
    expect(P.INVITE_PREFIX).toBe("ic://join/");
    expect(P.INVITE_VERSION).toBe(1);
  });

  it("keep liveness coherent: a socket is declared dead only after more than two ping intervals", () => {
    expect(P.DEAD_AFTER_MS).toBeGreaterThan(2 * P.PING_INTERVAL_MS);
    expect(P.PRESENCE_GRACE_MS).toBeGreaterThan(P.DEAD_AFTER_MS);
  });
});

describe("constants - agree with the schemas", () => {
  const at = (n: number, c = "a"): string => c.repeat(n);

  it("summary length is MAX_SUMMARY_CHARS", () => {
    expect(P.SummarySchema.safeParse(at(P.MAX_SUMMARY_CHARS)).success).toBe(true);
    expect(P.SummarySchema.safeParse(at(P.MAX_SUMMARY_CHARS + 1)).success).toBe(false);
  });

  it("display name length is MAX_NAME_CHARS", () => {
    expect(P.DisplayNameSchema.safeParse(at(P.MAX_NAME_CHARS)).success).toBe(true);
    expect(P.DisplayNameSchema.safeParse(at(P.MAX_NAME_CHARS + 1)).success).toBe(false);
  });

  it("channel name length is MAX_CHANNEL_CHARS, both as a name and as a #target", () => {
    expect(P.ChannelNameSchema.safeParse(at(P.MAX_CHANNEL_CHARS)).success).toBe(true);
    expect(P.ChannelNameSchema.safeParse(at(P.MAX_CHANNEL_CHARS + 1)).success).toBe(false);
    expect(P.isFanoutTarget(`#${at(P.MAX_CHANNEL_CHARS)}`)).toBe(true);
    expect(P.isFanoutTarget(`#${at(P.MAX_CHANNEL_CHARS + 1)}`)).toBe(false);
  });

  it("isFanoutTarget accepts exactly * and #channel-name targets", () => {
    for (const t of ["*", "#backend", "#ops.alerts_v2", "#2025-q4"])
      expect(P.isFanoutTarget(t), t).toBe(true);
    for (const t of ["", "**", "#", "#Backend", "# x", "#-x", "backend", "*#x", "#a:b", "a".repeat(64)])
      expect(P.isFanoutTarget(t), t).toBe(false);
  });

  it("the largest join request the schema allows fits under MAX_HTTP_BODY_BYTES", () => {
    const body = {
      invite: `${P.INVITE_PREFIX}${at(4096 - P.INVITE_PREFIX.length, "A")}`,
      pubkey: at(64, "f"),
      display_name: at(P.MAX_NAME_CHARS, "n"),
      timestamp: Number.MAX_SAFE_INTEGER,
      signature: at(128, "f"),
    };
    expect(P.JoinRequestSchema.safeParse(body).success).toBe(true);
    expect(P.JoinRequestSchema.safeParse({ ...body, invite: body.invite + "A" }).success).toBe(false);
    expect(new TextEncoder().encode(JSON.stringify(body)).length).toBeLessThan(P.MAX_HTTP_BODY_BYTES);
  });

  it("the largest hello and hook status request fit under their caps, even with a 3-byte-per-char cwd", () => {
    const bytes = (value: unknown): number => new TextEncoder().encode(JSON.stringify(value)).length;
    const hello = {
      type: "hello",
      meshId: at(64, "m"),
      memberId: at(64, "m"),
      pubkey: at(256, "p"),
      sessionId: at(128, "s"),
      pid: P.MAX_PID,
      cwd: at(4096, "€"),
      timestamp: Number.MAX_SAFE_INTEGER,
      signature: at(512, "s"),
    };
    expect(P.HelloSchema.safeParse(hello).success).toBe(true);
    expect(bytes(hello)).toBeLessThan(P.MAX_FRAME_BYTES);
    const hook = {
      mesh_id: at(64, "m"),
      pubkey: at(64, "f"),
      status: "working",
      cwd: at(4096, "€"),
      pid: P.MAX_PID,
      session_id: at(128, "s"),
      timestamp: Number.MAX_SAFE_INTEGER,
      signature: at(128, "f"),
    };
    expect(P.HookStatusRequestSchema.safeParse(hook).success).toBe(true);
    expect(bytes(hook)).toBeLessThan(P.MAX_HTTP_BODY_BYTES);
  });
});
