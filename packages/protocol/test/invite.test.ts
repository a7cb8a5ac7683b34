// Invite links (SPEC §2 Invites): round trip, one distinct InviteError reason per failure, expiry with an injected clock.
import { afterEach, describe, expect, it, vi } from "vitest";
import fc from "fast-check";
import {
  INVITE_PREFIX,
  InviteError,
  assertInviteNotExpired,
  decodeInviteLink,
  encodeInviteLink,
  parseInvitePayload,
  type InviteErrorReason,
  type InvitePayload,
} from "@claudemesh/protocol";

const PAYLOAD: InvitePayload = {
  v: 1,
  mesh_id: "mesh_7Hq2kV9xLp",
  mesh_slug: "claudemesh-core",
  broker_url: "ws://127.0.0.1:7900",
  invite_id: "inv_Zk3pQ9rT2mXw",
  role: "member",
  max_uses: 1,
  expires_at: 1_764_194_400,
  inviter_pubkey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
  signature: "ab".repeat(64),
};
const EXPIRES_MS = PAYLOAD.expires_at * 1000;
const BEFORE = { now: EXPIRES_MS - 60_000 };

/** A link around arbitrary text, encoded by Node (independently of the code under test). */
const linkOf = (text: string): string => INVITE_PREFIX + Buffer.from(text, "utf8").toString("base64url");
const linkOfBytes = (bytes: number[]): string => INVITE_PREFIX + Buffer.from(bytes).toString("base64url");

function inviteError(fn: () => unknown): InviteError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InviteError) return error;
    throw new Error(`expected an InviteError, got ${String(error)}`);
  }
  throw new Error("expected an InviteError, nothing was thrown");
}

/** Schema-valid invite payloads, drawn from the field rules of SPEC §2. */
const payloadArb: fc.Arbitrary<InvitePayload> = fc.record({
  v: fc.constant(1 as const),
  mesh_id: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
  mesh_slug: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$/),
  broker_url: fc.webUrl({ validSchemes: ["http", "https"] }).filter((u) => !/\s/.test(u)),
  invite_id: fc.stringMatching(/^[A-Za-z0-9_-]{8,64}$/),
  role: fc.constantFrom("admin" as const, "member" as const),
  max_uses: fc.integer({ min: 1, max: 1_000_000 }),
  expires_at: fc.integer({ min: 1, max: 2 ** 40 }),
  inviter_pubkey: fc.stringMatching(/^[0-9a-f]{64}$/),
  signature: fc.stringMatching(/^[0-9a-f]{128}$/),
});

afterEach(() => {
  vi.useRealTimers();
});

describe("invite - encode and decode", () => {
  it("decodes what it encoded", () => {
    const link = encodeInviteLink(PAYLOAD);
    expect(link.startsWith("ic://join/")).toBe(true);
    expect(decodeInviteLink(link, BEFORE)).toEqual(PAYLOAD);
  });

  it("round-trips every schema-valid payload through a link of only base64url characters", () => {
    fc.assert(
      fc.property(payloadArb, (payload) => {
        const link = encodeInviteLink(payload);
        expect(link.slice(INVITE_PREFIX.length)).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(decodeInviteLink(link, { now: 0 })).toEqual(payload);
      }),
    );
  });

  it("encodes exactly what Node's base64url of the JSON would be", () => {
    expect(encodeInviteLink(PAYLOAD)).toBe(linkOf(JSON.stringify(PAYLOAD)));
  });

  it("drops properties that are not part of the payload, so nothing else travels in a link", () => {
    const leaky = { ...PAYLOAD, secretKey: "cd".repeat(64) } as InvitePayload;
    const link = encodeInviteLink(leaky);
    expect(Buffer.from(link.slice(INVITE_PREFIX.length), "base64url").toString()).not.toContain("secretKey");
    expect(decodeInviteLink(link, BEFORE)).toEqual(PAYLOAD);
  });

  it("refuses to encode a payload of the wrong shape", () => {
    const error = inviteError(() => encodeInviteLink({ ...PAYLOAD, max_uses: 0 }));
    expect(error.reason).toBe("bad_shape");
    expect(error.message).toContain("max_uses");
  });

  it("accepts a link pasted with surrounding whitespace", () => {
    expect(decodeInviteLink(`  ${encodeInviteLink(PAYLOAD)}\n`, BEFORE)).toEqual(PAYLOAD);
  });

  it("accepts a payload written with '=' padding", () => {
    // Pick an invite_id length whose JSON does not fill whole 3-byte groups, so padding is needed.
    const payload = [8, 9, 10]
      .map((n) => ({ ...PAYLOAD, invite_id: "x".repeat(n) }))
      .find((p) => JSON.stringify(p).length % 3 !== 0) as InvitePayload;
    const unpadded = linkOf(JSON.stringify(payload));
    const padded = unpadded + "=".repeat((4 - ((unpadded.length - INVITE_PREFIX.length) % 4)) % 4);
    expect(padded).toMatch(/=$/);
    expect(decodeInviteLink(padded, BEFORE)).toEqual(payload);
  });
});

