// Signed HTTP requests (SPEC §2): mesh-create, join, enroll, status and revoke share the hello's window, order and tamper rules.
import fc from "fast-check";
import {
  HELLO_SKEW_MS,
  canonicalEnroll,
  canonicalJoin,
  canonicalMeshCreate,
  canonicalRevoke,
  canonicalStatus,
} from "@claudemesh/protocol";
import { describe, expect, it } from "vitest";
import {
  signEnrollRequest,
  signHello,
  signJoin,
  signMeshCreate,
  signRevoke,
  signStatus,
  verifyDetached,
  verifyEnrollRequest,
  verifyHelloSignature,
  verifyJoin,
  verifyMeshCreate,
  verifyRevoke,
  verifyStatus,
  type VerifyResult,
} from "../src/index.js";
import { ALICE, BOB, CAROL, FC, NOW, expectArgumentError } from "./helpers.js";

type Payload = Record<string, unknown>;

/** One signed payload kind, driven through the same tests. ALICE signs (and BOB is the enrolled agent). */
interface Kind {
  name: string;
  /** Canonical text fields and pubkey fields of the wire payload. */
  textFields: string[];
  pubkeyFields: string[];
  /** Signature fields of the wire payload. */
  signatureFields: string[];
  sign(at: number): Payload;
  verify(payload: Payload, now: number): VerifyResult;
}

const ENROLL = {
  meshId: "mesh_1",
  parentPubkey: ALICE.publicKey,
  agentPubkey: BOB.publicKey,
  agentName: "backend",
};

const KINDS: Kind[] = [
  {
    name: "mesh-create",
    textFields: ["slug"],
    pubkeyFields: ["owner_pubkey"],
    signatureFields: ["signature"],
    sign: (at) => ({
      slug: "team-a",
      owner_pubkey: ALICE.publicKey,
      ...signMeshCreate("team-a", ALICE.publicKey, ALICE.secretKey, at),
    }),
    verify: (p, now) => verifyMeshCreate(p as never, now),
  },
  {
    name: "join",
    textFields: ["mesh_id", "invite_id"],
    pubkeyFields: ["pubkey"],
    signatureFields: ["signature"],
    sign: (at) => ({
      mesh_id: "mesh_1",
      invite_id: "inv_12345678",
      pubkey: ALICE.publicKey,
      ...signJoin("mesh_1", "inv_12345678", ALICE.publicKey, ALICE.secretKey, at),
    }),
    verify: (p, now) => verifyJoin(p as never, now),
  },
  {
    name: "status",
    textFields: ["mesh_id", "status"],
    pubkeyFields: ["pubkey"],
    signatureFields: ["signature"],
    sign: (at) => ({
      mesh_id: "mesh_1",
      pubkey: ALICE.publicKey,
      status: "working",
      ...signStatus("mesh_1", ALICE.publicKey, "working", ALICE.secretKey, at),
    }),
    verify: (p, now) => verifyStatus(p as never, now),
  },
  {
    name: "enroll request (both signatures)",
    textFields: ["mesh_id", "agent_name"],
    pubkeyFields: ["parent_pubkey", "agent_pubkey"],
    signatureFields: ["parent_signature", "agent_signature"],
    sign: (at) => ({ ...signEnrollRequest(ENROLL, ALICE.secretKey, BOB.secretKey, at) }),
    verify: (p, now) => verifyEnrollRequest(p as never, now),
  },
  {
    name: "revoke",
    textFields: ["mesh_id"],
    pubkeyFields: ["target_pubkey", "by_pubkey"],
    signatureFields: ["signature"],
    sign: (at) => ({ ...signRevoke("mesh_1", BOB.publicKey, ALICE.publicKey, ALICE.secretKey, at) }),
    verify: (p, now) => verifyRevoke(p as never, now),
  },
];

const OK = { ok: true };
const SKEW = { ok: false, reason: "timestamp_skew" };
const MALFORMED = { ok: false, reason: "malformed" };
const BAD = { ok: false, reason: "bad_signature" };

