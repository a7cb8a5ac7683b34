// POST /meshes - signed mesh creation, slug conflicts, creation token, and every signed-request rejection (SPEC §2).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { postJson } from "../helpers/http.js";
import { createMesh, makeIdentity, meshCreateBody, uniqueSlug } from "../helpers/identity.js";
import { STORE_KINDS } from "../helpers/stores.js";

function errorCode(res: { json: unknown }): string | undefined {
  return (res.json as { error?: { code?: string } } | undefined)?.error?.code;
}

describe.each(STORE_KINDS)("POST /meshes (%s)", (kind) => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker({ kind });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it("creates a mesh whose owner is an admin member, and audits it", async () => {
    const owner = makeIdentity("alice");
    const mesh = await createMesh(broker.url, owner);
    const member = await broker.ctx.store.getMember(mesh.meshId, owner.pubkey);
    expect(member).toMatchObject({
      id: mesh.owner.memberId,
      role: "admin",
      parentMemberId: null,
      revokedAt: null,
    });
    const audit = await broker.ctx.store.listAudit(mesh.meshId, 10);
    expect(audit.map((a) => a.action)).toContain("mesh.create");
    expect(JSON.stringify(audit)).not.toMatch(/[0-9a-f]{128}/); // no signature stored
  });

  it("answers 409 slug_taken for a slug in use", async () => {
    const slug = uniqueSlug();
    await createMesh(broker.url, makeIdentity("a"), { slug });
    const res = await postJson(broker.url, "/meshes", meshCreateBody(makeIdentity("b"), slug));
    expect(res.status).toBe(409);
    expect(errorCode(res)).toBe("slug_taken");
  });

  it("rejects a signature that does not verify (401 bad_signature)", async () => {
    const body = meshCreateBody(makeIdentity("a"), uniqueSlug());
    const other = meshCreateBody(makeIdentity("b"), String(body.slug));
    const res = await postJson(broker.url, "/meshes", { ...body, signature: other.signature });
    expect(res.status).toBe(401);
    expect(errorCode(res)).toBe("bad_signature");
  });

  it("rejects a signature over a different slug (the slug is covered)", async () => {
    const body = meshCreateBody(makeIdentity("a"), uniqueSlug());
    const res = await postJson(broker.url, "/meshes", { ...body, slug: uniqueSlug(), name: "x" });
    expect(errorCode(res)).toBe("bad_signature");
  });

  it("rejects a timestamp outside ±helloSkew, in both directions (401 timestamp_skew)", async () => {
    for (const offset of [-61_000, 61_000]) {
      const res = await postJson(
        broker.url,
        "/meshes",
        meshCreateBody(makeIdentity("a"), uniqueSlug(), Date.now() + offset),
      );
      expect(res.status).toBe(401);
      expect(errorCode(res)).toBe("timestamp_skew");
    }
    // inside the window it is accepted
    const ok = await postJson(
      broker.url,
      "/meshes",
      meshCreateBody(makeIdentity("a"), uniqueSlug(), Date.now() - 50_000),
    );
    expect(ok.status).toBe(200);
  });

  it("rejects the same signed request twice (401 replay), not slug_taken", async () => {
    const body = meshCreateBody(makeIdentity("a"), uniqueSlug());
    expect((await postJson(broker.url, "/meshes", body)).status).toBe(200);
    const again = await postJson(broker.url, "/meshes", body);
    expect(again.status).toBe(401);
    expect(errorCode(again)).toBe("replay");
  });

  it.each([
    ["missing signature", (b: Record<string, unknown>) => ({ ...b, signature: undefined })],
    [
      "uppercase pubkey",
      (b: Record<string, unknown>) => ({ ...b, owner_pubkey: String(b.owner_pubkey).toUpperCase() }),
    ],
    ["string timestamp", (b: Record<string, unknown>) => ({ ...b, timestamp: String(b.timestamp) })],
    ["bad slug", (b: Record<string, unknown>) => ({ ...b, slug: "Not A Slug" })],
    ["name with colon", (b: Record<string, unknown>) => ({ ...b, owner_name: "a:b" })],
  ])("rejects a body with %s (400 malformed)", async (_label, mutate) => {
    const res = await postJson(
      broker.url,
      "/meshes",
      mutate(meshCreateBody(makeIdentity("a"), uniqueSlug())),
    );
    expect(res.status).toBe(400);
    expect(errorCode(res)).toBe("malformed");
    expect((res.json as { error: { message: string } }).error.message).toMatch(/invalid mesh-create body: /);
  });
});

describe("POST /meshes with a creation token", () => {
  const token = "team-token-0123456789";
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker({ creationToken: token });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it.each([
    ["no Authorization header", {}],
    ["a wrong token", { authorization: "Bearer wrong-token-000000" }],
    ["the token without Bearer", { authorization: token }],
    ["a token prefix", { authorization: `Bearer ${token.slice(0, -1)}` }],
  ])("refuses %s with 401 unauthorized and WWW-Authenticate", async (_label, headers) => {
    const res = await postJson(
      broker.url,
      "/meshes",
      meshCreateBody(makeIdentity("a"), uniqueSlug()),
      headers,
    );
    expect(res.status).toBe(401);
    expect(errorCode(res)).toBe("unauthorized");
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer/);
    expect(res.text).not.toContain(token);
  });

  it("creates the mesh with the right token", async () => {
    const mesh = await createMesh(broker.url, makeIdentity("a"), { token });
    expect(mesh.meshId).toBeTruthy();
  });
});