describe("invite - rejections", () => {
  const cases: { reason: InviteErrorReason; link: string; mentions: RegExp; label: string }[] = [
    { reason: "bad_prefix", label: "an https link", link: "https://join/abc", mentions: /ic:\/\/join\// },
    { reason: "bad_prefix", label: "another ic:// path", link: "ic://invite/abc", mentions: /ic:\/\/join\// },
    { reason: "bad_prefix", label: "an upper-case scheme", link: "IC://JOIN/abc", mentions: /ic:\/\/join\// },
    {
      reason: "bad_prefix",
      label: "the bare payload",
      link: encodeInviteLink(PAYLOAD).slice(10),
      mentions: /start/,
    },
    { reason: "bad_prefix", label: "an empty string", link: "", mentions: /start/ },
    { reason: "bad_base64", label: "no payload", link: "ic://join/", mentions: /no payload/ },
    {
      reason: "bad_base64",
      label: "a payload over 8192 chars",
      link: INVITE_PREFIX + "A".repeat(8193),
      mentions: /too long/,
    },
    {
      reason: "bad_base64",
      label: "a '$' in the payload",
      link: "ic://join/eyJ2Ijox$fQ",
      mentions: /base64url/,
    },
    {
      reason: "bad_base64",
      label: "standard-base64 '+'",
      link: "ic://join/eyJ2+joxfQ",
      mentions: /base64url/,
    },
    {
      reason: "bad_base64",
      label: "an impossible length (4n+1)",
      link: "ic://join/eyJ2Ijox1",
      mentions: /base64url/,
    },
    { reason: "bad_base64", label: "an inner '='", link: "ic://join/eyJ2=joxfQ", mentions: /base64url/ },
    {
      reason: "bad_base64",
      label: "bytes that are not UTF-8",
      link: linkOfBytes([0x7b, 0xff, 0x7d]),
      mentions: /base64url/,
    },
    { reason: "bad_json", label: "text that is not JSON", link: linkOf("hello mesh"), mentions: /JSON/ },
    { reason: "bad_json", label: "truncated JSON", link: linkOf('{"v":1,"mesh_id":'), mentions: /JSON/ },
    { reason: "bad_shape", label: "a JSON array", link: linkOf("[]"), mentions: /shape/ },
    { reason: "bad_shape", label: "JSON null", link: linkOf("null"), mentions: /shape/ },
    {
      reason: "bad_shape",
      label: "a missing signature",
      link: linkOf(JSON.stringify({ ...PAYLOAD, signature: undefined })),
      mentions: /signature/,
    },
    {
      reason: "bad_shape",
      label: "version 2",
      link: linkOf(JSON.stringify({ ...PAYLOAD, v: 2 })),
      mentions: /\bv:/,
    },
    { reason: "expired", label: "an expired invite", link: encodeInviteLink(PAYLOAD), mentions: /expired/ },
  ];

  for (const { reason, label, link, mentions } of cases) {
    it(`rejects ${label} as ${reason}`, () => {
      const error = inviteError(() => decodeInviteLink(link, { now: EXPIRES_MS + 1 }));
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe("InviteError");
      expect(error.reason).toBe(reason);
      expect(error.code).toBe(reason === "expired" ? "invite_expired" : "invite_invalid");
      expect(error.message).toMatch(mentions);
    });
  }

  it("gives each failure its own reason and its own message", () => {
    const firstOfEach = new Map<InviteErrorReason, string>();
    for (const c of cases) {
      if (!firstOfEach.has(c.reason))
        firstOfEach.set(c.reason, inviteError(() => decodeInviteLink(c.link, { now: EXPIRES_MS })).message);
    }
    expect([...firstOfEach.keys()].sort()).toEqual([
      "bad_base64",
      "bad_json",
      "bad_prefix",
      "bad_shape",
      "expired",
    ]);
    expect(new Set(firstOfEach.values()).size).toBe(5);
  });

  it("checks shape before expiry, so a broken expired invite is reported as broken", () => {
    const link = linkOf(JSON.stringify({ ...PAYLOAD, expires_at: 1, role: "owner" }));
    expect(inviteError(() => decodeInviteLink(link, { now: EXPIRES_MS })).reason).toBe("bad_shape");
  });

  it("checks the prefix before the payload", () => {
    expect(inviteError(() => decodeInviteLink("ic:/join/$$$")).reason).toBe("bad_prefix");
  });

  it("parseInvitePayload rejects a non-object with bad_shape", () => {
    for (const value of [null, "ic://join/x", 7, []])
      expect(inviteError(() => parseInvitePayload(value)).reason).toBe("bad_shape");
  });
});

describe("invite - expiry", () => {
  const link = encodeInviteLink(PAYLOAD);

  it("accepts an invite one millisecond before expires_at", () => {
    expect(decodeInviteLink(link, { now: EXPIRES_MS - 1 })).toEqual(PAYLOAD);
  });

  it("treats expires_at*1000 == now as expired", () => {
    const error = inviteError(() => decodeInviteLink(link, { now: EXPIRES_MS }));
    expect(error.reason).toBe("expired");
    expect(error.code).toBe("invite_expired");
  });

  it("names the expiry time and the mesh in the message so the user knows whom to ask", () => {
    const error = inviteError(() => decodeInviteLink(link, { now: EXPIRES_MS + 86_400_000 }));
    expect(error.message).toContain(new Date(EXPIRES_MS).toISOString());
    expect(error.message).toContain(PAYLOAD.mesh_slug);
  });

  it("allowExpired decodes an expired invite but still checks everything else", () => {
    expect(decodeInviteLink(link, { now: EXPIRES_MS + 1, allowExpired: true })).toEqual(PAYLOAD);
    const broken = linkOf(JSON.stringify({ ...PAYLOAD, max_uses: 0 }));
    expect(inviteError(() => decodeInviteLink(broken, { allowExpired: true })).reason).toBe("bad_shape");
  });

  it("uses the real clock when no now is given", () => {
    vi.useFakeTimers();
    vi.setSystemTime(EXPIRES_MS - 1);
    expect(decodeInviteLink(link)).toEqual(PAYLOAD);
    expect(() => assertInviteNotExpired(PAYLOAD)).not.toThrow();
    vi.setSystemTime(EXPIRES_MS);
    expect(inviteError(() => decodeInviteLink(link)).reason).toBe("expired");
    expect(inviteError(() => assertInviteNotExpired(PAYLOAD)).reason).toBe("expired");
  });

  it("assertInviteNotExpired follows the same boundary for any expiry", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.integer({ min: -5_000, max: 5_000 }),
        (expiresAt, delta) => {
          const payload = { ...PAYLOAD, expires_at: expiresAt };
          const now = expiresAt * 1000 + delta;
          if (delta < 0) assertInviteNotExpired(payload, now);
          else expect(inviteError(() => assertInviteNotExpired(payload, now)).reason).toBe("expired");
        },
      ),
    );
  });
});
