// Pins every signed canonical string of SPEC §2/§3 byte for byte, and checks each one is domain-separated and injective.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  canonicalEnroll,
  canonicalHello,
  canonicalInvite,
  canonicalJoin,
  canonicalMeshCreate,
  canonicalRevoke,
  canonicalStatus,
  HelloSchema,
} from "@claudemesh/protocol";

const PK_A = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const PK_B = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
const TS = 1_764_108_000_000;
const INVITE = {
  mesh_id: "mesh_1",
  invite_id: "inv_Zk3pQ9rT",
  role: "member",
  max_uses: 3,
  expires_at: 1_764_194_400,
  inviter_pubkey: PK_A,
};

/** Each builder with a fixed example and the exact string SPEC §2/§3 prescribes for it. */
const pinned: { name: string; actual: string; expected: string }[] = [
  {
    name: "hello",
    actual: canonicalHello("mesh_1", "mem_1", PK_A, TS),
    expected: `mesh_1|mem_1|${PK_A}|${TS}`,
  },
  {
    name: "mesh-create",
    actual: canonicalMeshCreate("core", PK_A, TS),
    expected: `claudemesh-mesh-create|core|${PK_A}|${TS}`,
  },
  {
    name: "join",
    actual: canonicalJoin("mesh_1", "inv_Zk3pQ9rT", PK_B, TS),
    expected: `claudemesh-join|mesh_1|inv_Zk3pQ9rT|${PK_B}|${TS}`,
  },
  {
    name: "enroll",
    actual: canonicalEnroll("mesh_1", PK_A, PK_B, "backend", TS),
    expected: `claudemesh-enroll|mesh_1|${PK_A}|${PK_B}|backend|${TS}`,
  },
  {
    name: "invite",
    actual: canonicalInvite(INVITE),
    expected: `claudemesh-invite|v1|mesh_1|inv_Zk3pQ9rT|member|3|1764194400|${PK_A}`,
  },
  {
    name: "status",
    actual: canonicalStatus("mesh_1", PK_B, "working", TS),
    expected: `claudemesh-status|mesh_1|${PK_B}|working|${TS}`,
  },
  {
    name: "revoke",
    actual: canonicalRevoke("mesh_1", PK_B, PK_A, TS),
    expected: `claudemesh-revoke|mesh_1|${PK_B}|${PK_A}|${TS}`,
  },
];

describe("canonical strings - exact formats", () => {
  for (const { name, actual, expected } of pinned) {
    it(`${name} is exactly the SPEC form`, () => {
      expect(actual).toBe(expected);
    });
  }

  it("hello keeps the seed's form with no domain prefix", () => {
    expect(canonicalHello("m", "n", PK_A, 1)).toBe(`m|n|${PK_A}|1`);
    expect(canonicalHello("m", "n", PK_A, 1)).not.toMatch(/^claudemesh-/);
  });

  it("every other payload starts with its own claudemesh-<purpose>| prefix", () => {
    const prefixes = pinned.filter((p) => p.name !== "hello").map((p) => p.actual.split("|")[0]);
    expect(prefixes).toEqual([
      "claudemesh-mesh-create",
      "claudemesh-join",
      "claudemesh-enroll",
      "claudemesh-invite",
      "claudemesh-status",
      "claudemesh-revoke",
    ]);
  });

  it("writes the timestamp as plain integer digits", () => {
    expect(canonicalJoin("m", "inv_12345678", PK_A, 0)).toBe(`claudemesh-join|m|inv_12345678|${PK_A}|0`);
    expect(canonicalStatus("m", PK_A, "idle", 9_999_999_999_999)).toMatch(/\|9999999999999$/);
  });
});

// Field values as the schemas allow them (ids, hex keys, names): none can contain '|'.
const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,16}$/);
const pubkey = fc.stringMatching(/^[0-9a-f]{64}$/);
const name = fc.stringMatching(/^[A-Za-z0-9_.@-]{1,12}$/);
const ts = fc.integer({ min: 0, max: 2 ** 45 });
const status = fc.constantFrom("idle", "working", "dnd");
const role = fc.constantFrom("admin", "member");

/**
 * Distinct inputs must give distinct strings: a builder that dropped or merged a field would
 * let one signature vouch for two different requests.
 */
function injective<T extends unknown[]>(args: fc.Arbitrary<T>, build: (...a: T) => string): void {
  fc.assert(
    fc.property(args, args, (a, b) => {
      expect(build(...a) === build(...b)).toBe(JSON.stringify(a) === JSON.stringify(b));
    }),
    { numRuns: 300 },
  );
  // Also compare inputs that differ in exactly one field, which random pairs rarely produce.
  fc.assert(
    fc.property(args, args, fc.nat(), (a, b, k) => {
      const i = k % a.length;
      const changed = a.map((v, j) => (j === i ? b[j] : v)) as T;
      expect(build(...a) === build(...changed)).toBe(a[i] === changed[i]);
    }),
    { numRuns: 300 },
  );
}

describe("canonical strings - every field counts", () => {
  it("hello", () => injective(fc.tuple(id, id, pubkey, ts), canonicalHello));
  it("mesh-create", () => injective(fc.tuple(id, pubkey, ts), canonicalMeshCreate));
  it("join", () => injective(fc.tuple(id, id, pubkey, ts), canonicalJoin));
  it("enroll", () => injective(fc.tuple(id, pubkey, pubkey, name, ts), canonicalEnroll));
  it("status", () => injective(fc.tuple(id, pubkey, status, ts), canonicalStatus));
  it("revoke", () => injective(fc.tuple(id, pubkey, pubkey, ts), canonicalRevoke));
  it("invite", () =>
    injective(
      fc.tuple(id, id, role, fc.integer({ min: 1, max: 1000 }), ts, pubkey),
      (mesh_id, invite_id, r, max_uses, expires_at, inviter_pubkey) =>
        canonicalInvite({ mesh_id, invite_id, role: r, max_uses, expires_at, inviter_pubkey }),
    ));

  it("the unprefixed hello cannot impersonate a mesh-create payload, because HelloSchema refuses such a meshId", () => {
    // The collision is real at the string level (both have four '|'-separated fields)…
    expect(canonicalHello("claudemesh-mesh-create", "core", PK_A, TS)).toBe(
      canonicalMeshCreate("core", PK_A, TS),
    );
    // …so the schema must refuse every meshId that would start a domain prefix.
    const hello = {
      type: "hello",
      memberId: "core",
      pubkey: PK_A,
      sessionId: "",
      pid: 1,
      cwd: "",
      timestamp: TS,
      signature: "",
    };
    for (const meshId of ["claudemesh-mesh-create", "claudemesh-join", "claudemesh-x"])
      expect(HelloSchema.safeParse({ ...hello, meshId }).success, meshId).toBe(false);
    expect(HelloSchema.safeParse({ ...hello, meshId: "mesh_claudemesh-x" }).success).toBe(true);
  });

  it("no two purposes can produce the same string", () => {
    const all = [
      canonicalMeshCreate("x", PK_A, TS),
      canonicalJoin("x", "inv_12345678", PK_A, TS),
      canonicalEnroll("x", PK_A, PK_B, "n", TS),
      canonicalStatus("x", PK_A, "idle", TS),
      canonicalRevoke("x", PK_A, PK_B, TS),
      canonicalInvite({ ...INVITE, mesh_id: "x" }),
      canonicalHello("x", "y", PK_A, TS),
    ];
    expect(new Set(all.map((s) => s.split("|")[0])).size).toBe(all.length);
  });
});
