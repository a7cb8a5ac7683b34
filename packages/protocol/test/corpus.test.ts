// Parses the whole fixture corpus: every valid frame/body is accepted unchanged, every invalid one is
// rejected with its annotated code and a message naming the offending field (SPEC §2, §3).
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import * as protocol from "@claudemesh/protocol";
import {
  ClientFrameSchema,
  InviteError,
  InvitePayloadSchema,
  JoinRequestSchema,
  ServerFrameSchema,
  decodeInviteLink,
  encodeInviteLink,
  parseClientFrame,
  parseInvitePayload,
  parseServerFrame,
  parseWith,
  type InvitePayload,
} from "@claudemesh/protocol";
import {
  ANY_TYPE_FILE,
  isRawCase,
  issuePath,
  loadFrameFixtures,
  loadHttpFixtures,
  type FrameFixtureFile,
} from "./corpus-loader.js";

const directions = {
  client: { files: loadFrameFixtures("client"), parse: parseClientFrame, schema: ClientFrameSchema },
  server: { files: loadFrameFixtures("server"), parse: parseServerFrame, schema: ServerFrameSchema },
} as const;
const httpFiles = loadHttpFixtures();
/** Frame types SPEC §3 uses in both directions, with a different shape each way. */
const BOTH_WAYS = ["receipt", "message_status"];

/** The `type` literal of every member of a discriminated frame union. */
function frameTypes(union: typeof ClientFrameSchema | typeof ServerFrameSchema): string[] {
  return union.options.map((option) => String(option.shape.type.value));
}

/** Members of the two frame unions: WebSocket frames, even when named like a request or reply. */
const frameSchemas = new Set<unknown>([...ClientFrameSchema.options, ...ServerFrameSchema.options]);

/** Every exported HTTP body schema (SPEC §2), found by name so a new one without fixtures fails the guard. */
const httpSchemaNames = Object.keys(protocol).filter(
  (name) =>
    /(Request|Response|Body|Payload)Schema$/.test(name) &&
    !frameSchemas.has((protocol as Record<string, unknown>)[name]),
);

function exportedSchema(name: string): z.ZodType {
  const value = (protocol as Record<string, unknown>)[name];
  if (typeof value !== "object" || value === null || !("safeParse" in value))
    throw new Error(`corpus names ${name}, which @claudemesh/protocol does not export as a schema`);
  return value as z.ZodType;
}

/** The request id parse.ts salvages into a malformed error: a string of 1–64 chars. */
function usableId(frame: unknown): string | undefined {
  if (typeof frame !== "object" || frame === null || Array.isArray(frame)) return undefined;
  const id = (frame as Record<string, unknown>).id;
  return typeof id === "string" && id.length > 0 && id.length <= 64 ? id : undefined;
}

for (const [direction, { files, parse, schema }] of Object.entries(directions)) {
  describe(`corpus - ${direction} frames`, () => {
    for (const fixture of files) {
      for (const example of fixture.valid) {
        it(`${fixture.file}: accepts ${example.name}`, () => {
          const result = parse(JSON.stringify(example.frame));
          if (!result.ok) expect.fail(result.message);
          // Valid fixtures carry only schema fields, so parsing must return them unchanged.
          expect(result.value).toEqual(example.frame);
          expect(result.value.type).toBe(fixture.type);
        });
      }
      for (const example of fixture.invalid) {
        it(`${fixture.file}: rejects ${example.why}`, () => {
          const raw = isRawCase(example) ? example.raw : JSON.stringify(example.frame);
          const result = parse(raw);
          if (result.ok) expect.fail(`accepted: ${raw.slice(0, 200)}`);
          expect(result.code).toBe(example.code);
          if (isRawCase(example)) {
            expect(result.message).toContain(example.mentions);
            expect(result.id).toBeUndefined();
            return;
          }
          expect(result.message).toContain(`${example.field}:`);
          expect(result.id).toBe(usableId(example.frame));
          // Each fixture is wrong in exactly one place, so it tests one check and not several.
          expect(issuePaths(schema, example.frame)).toEqual([example.field]);
        });
      }
    }
  });
}