describe.each(KINDS)("$name signature", (kind) => {
  it("accepts an honest payload, including exactly ±60 s from now", () => {
    expect(kind.verify(kind.sign(NOW), NOW)).toEqual(OK);
    expect(kind.verify(kind.sign(NOW - HELLO_SKEW_MS), NOW)).toEqual(OK);
    expect(kind.verify(kind.sign(NOW + HELLO_SKEW_MS), NOW)).toEqual(OK);
  });

  it("rejects a timestamp 60 001 ms old or ahead as timestamp_skew", () => {
    expect(kind.verify(kind.sign(NOW - HELLO_SKEW_MS - 1), NOW)).toEqual(SKEW);
    expect(kind.verify(kind.sign(NOW + HELLO_SKEW_MS + 1), NOW)).toEqual(SKEW);
  });

  it("reports timestamp_skew before malformed", () => {
    const payload = { ...kind.sign(NOW - 2 * HELLO_SKEW_MS), [kind.pubkeyFields[0]!]: "nope" };
    expect(kind.verify(payload, NOW)).toEqual(SKEW);
  });

  it("rejects malformed pubkeys, signatures, fields with | and fractional timestamps as malformed", () => {
    const honest = kind.sign(NOW);
    const changes: Payload[] = [
      ...kind.pubkeyFields.map((f) => ({ [f]: (honest[f] as string).slice(1) })),
      ...kind.signatureFields.map((f) => ({ [f]: (honest[f] as string).slice(2) })),
      ...kind.signatureFields.map((f) => ({ [f]: (honest[f] as string).toUpperCase() })),
      ...kind.textFields.map((f) => ({ [f]: `${honest[f] as string}|x` })),
      ...kind.textFields.map((f) => ({ [f]: "" })),
      { timestamp: NOW + 0.25 },
    ];
    for (const change of changes)
      expect(kind.verify({ ...honest, ...change }, NOW), JSON.stringify(change)).toEqual(MALFORMED);
  });

  it("rejects a payload signed by another key as bad_signature", () => {
    const honest = kind.sign(NOW);
    const byCarol = { ...honest };
    for (const f of kind.signatureFields) {
      byCarol[f] = signHello("x", "y", CAROL.publicKey, CAROL.secretKey, NOW).signature;
    }
    expect(kind.verify(byCarol, NOW)).toEqual(BAD);
  });

  it("rejects the payload when any canonical field is changed (property)", () => {
    const honest = kind.sign(NOW);
    const field = fc.constantFrom(...kind.textFields, ...kind.pubkeyFields, "timestamp");
    const suffix = fc.stringMatching(/^[a-z0-9_-]{1,8}$/);
    fc.assert(
      fc.property(field, suffix, fc.integer({ min: 1, max: HELLO_SKEW_MS }), (f, extra, delta) => {
        const changed = { ...honest };
        if (f === "timestamp") changed.timestamp = NOW - delta;
        else if (kind.pubkeyFields.includes(f))
          changed[f] = honest[f] === CAROL.publicKey ? ALICE.publicKey : CAROL.publicKey;
        else changed[f] = `${honest[f] as string}${extra}`;
        const result = kind.verify(changed, NOW);
        expect(result).toEqual(BAD);
      }),
      FC,
    );
  });

  it("calls a non-object payload malformed instead of throwing", () => {
    expect(kind.verify(null as never, NOW)).toEqual(MALFORMED);
  });
});

describe("signed strings are the protocol's canonical strings", () => {
  it("signs exactly canonicalMeshCreate, canonicalJoin, canonicalStatus and canonicalEnroll", () => {
    const m = signMeshCreate("team-a", ALICE.publicKey, ALICE.secretKey, NOW);
    expect(
      verifyDetached(canonicalMeshCreate("team-a", ALICE.publicKey, NOW), m.signature, ALICE.publicKey),
    ).toBe(true);
    const j = signJoin("mesh_1", "inv_1", ALICE.publicKey, ALICE.secretKey, NOW);
    expect(
      verifyDetached(canonicalJoin("mesh_1", "inv_1", ALICE.publicKey, NOW), j.signature, ALICE.publicKey),
    ).toBe(true);
    const s = signStatus("mesh_1", ALICE.publicKey, "idle", ALICE.secretKey, NOW);
    expect(
      verifyDetached(canonicalStatus("mesh_1", ALICE.publicKey, "idle", NOW), s.signature, ALICE.publicKey),
    ).toBe(true);
    const e = signEnrollRequest(ENROLL, ALICE.secretKey, BOB.secretKey, NOW);
    const enrollString = canonicalEnroll("mesh_1", ALICE.publicKey, BOB.publicKey, "backend", NOW);
    expect(verifyDetached(enrollString, e.parent_signature, ALICE.publicKey)).toBe(true);
    expect(verifyDetached(enrollString, e.agent_signature, BOB.publicKey)).toBe(true);
    const r = signRevoke("mesh_1", BOB.publicKey, ALICE.publicKey, ALICE.secretKey, NOW);
    expect(r).toMatchObject({ mesh_id: "mesh_1", target_pubkey: BOB.publicKey, by_pubkey: ALICE.publicKey });
    expect(
      verifyDetached(
        canonicalRevoke("mesh_1", BOB.publicKey, ALICE.publicKey, NOW),
        r.signature,
        ALICE.publicKey,
      ),
    ).toBe(true);
  });

  it("keeps purposes apart: a join signature is no hello and a hello signature is no join", () => {
    const join = signJoin("mesh_1", "member_1", ALICE.publicKey, ALICE.secretKey, NOW);
    const asHello = { meshId: "mesh_1", memberId: "member_1", pubkey: ALICE.publicKey, ...join };
    expect(verifyHelloSignature(asHello, NOW)).toEqual(BAD);
    const hello = signHello("mesh_1", "member_1", ALICE.publicKey, ALICE.secretKey, NOW);
    const asJoin = { mesh_id: "mesh_1", invite_id: "member_1", pubkey: ALICE.publicKey, ...hello };
    expect(verifyJoin(asJoin, NOW)).toEqual(BAD);
  });
});

