// send_message target resolution across meshes — prefixes, single-mesh fast path, ambiguity and unknowns list candidates.
import { describe, expect, it } from "vitest";
import type { Peer } from "@claudemesh/protocol";
import { resolveAcross, type TargetLink } from "../../src/mcp/target.js";

const key = (c: string): string => c.repeat(64);

function peer(name: string, pubkey: string, channels: string[] = []): Peer {
  return {
    memberId: `m-${name}`,
    pubkey,
    displayName: name,
    role: "member",
    parent: null,
    status: "idle",
    summary: null,
    online: true,
    lastSeenAt: null,
    channels,
  };
}

function link(meshSlug: string, self: Peer, others: Peer[]): TargetLink {
  return { meshSlug, pubkey: self.pubkey, peers: async () => ({ peers: [self, ...others], live: true }) };
}

const meA = peer("me", key("a"), ["ops"]);
const meB = peer("me", key("b"), ["ops"]);
const team = link("team", meA, [peer("bob", key("1")), peer("carol", key("2"), ["ops"])]);
const infra = link("infra", meB, [
  peer("bob", key("3")),
  peer("dave", key("4"), ["ops"]),
  peer("erin", key("5"), ["qa"]),
]);

describe("mcp target - resolveAcross", () => {
  it("in one mesh resolves names, pubkey prefixes, #channel and *", async () => {
    await expect(resolveAcross([team], "bob")).resolves.toMatchObject({ link: team, targetSpec: key("1") });
    await expect(resolveAcross([team], "22222222")).resolves.toMatchObject({ targetSpec: key("2") });
    await expect(resolveAcross([team], "#ops")).resolves.toMatchObject({ targetSpec: "#ops" });
    await expect(resolveAcross([team], "*")).resolves.toMatchObject({ targetSpec: "*", label: "everyone" });
  });

  it("uses the mesh-slug: prefix to pick the mesh", async () => {
    await expect(resolveAcross([team, infra], "infra:bob")).resolves.toMatchObject({
      link: infra,
      targetSpec: key("3"),
    });
    await expect(resolveAcross([team, infra], "team:*")).resolves.toMatchObject({
      link: team,
      targetSpec: "*",
    });
  });

  it("rejects an unknown mesh prefix, naming the meshes", async () => {
    await expect(resolveAcross([team, infra], "nope:bob")).rejects.toMatchObject({
      code: "unknown_target",
      message: expect.stringContaining('no mesh "nope" — this session is in: team, infra'),
    });
  });

  it("finds a name that exists in exactly one mesh", async () => {
    await expect(resolveAcross([team, infra], "dave")).resolves.toMatchObject({
      link: infra,
      targetSpec: key("4"),
    });
  });

  it("calls a name found in several meshes ambiguous, listing slug-prefixed candidates", async () => {
    const err = await resolveAcross([team, infra], "bob").catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "ambiguous_target" });
    expect((err as Error).message).toContain("team:bob (11111111)");
    expect((err as Error).message).toContain("infra:bob (33333333)");
  });

  it("calls * ambiguous with several meshes", async () => {
    await expect(resolveAcross([team, infra], "*")).rejects.toMatchObject({
      code: "ambiguous_target",
      message: expect.stringContaining("team:*, infra:*"),
    });
  });

  it("routes #channel to the one mesh where someone else joined it, else ambiguous or unknown", async () => {
    await expect(resolveAcross([team, infra], "#qa")).resolves.toMatchObject({
      link: infra,
      targetSpec: "#qa",
    });
    await expect(resolveAcross([team, infra], "#ops")).rejects.toMatchObject({
      code: "ambiguous_target",
      message: expect.stringContaining("team:#ops, infra:#ops"),
    });
    await expect(resolveAcross([team, infra], "#nothing")).rejects.toMatchObject({
      code: "unknown_target",
      message: expect.stringContaining("nobody else has joined #nothing"),
    });
  });

  it("lists every mesh's peers when nothing matches", async () => {
    const err = (await resolveAcross([team, infra], "zed").catch((e: unknown) => e)) as Error & {
      code: string;
    };
    expect(err.code).toBe("unknown_target");
    expect(err.message).toContain('no peer "zed" in any mesh');
    for (const candidate of ["mesh team:", "carol (22222222)", "mesh infra:", "erin (55555555)"])
      expect(err.message).toContain(candidate);
  });

  it("names a mesh whose peers could not be listed", async () => {
    const down: TargetLink = {
      meshSlug: "down",
      pubkey: key("c"),
      peers: () => Promise.reject(new Error("not connected yet (broker unreachable)")),
    };
    await expect(resolveAcross([team, down], "carol")).resolves.toMatchObject({ link: team });
    await expect(resolveAcross([team, down], "zed")).rejects.toThrow(
      "mesh down: not connected yet (broker unreachable)",
    );
  });

  it("refuses when the session is in no mesh", async () => {
    await expect(resolveAcross([], "bob")).rejects.toMatchObject({
      code: "unknown_target",
      message: expect.stringContaining("no mesh"),
    });
  });
});