describe("corpus - http bodies", () => {
  for (const fixture of httpFiles) {
    const schema = exportedSchema(fixture.schema);
    for (const example of fixture.valid) {
      it(`${fixture.file}: accepts ${example.name}`, () => {
        const result = parseWith(schema, example.body, fixture.schema);
        if (!result.ok) expect.fail(result.message);
        expect(result.value).toEqual(example.body);
      });
    }
    for (const example of fixture.invalid) {
      it(`${fixture.file}: rejects ${example.why}`, () => {
        const result = parseWith(schema, example.body, "body");
        if (result.ok) expect.fail("accepted");
        // An invite payload arrives inside a link, where parseInvitePayload reports its own code.
        const code = fixture.schema === "InvitePayloadSchema" ? inviteCode(example.body) : result.code;
        expect(code).toBe(example.code);
        expect(result.message).toContain(`${example.field}:`);
        expect(issuePaths(schema, example.body)).toEqual([example.field]);
      });
    }
  }
});

describe("corpus - invite payloads", () => {
  const fixture = httpFiles.find((f) => f.schema === "InvitePayloadSchema");
  if (!fixture) throw new Error("corpus has no InvitePayloadSchema file");
  const farFuture = { now: 0 };

  for (const example of fixture.valid) {
    it(`survives a link round trip: ${example.name}`, () => {
      const link = encodeInviteLink(example.body as InvitePayload);
      expect(decodeInviteLink(link, farFuture)).toEqual(example.body);
    });
  }
  for (const example of fixture.invalid) {
    it(`a link carrying it is rejected as bad_shape naming the field: ${example.why}`, () => {
      expect(() => parseInvitePayload(example.body)).toThrow(InviteError);
      const link = `ic://join/${Buffer.from(JSON.stringify(example.body)).toString("base64url")}`;
      const error = catchInviteError(() => decodeInviteLink(link, farFuture));
      expect(error.reason).toBe("bad_shape");
      expect(error.code).toBe(example.code);
      expect(error.message).toContain(`${example.field}:`);
      // Embedded in a join request the same payload is just a malformed `invite` field.
      const join = parseWith(JoinRequestSchema, { ...joinBase(), invite: example.body }, "join request");
      expect(join.ok ? "accepted" : join.message).toMatch(/: invite[.:]/);
    });
  }

  it("join-request fixtures that carry a link decode to a valid invite payload", () => {
    const join = httpFiles.find((f) => f.schema === "JoinRequestSchema");
    const links = (join?.valid ?? []).map((v) => (v.body as { invite: unknown }).invite).filter(isString);
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) {
      const payload = decodeInviteLink(link, farFuture);
      expect(InvitePayloadSchema.safeParse(payload).success).toBe(true);
      expect(fixture.valid.map((v) => v.body)).toContainEqual(payload);
    }
  });
});

describe("corpus - coverage guard", () => {
  it("client and server frame types are disjoint except the two SPEC §3 names used both ways", () => {
    const server = new Set(frameTypes(ServerFrameSchema));
    expect(frameTypes(ClientFrameSchema).filter((t) => server.has(t))).toEqual(BOTH_WAYS);
  });

  // `receipt` and `message_status` share a type across directions (SPEC §3); their shapes must not,
  // so a frame sent the wrong way is refused rather than misread.
  for (const type of BOTH_WAYS) {
    it(`${type}: no valid frame of one direction parses as the other`, () => {
      for (const [direction, other] of [
        ["client", "server"],
        ["server", "client"],
      ] as const) {
        const fixture = directions[direction].files.find((f) => f.type === type);
        expect(fixture?.valid.length).toBeGreaterThan(0);
        for (const example of fixture?.valid ?? [])
          expect(directions[other].parse(JSON.stringify(example.frame)).ok, example.name).toBe(false);
      }
    });
  }

  for (const [direction, { files, schema }] of Object.entries(directions)) {
    const types = frameTypes(schema);

    it(`every ${direction} frame type has valid and invalid fixtures of its own type`, () => {
      for (const type of types) {
        const fixture = files.find((f) => f.type === type);
        expect(fixture, `missing corpus/${direction}/${type}.json`).toBeDefined();
        expectOwnTypeCases(fixture as FrameFixtureFile);
      }
    });

    it(`every ${direction} corpus file is named after a frame type (or is ${ANY_TYPE_FILE})`, () => {
      expect(files.map((f) => f.type).filter((t) => t !== ANY_TYPE_FILE && !types.includes(t))).toEqual([]);
      const any = files.find((f) => f.type === ANY_TYPE_FILE);
      expect(any?.valid).toEqual([]);
      expect(any?.invalid.some(isRawCase), "needs a non-JSON example").toBe(true);
      expect(
        any?.invalid.some((c) => !isRawCase(c) && c.field === "type"),
        "needs an unknown type",
      ).toBe(true);
    });
  }

  it("send fixtures cover direct, broadcast * and channel #name sends", () => {
    const send = directions.client.files.find((f) => f.type === "send");
    const targets = (send?.valid ?? []).map((v) => String(v.frame.targetSpec));
    expect(targets.some((t) => /^[0-9a-f]{64}$/.test(t))).toBe(true);
    expect(targets).toContain("*");
    expect(targets.some((t) => t.startsWith("#"))).toBe(true);
  });

  it("every HTTP body schema has a corpus file with valid and invalid examples", () => {
    expect(httpSchemaNames.length).toBeGreaterThanOrEqual(11);
    for (const name of httpSchemaNames) {
      const fixture = httpFiles.find((f) => f.schema === name);
      expect(fixture, `no corpus/http file for ${name}`).toBeDefined();
      expect(fixture?.valid.length, `${name} valid`).toBeGreaterThan(0);
      expect(fixture?.invalid.length, `${name} invalid`).toBeGreaterThan(0);
    }
    expect(httpFiles.map((f) => f.schema).filter((s) => !httpSchemaNames.includes(s))).toEqual([]);
  });
});

