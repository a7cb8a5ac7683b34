// Recipient resolution for sends (SPEC §3/§4) and the list_peers view (cwd visibility, grace, revoked members).
import { describe, expect, it } from "vitest";
import type { Send } from "@claudemesh/protocol";
import type { MemberRow, PresenceRow } from "../../src/store/types.js";
import { buildMembership, routeSend } from "../../src/core/routing.js";
import { buildPeerList, maySeeCwd } from "../../src/core/peers.js";

const key = (c: string): string => c.repeat(64);
const member = (id: string, c: string, over: Partial<MemberRow> = {}): MemberRow => ({
  id,
  meshId: "m1",
  pubkey: key(c),
  displayName: id,
  role: "member",
  parentMemberId: null,
  createdAt: 0,
  revokedAt: null,
  ...over,
});
const alice = member("alice", "a", { role: "admin" });
const bob = member("bob", "b");
const bobAgent = member("bob-agent", "c", { parentMemberId: "bob" });
const carol = member("carol", "d", { revokedAt: 5 });
const members = [alice, bob, bobAgent, carol];
const channels = new Map([
  ["alice", ["ops"]],
  ["bob", ["ops", "dev"]],
  ["carol", ["ops"]],
]);
const membership = buildMembership("m1", members, channels);
const NONCE = "A".repeat(32);
const CT = "B".repeat(24);
const SEALED = "C".repeat(64);
const SIG = "e".repeat(128);
const env = (c: string) => ({ to: key(c), nonce: NONCE, sealedKey: SEALED });
const group = (targetSpec: string, keys: ReturnType<typeof env>[]): Partial<Send> => ({
  targetSpec,
  body: { nonce: NONCE, ciphertext: CT },
  sig: SIG,
  keys,
});
const send = (over: Partial<Send>): Send => ({
  type: "send",
  id: "r1",
  targetSpec: key("b"),
  priority: "now",
  ...over,
});

describe("routing - direct", () => {
  it("delivers to an active member or agent of the mesh", () => {
    const direct = routeSend(membership, send({ nonce: NONCE, ciphertext: CT }), "alice");
    expect(direct).toEqual({
      ok: true,
      deliveries: [{ recipientMemberId: "bob", nonce: NONCE, ciphertext: CT }],
    });
    const agent = routeSend(
      membership,
      send({ targetSpec: key("c"), nonce: NONCE, ciphertext: CT }),
      "alice",
    );
    expect(agent.ok && agent.deliveries[0]!.recipientMemberId).toBe("bob-agent");
  });

  it("refuses unknown, revoked and self targets with unknown_target", () => {
    for (const [target, sender] of [
      [key("e"), "alice"],
      [key("d"), "alice"],
      [key("a"), "alice"],
    ] as const)
      expect(
        routeSend(membership, send({ targetSpec: target, nonce: NONCE, ciphertext: CT }), sender),
      ).toMatchObject({
        ok: false,
        code: "unknown_target",
      });
  });
});

describe("routing - fan-out", () => {
  it("accepts * only with exactly every other active member", () => {
    const ok = routeSend(membership, send(group("*", [env("b"), env("c")])), "alice");
    expect(ok.ok && ok.deliveries.map((d) => d.recipientMemberId).sort()).toEqual(["bob", "bob-agent"]);
    // One body for the message, one sealed key per recipient.
    expect(ok).toMatchObject({ body: { nonce: NONCE, ciphertext: CT, sig: SIG } });
    expect(ok.ok && ok.deliveries.every((d) => d.ciphertext === SEALED)).toBe(true);
    for (const keys of [[env("b")], [env("b"), env("c"), env("d")], [env("b"), env("a")]]) {
      expect(routeSend(membership, send(group("*", keys)), "alice")).toEqual({
        ok: false,
        code: "recipients_mismatch",
        message: expect.any(String),
        expected: [key("b"), key("c")],
      });
    }
  });

  it("routes #name to the channel's other active members", () => {
    expect(routeSend(membership, send(group("#ops", [env("b")])), "alice").ok).toBe(true);
    expect(routeSend(membership, send(group("#ops", [env("a"), env("b")])), "bob-agent").ok).toBe(true);
    expect(routeSend(membership, send(group("#ops", [env("b"), env("d")])), "alice")).toMatchObject({
      code: "recipients_mismatch",
      expected: [key("b")],
    });
  });

  it("refuses a channel with nobody else in it, listing an empty expected set", () => {
    expect(routeSend(membership, send(group("#dev", [env("a")])), "bob")).toMatchObject({
      code: "recipients_mismatch",
      expected: [],
    });
    expect(routeSend(membership, send(group("#none", [env("a")])), "bob")).toMatchObject({
      code: "recipients_mismatch",
      expected: [],
    });
  });
});

