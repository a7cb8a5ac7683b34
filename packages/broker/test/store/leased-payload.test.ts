// Leased-row NOTIFY payloads (postgres/leased-payload.ts): which deliveries may be sent as their row,
// and what the receiving broker accepts as one.
import { describe, expect, it } from "vitest";
import {
  decodeLeased,
  fitsLeasedPayload,
  REMOTE_LEASE_MAX_BYTES,
} from "../../src/store/postgres/leased-payload.js";
import { message } from "./fixtures.js";

const row = {
  seq: 7,
  message_id: "msg_1",
  mesh_id: "mesh_1",
  sender_member_id: "alice",
  recipient_member_id: "bob",
  target_spec: "direct",
  priority: "next",
  nonce: "bm9uY2U=",
  ciphertext: "Y2lwaGVy",
  created_at: 5,
  lease_until: 30_005,
  lease_owner: "b2~x",
  sender_pubkey: "a".repeat(64),
  sender_name: "alice",
};

describe("leased-row payloads", () => {
  it("a direct delivery fits unless its own parts pass REMOTE_LEASE_MAX_BYTES; a group one never", () => {
    const small = message("mesh", "alice", ["bob"]);
    expect(fitsLeasedPayload(small, small.deliveries[0]!)).toBe(true);
    const big = message("mesh", "alice", ["bob"]);
    big.deliveries[0]!.ciphertext = "A".repeat(REMOTE_LEASE_MAX_BYTES);
    expect(fitsLeasedPayload(big, big.deliveries[0]!)).toBe(false);
    const group = { ...small, body: { nonce: "n", ciphertext: "c", sig: "s" } };
    expect(fitsLeasedPayload(group, small.deliveries[0]!)).toBe(false);
  });

  it("decodes a row with its lease, and nothing else", () => {
    expect(decodeLeased(JSON.stringify({ o: "s1", k: "leased", d: row }))).toEqual({
      origin: "s1",
      delivery: expect.objectContaining({
        seq: 7,
        messageId: "msg_1",
        recipientMemberId: "bob",
        senderName: "alice",
        body: null,
        leaseOwner: "b2~x",
        leaseUntil: 30_005,
      }),
    });
    const bad = [
      "not json",
      JSON.stringify({ o: "s1", r: ["bob"] }),
      JSON.stringify({ o: "s1", k: "receipts", d: row }),
      JSON.stringify({ k: "leased", d: row }),
      JSON.stringify({ o: "s1", k: "leased", d: { ...row, lease_owner: null } }),
      JSON.stringify({ o: "s1", k: "leased", d: { ...row, lease_until: "soon" } }),
      JSON.stringify({ o: "s1", k: "leased", d: { ...row, ciphertext: 5 } }),
      JSON.stringify({ o: "s1", k: "leased", d: null }),
    ];
    for (const payload of bad) expect(decodeLeased(payload)).toBeNull();
  });
});
