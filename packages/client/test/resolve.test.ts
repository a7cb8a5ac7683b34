// resolveTarget - SPEC §5 target resolution: names, pubkeys, prefixes, channels, broadcast, mesh prefixes, errors.
import { describe, expect, it } from "vitest";
import { ClientError } from "../src/errors.js";
import { resolveTarget, type ResolvablePeer, type ResolveContext } from "../src/resolve.js";

const key = (prefix: string): string => (prefix + "0".repeat(64)).slice(0, 64);

const SELF = key("5e1f0000");
const ALICE: ResolvablePeer = { pubkey: SELF, displayName: "alice" };
const BOB: ResolvablePeer = { pubkey: key("b0b00001"), displayName: "Bob" };
const BACKEND_1: ResolvablePeer = { pubkey: key("aaaa1111"), displayName: "backend" };
const BACKEND_2: ResolvablePeer = { pubkey: key("aaaa2222"), displayName: "Backend" };
const HEXNAME: ResolvablePeer = { pubkey: key("c0c0c0c0"), displayName: "deadbeef" };
const TWIN_A: ResolvablePeer = { pubkey: key("12345678a"), displayName: "twin-a" };
const TWIN_B: ResolvablePeer = { pubkey: key("12345678b"), displayName: "twin-b" };

const ctx: ResolveContext = {
  peers: [ALICE, BOB, BACKEND_1, BACKEND_2, HEXNAME, TWIN_A, TWIN_B],
  selfPubkey: SELF,
  meshSlug: "team",
};

function failure(input: string, context: ResolveContext = ctx): ClientError {
  try {
    resolveTarget(input, context);
  } catch (err) {
    expect(err).toBeInstanceOf(ClientError);
    return err as ClientError;
  }
  throw new Error(`expected "${input}" to fail`);
}

describe("resolveTarget - successes", () => {
  it("resolves a display name case-insensitively", () => {
    expect(resolveTarget("bob", ctx)).toEqual({ targetSpec: BOB.pubkey, label: "Bob (b0b00001)" });
    expect(resolveTarget("  BOB ", ctx).targetSpec).toBe(BOB.pubkey);
  });

  it("resolves a full pubkey (either case)", () => {
    expect(resolveTarget(BOB.pubkey, ctx).targetSpec).toBe(BOB.pubkey);
    expect(resolveTarget(BOB.pubkey.toUpperCase(), ctx).targetSpec).toBe(BOB.pubkey);
  });

  it("resolves a unique hex prefix of at least 8 chars", () => {
    expect(resolveTarget("b0b00001", ctx)).toEqual({ targetSpec: BOB.pubkey, label: "Bob (b0b00001)" });
    expect(resolveTarget("12345678a", ctx).targetSpec).toBe(TWIN_A.pubkey);
  });

  it("prefers a display name over a hex prefix", () => {
    expect(resolveTarget("deadbeef", ctx).targetSpec).toBe(HEXNAME.pubkey);
  });

  it("passes * and #channel through (channel lowercased)", () => {
    expect(resolveTarget("*", ctx)).toEqual({ targetSpec: "*", label: "everyone" });
    expect(resolveTarget("#dev", ctx)).toEqual({ targetSpec: "#dev", label: "#dev" });
    expect(resolveTarget("#Dev-Ops", ctx)).toEqual({ targetSpec: "#dev-ops", label: "#dev-ops" });
  });

  it("selects another mesh with a slug: prefix and resolves within it", () => {
    const otherSelf = key("0the75e1");
    const carol: ResolvablePeer = { pubkey: key("ca201000"), displayName: "bob" };
    const multi: ResolveContext = {
      ...ctx,
      meshes: [
        { slug: "ops", peers: [carol, { pubkey: otherSelf, displayName: "alice" }], selfPubkey: otherSelf },
      ],
    };
    expect(resolveTarget("ops:bob", multi)).toEqual({
      meshSlug: "ops",
      targetSpec: carol.pubkey,
      label: "bob (ca201000)",
    });
    expect(resolveTarget("ops:*", multi)).toEqual({ meshSlug: "ops", targetSpec: "*", label: "everyone" });
    expect(resolveTarget("OPS: #dev", multi)).toEqual({ meshSlug: "ops", targetSpec: "#dev", label: "#dev" });
    expect(resolveTarget("team:bob", multi)).toEqual({
      meshSlug: "team",
      targetSpec: BOB.pubkey,
      label: "Bob (b0b00001)",
    });
    expect(failure("ops:alice", multi).message).toMatch(/this session itself/);
  });
});

describe("resolveTarget - errors", () => {
  it("an ambiguous name lists every candidate with a short pubkey", () => {
    const err = failure("backend");
    expect(err.code).toBe("ambiguous_target");
    expect(err.message).toBe(
      '"backend" matches 2 peers: backend (aaaa1111), Backend (aaaa2222) — use a longer pubkey prefix',
    );
  });

  it("an ambiguous prefix lists the candidates", () => {
    const err = failure("12345678");
    expect(err.code).toBe("ambiguous_target");
    // listed with enough hex to tell them apart
    expect(err.message).toContain("twin-a (12345678a)");
    expect(err.message).toContain("twin-b (12345678b)");
  });

  it("an unknown name lists the known peers but never self", () => {
    const err = failure("zed");
    expect(err.code).toBe("unknown_target");
    expect(err.message).toMatch(/^no peer "zed" — peers: Bob \(b0b00001\), backend \(aaaa1111\)/);
    expect(err.message).not.toContain("alice");
  });

  it("a hex prefix shorter than 8 is rejected even when it would be unique", () => {
    const err = failure("b0b0000");
    expect(err.code).toBe("unknown_target");
    expect(err.message).toMatch(/at least 8 hex chars/);
  });

  it("an unknown full pubkey is an error", () => {
    expect(failure(key("ffffffff")).code).toBe("unknown_target");
  });

  it.each([
    ["own name", "alice"],
    ["own name in another case", "ALICE"],
    ["own pubkey", SELF],
    ["own pubkey prefix", "5e1f0000"],
  ])("never resolves to self (%s)", (_label, input) => {
    const err = failure(input);
    expect(err.code).toBe("unknown_target");
    expect(err.message).toMatch(/this session itself/);
  });

  it("a name shared by self and one other peer resolves to the other", () => {
    const other: ResolvablePeer = { pubkey: key("07e20000"), displayName: "Alice" };
    expect(resolveTarget("alice", { ...ctx, peers: [...ctx.peers, other] }).targetSpec).toBe(other.pubkey);
  });

  it("an unknown mesh prefix lists the known meshes", () => {
    const err = failure("nope:bob", { ...ctx, meshes: [{ slug: "ops", peers: [] }] });
    expect(err.code).toBe("unknown_target");
    expect(err.message).toBe('no mesh "nope" — known meshes: ops, team');
  });

  it.each(["", "   ", "#", "#bad name", "#" + "x".repeat(65)])("rejects %j", (input) => {
    expect(failure(input).code).toBe("unknown_target");
  });

  it("an empty mesh says there is nobody to talk to", () => {
    const err = failure("bob", { peers: [ALICE], selfPubkey: SELF });
    expect(err.message).toBe('no peer "bob" — peers: no other peers in this mesh yet');
  });

  it("long candidate lists are capped", () => {
    const many = Array.from({ length: 25 }, (_, i) => ({
      pubkey: key(`ab${String(i).padStart(6, "0")}`),
      displayName: `p${i}`,
    }));
    const err = failure("zed", { peers: many, selfPubkey: SELF });
    expect(err.message).toMatch(/p19 \(ab000019\) and 5 more$/);
  });
});