/**
 * Text a client sends is refused when it holds NUL, on every store alike (PostgreSQL text cannot
 * hold it). Hello pubkey and signature are plain strings in the schema on purpose: the handshake
 * judges their shape after the timestamp (seed order) and refuses anything but hex as malformed.
 */
const NUL_JUDGED_BY_HANDSHAKE = new Set(["hello:pubkey", "hello:signature"]);

/** The path of every string inside a JSON value. */
function stringPaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value === "string") return [path];
  if (Array.isArray(value)) return value.flatMap((item, i) => stringPaths(item, [...path, i]));
  if (typeof value === "object" && value !== null)
    return Object.entries(value).flatMap(([key, item]) => stringPaths(item, [...path, key]));
  return [];
}

/** A copy of `value` with a NUL inserted into the string at `path`. */
function withNul(value: unknown, path: (string | number)[]): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  const text = at[last] as string;
  at[last] = `${text.slice(0, 1)}\u0000${text.slice(1)}`;
  return copy;
}

describe("corpus - NUL in client text", () => {
  for (const fixture of directions.client.files) {
    for (const example of fixture.valid) {
      it(`${fixture.file}: every text field of ${example.name} refuses NUL`, () => {
        for (const path of stringPaths(example.frame)) {
          if (NUL_JUDGED_BY_HANDSHAKE.has(`${fixture.type}:${path.join(".")}`)) continue;
          const result = parseClientFrame(JSON.stringify(withNul(example.frame, path)));
          expect(result.ok ? "accepted" : result.code, path.join(".")).toBe("malformed");
        }
      });
    }
  }
  for (const fixture of httpFiles.filter((f) => /(Request|Payload)Schema$/.test(f.schema))) {
    const schema = exportedSchema(fixture.schema);
    for (const example of fixture.valid) {
      it(`${fixture.file}: every text field of ${example.name} refuses NUL`, () => {
        for (const path of stringPaths(example.body)) {
          const result = parseWith(schema, withNul(example.body, path), "body");
          expect(result.ok ? "accepted" : result.code, path.join(".")).toBe("malformed");
        }
      });
    }
  }
});

/** The distinct paths of the issues a schema reports for a value (empty when it parses). */
function issuePaths(schema: z.ZodType, value: unknown): string[] {
  const result = schema.safeParse(value);
  return result.success ? [] : [...new Set(result.error.issues.map((issue) => issuePath(issue.path)))];
}

function expectOwnTypeCases(fixture: FrameFixtureFile): void {
  expect(fixture.valid.length, `${fixture.file} valid`).toBeGreaterThan(0);
  const own = fixture.invalid.filter(
    (c) => !isRawCase(c) && (c.frame as { type?: unknown }).type === fixture.type,
  );
  expect(own.length, `${fixture.file} invalid of type ${fixture.type}`).toBeGreaterThan(0);
  expect(own.length, `${fixture.file}: every invalid example has its file's type`).toBe(
    fixture.invalid.length,
  );
}

function catchInviteError(fn: () => unknown): InviteError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InviteError) return error;
    throw error;
  }
  throw new Error("expected an InviteError, nothing was thrown");
}

function inviteCode(body: unknown): string {
  return catchInviteError(() => parseInvitePayload(body)).code;
}

function joinBase(): Record<string, unknown> {
  const join = httpFiles.find((f) => f.schema === "JoinRequestSchema");
  return { ...(join?.valid[0]?.body as Record<string, unknown>) };
}

function isString(value: unknown): value is string {
  return typeof value === "string";
}