describe("peers view", () => {
  const timings = {
    statusFreshMs: 30_000,
    workingTtlMs: 60_000,
    presenceGraceMs: 90_000,
    staleOnlineMs: 135_000,
  };
  const row = (memberId: string, over: Partial<PresenceRow>): PresenceRow => ({
    memberId,
    presenceId: "p",
    brokerId: "b1",
    sessionId: "s",
    pid: 1,
    cwd: `/home/${memberId}`,
    online: true,
    connectedAt: 0,
    lastSeenAt: 1_000,
    disconnectedAt: null,
    status: "working",
    statusSource: "hook",
    statusAt: 1_000,
    summary: `${memberId} summary`,
    ...over,
  });
  const presence = new Map([
    ["alice", row("alice", {})],
    ["bob", row("bob", { online: false, disconnectedAt: 2_000 })],
    ["bob-agent", row("bob-agent", { online: true, lastSeenAt: 1_000 })],
  ]);
  const list = (viewer: MemberRow, now: number) =>
    buildPeerList({ viewer, members, presence, channelsByMember: channels, now, timings });

  it("lists every active member with role, parent pubkey, channels and ISO lastSeenAt; never a revoked one", () => {
    const peers = list(alice, 10_000);
    expect(peers.map((p) => p.displayName)).toEqual(["alice", "bob", "bob-agent"]);
    expect(peers[2]).toMatchObject({ parent: key("b"), role: "member", online: true, status: "working" });
    expect(peers[1]).toMatchObject({ channels: ["dev", "ops"], lastSeenAt: new Date(1_000).toISOString() });
  });

  it("shows cwd only within one member's family (a person and its agents)", () => {
    expect(maySeeCwd(bobAgent, bob)).toBe(true);
    expect(maySeeCwd(bob, bobAgent)).toBe(true);
    expect(maySeeCwd(alice, bobAgent)).toBe(false);
    const seenByAlice = list(alice, 10_000);
    expect(seenByAlice.find((p) => p.memberId === "bob-agent")?.cwd).toBeUndefined();
    expect(seenByAlice.find((p) => p.memberId === "alice")?.cwd).toBe("/home/alice");
    const seenByBob = list(bob, 10_000);
    expect(seenByBob.find((p) => p.memberId === "bob-agent")?.cwd).toBe("/home/bob-agent");
  });

  it("hides cwd between two members, both connected, in both directions", () => {
    expect(maySeeCwd(alice, bob)).toBe(false);
    expect(maySeeCwd(bob, alice)).toBe(false);
    const bothOnline = new Map(presence).set("bob", row("bob", {}));
    const view = (viewer: MemberRow) =>
      buildPeerList({
        viewer,
        members,
        presence: bothOnline,
        channelsByMember: channels,
        now: 10_000,
        timings,
      });
    expect(view(alice).find((p) => p.memberId === "bob")).toMatchObject({ online: true });
    expect(view(alice).find((p) => p.memberId === "bob")?.cwd).toBeUndefined();
    expect(view(bob).find((p) => p.memberId === "alice")?.cwd).toBeUndefined();
    // Each still sees its own.
    expect(view(bob).find((p) => p.memberId === "bob")?.cwd).toBe("/home/bob");
  });

  it("holds a dropped peer (status, summary) through the grace, then shows it as left", () => {
    const held = list(alice, 2_000 + 90_000).find((p) => p.memberId === "bob")!;
    expect(held).toMatchObject({ online: false, summary: "bob summary" });
    const left = list(alice, 2_000 + 90_001).find((p) => p.memberId === "bob")!;
    expect(left).toMatchObject({ online: false, status: "idle", summary: null });
  });

  it("applies the working TTL and treats an online row without heartbeat as offline", () => {
    expect(list(alice, 61_001 + 1_000).find((p) => p.memberId === "alice")?.status).toBe("idle");
    expect(list(alice, 1_000 + 135_001).find((p) => p.memberId === "bob-agent")?.online).toBe(false);
  });
});