describe("enroll specifics", () => {
  it("signs one request with both keys at one timestamp", () => {
    const body = signEnrollRequest(ENROLL, ALICE.secretKey, BOB.secretKey, NOW);
    expect(body).toMatchObject({
      mesh_id: "mesh_1",
      parent_pubkey: ALICE.publicKey,
      agent_pubkey: BOB.publicKey,
      agent_name: "backend",
      timestamp: NOW,
    });
    expect(body.parent_signature).not.toBe(body.agent_signature);
    expect(verifyEnrollRequest(body, NOW)).toEqual(OK);
  });

  it("rejects swapped parent and agent signatures as bad_signature", () => {
    const body = signEnrollRequest(ENROLL, ALICE.secretKey, BOB.secretKey, NOW);
    const swapped = {
      ...body,
      parent_signature: body.agent_signature,
      agent_signature: body.parent_signature,
    };
    expect(verifyEnrollRequest(swapped, NOW)).toEqual(BAD);
  });

  it("rejects an agent signature made by a third key as bad_signature", () => {
    const body = signEnrollRequest(ENROLL, ALICE.secretKey, BOB.secretKey, NOW);
    const carol = signHello("x", "y", CAROL.publicKey, CAROL.secretKey, NOW).signature;
    expect(verifyEnrollRequest({ ...body, agent_signature: carol }, NOW)).toEqual(BAD);
  });

  it("names the secret key at fault in signEnrollRequest", () => {
    expectArgumentError(
      () => signEnrollRequest(ENROLL, BOB.secretKey, BOB.secretKey, NOW),
      "parentSecretKey",
    );
    expectArgumentError(
      () => signEnrollRequest(ENROLL, ALICE.secretKey, ALICE.secretKey, NOW),
      "agentSecretKey",
    );
    expectArgumentError(() => signEnrollRequest(ENROLL, ALICE.secretKey, "ab", NOW), "agentSecretKey");
  });
});

describe("argument checks of the request signers", () => {
  it("throws a CryptoArgumentError naming each bad argument", () => {
    const cases: Array<[string, () => unknown]> = [
      ["slug", () => signMeshCreate("a|b", ALICE.publicKey, ALICE.secretKey, NOW)],
      ["ownerPubkey", () => signMeshCreate("team", "xyz", ALICE.secretKey, NOW)],
      ["secretKey", () => signMeshCreate("team", ALICE.publicKey, BOB.secretKey, NOW)],
      ["now", () => signMeshCreate("team", ALICE.publicKey, ALICE.secretKey, Number.NaN)],
      ["meshId", () => signJoin("", "inv_1", ALICE.publicKey, ALICE.secretKey, NOW)],
      ["inviteId", () => signJoin("mesh_1", "a|b", ALICE.publicKey, ALICE.secretKey, NOW)],
      ["pubkey", () => signJoin("mesh_1", "inv_1", ALICE.publicKey.toUpperCase(), ALICE.secretKey, NOW)],
      ["secretKey", () => signJoin("mesh_1", "inv_1", ALICE.publicKey, 42 as never, NOW)],
      ["meshId", () => signStatus(null as never, ALICE.publicKey, "idle", ALICE.secretKey, NOW)],
      ["pubkey", () => signStatus("mesh_1", "", "idle", ALICE.secretKey, NOW)],
      ["status", () => signStatus("mesh_1", ALICE.publicKey, "", ALICE.secretKey, NOW)],
      ["now", () => signStatus("mesh_1", ALICE.publicKey, "idle", ALICE.secretKey, -5)],
      ["meshId", () => signRevoke("a|b", BOB.publicKey, ALICE.publicKey, ALICE.secretKey, NOW)],
      ["targetPubkey", () => signRevoke("mesh_1", "00", ALICE.publicKey, ALICE.secretKey, NOW)],
      ["byPubkey", () => signRevoke("mesh_1", BOB.publicKey, "", ALICE.secretKey, NOW)],
      ["secretKey", () => signRevoke("mesh_1", BOB.publicKey, ALICE.publicKey, BOB.secretKey, NOW)],
      ["fields", () => signEnrollRequest(null as never, ALICE.secretKey, BOB.secretKey, NOW)],
      [
        "fields.meshId",
        () => signEnrollRequest({ ...ENROLL, meshId: "" }, ALICE.secretKey, BOB.secretKey, NOW),
      ],
      [
        "fields.parentPubkey",
        () => signEnrollRequest({ ...ENROLL, parentPubkey: "00" }, ALICE.secretKey, BOB.secretKey, NOW),
      ],
      [
        "fields.agentPubkey",
        () =>
          signEnrollRequest(
            { ...ENROLL, agentPubkey: undefined as never },
            ALICE.secretKey,
            BOB.secretKey,
            NOW,
          ),
      ],
      [
        "fields.agentName",
        () => signEnrollRequest({ ...ENROLL, agentName: "a|b" }, ALICE.secretKey, BOB.secretKey, NOW),
      ],
      ["now", () => signEnrollRequest(ENROLL, ALICE.secretKey, BOB.secretKey, 2 ** 60)],
    ];
    for (const [argument, call] of cases) expectArgumentError(call, argument);
  });
});
