// Signed HTTP calls against a real broker (SQLite store) and against misbehaving local servers.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { encodeInviteLink } from "@claudemesh/protocol";
import { generateKeypair } from "@claudemesh/crypto";
import { ClientError } from "../../src/errors.js";
import { createMesh, enrollAgent, getHealth, joinMesh, postHookStatus } from "../../src/http.js";
import {
  addMember,
  clientFor,
  inviteLink,
  meshWith,
  startTestBroker,
  uniqueSlug,
  type TestBroker,
} from "../helpers/live.js";

async function rejection(promise: Promise<unknown>): Promise<ClientError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ClientError);
    return err as ClientError;
  }
  throw new Error("expected a rejection");
}

describe("http against a real broker", () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker({ creationToken: "s3cret-token" });
  });
  afterAll(async () => {
    await broker.stop();
  });

  it("getHealth reports ok", async () => {
    await expect(getHealth(broker.url)).resolves.toMatchObject({ status: "ok", db: "up" });
    await expect(getHealth(broker.wsUrl)).resolves.toMatchObject({ status: "ok" });
  });

  it("createMesh needs the creation token when the broker has one, and reports slug_taken", async () => {
    const keypair = generateKeypair();
    const slug = uniqueSlug();
    const args = { brokerUrl: broker.url, name: "Team", slug, ownerName: "alice", keypair };
    const denied = await rejection(createMesh(args));
    expect(denied.status).toBe(401);
    expect(denied.code).toBe("unauthorized");
    expect(denied.message).toMatch(/^mesh create failed: /);
    const created = await createMesh({ ...args, token: "s3cret-token" });
    expect(created.meshId).toMatch(/^[A-Za-z0-9_-]+$/);
    const taken = await rejection(createMesh({ ...args, token: "s3cret-token", keypair: generateKeypair() }));
    expect(taken.code).toBe("slug_taken");
    expect(taken.status).toBe(409);
  });

  describe("with a mesh", () => {
    let brokerNoToken: TestBroker;
    beforeAll(async () => {
      brokerNoToken = await startTestBroker();
    });
    afterAll(async () => {
      await brokerNoToken.stop();
    });

    it("joinMesh redeems a link (idempotently) and returns the invite's broker", async () => {
      const [owner] = await meshWith(brokerNoToken.url, ["owner"]);
      if (!owner) throw new Error("no owner");
      const keypair = generateKeypair();
      const { link, payload } = inviteLink(brokerNoToken.url, owner);
      const joined = await joinMesh({ link, keypair, displayName: "bob" });
      expect(joined).toEqual({
        meshId: owner.meshId,
        memberId: expect.any(String),
        role: "member",
        meshSlug: owner.meshSlug,
        brokerUrl: brokerNoToken.url,
        displayName: "bob",
      });
      const again = await joinMesh({ payload, keypair, displayName: "bob" });
      expect(again.memberId).toBe(joined.memberId);
      const exhausted = await rejection(joinMesh({ link, keypair: generateKeypair(), displayName: "carol" }));
      expect(exhausted.code).toBe("invite_exhausted");
    });

    it("a tampered or expired invite fails locally with the broker's code and a clear message", async () => {
      const [owner] = await meshWith(brokerNoToken.url, ["owner"]);
      if (!owner) throw new Error("no owner");
      const { payload } = inviteLink(brokerNoToken.url, owner);
      const tampered = encodeInviteLink({ ...payload, role: "admin" });
      const bad = await rejection(
        joinMesh({ link: tampered, keypair: generateKeypair(), displayName: "eve" }),
      );
      expect(bad.code).toBe("invite_invalid");
      expect(bad.message).toMatch(/invalid signature/);
      const expired = await rejection(
        joinMesh({
          payload,
          keypair: generateKeypair(),
          displayName: "late",
          now: () => payload.expires_at * 1000 + 1,
        }),
      );
      expect(expired.code).toBe("invite_expired");
      const garbage = await rejection(
        joinMesh({ link: "ic://join/!!!", keypair: generateKeypair(), displayName: "x" }),
      );
      expect(garbage.code).toBe("invite_invalid");
    });

    it("enrollAgent enrolls an agent that can then connect; postHookStatus applies to its presence", async () => {
      const [owner] = await meshWith(brokerNoToken.url, ["owner"]);
      if (!owner) throw new Error("no owner");
      const agentKeys = generateKeypair();
      const parent = { publicKey: owner.pubkey, secretKey: owner.secretKey };
      const agent = await enrollAgent({
        brokerUrl: brokerNoToken.url,
        meshId: owner.meshId,
        parent,
        agent: agentKeys,
        agentName: "backend",
      });
      expect(agent.displayName).toMatch(/backend/);
      const again = await enrollAgent({
        brokerUrl: brokerNoToken.url,
        meshId: owner.meshId,
        parent,
        agent: agentKeys,
        agentName: "backend",
      });
      expect(again.memberId).toBe(agent.memberId);

      const hook = {
        brokerUrl: brokerNoToken.url,
        meshId: owner.meshId,
        keypair: agentKeys,
        cwd: "/w",
        pid: 1,
      };
      await expect(postHookStatus({ ...hook, status: "working" })).resolves.toBe("pending");

      const client = clientFor(brokerNoToken.url, {
        name: agent.displayName,
        pubkey: agentKeys.publicKey,
        secretKey: agentKeys.secretKey,
        meshId: owner.meshId,
        meshSlug: owner.meshSlug,
        memberId: agent.memberId,
      });
      try {
        await client.connect({ timeoutMs: 5_000 });
        await expect(postHookStatus({ ...hook, status: "working", timeoutMs: 1_000 })).resolves.toBe(
          "applied",
        );
        const me = (await client.listPeers()).find((p) => p.pubkey === agentKeys.publicKey);
        expect(me?.status).toBe("working");
        expect(me?.parent).toBe(owner.pubkey);
      } finally {
        await client.close();
      }
    });

    it("a wrong-key hook status is refused with the broker's code", async () => {
      const [owner] = await meshWith(brokerNoToken.url, ["owner"]);
      if (!owner) throw new Error("no owner");
      const stranger = await rejection(
        postHookStatus({
          brokerUrl: brokerNoToken.url,
          meshId: owner.meshId,
          keypair: generateKeypair(),
          status: "idle",
          cwd: "/",
          pid: 1,
        }),
      );
      expect(stranger.code).toBe("unauthorized");
      expect(stranger.message).toMatch(/^status hook failed: /);
    });

    it("addMember helper works through joinMesh", async () => {
      const [owner] = await meshWith(brokerNoToken.url, ["owner"]);
      if (!owner) throw new Error("no owner");
      const bob = await addMember(brokerNoToken.url, owner, "bob");
      expect(bob.meshId).toBe(owner.meshId);
    });
  });
});

describe("http failure mapping", () => {
  let server: Server | null = null;
  afterEach(async () => {
    const s = server;
    server = null;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  });

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const s = createServer(handler);
    server = s;
    await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", () => resolve()));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  }

  it("an unused port is unreachable with an actionable message", async () => {
    const url = await serve(() => undefined);
    const s = server;
    server = null;
    await new Promise<void>((resolve) => s?.close(() => resolve()));
    const err = await rejection(getHealth(url));
    expect(err.code).toBe("unreachable");
    expect(err.message).toBe(
      `cannot reach broker at ${url} (connection refused) — is \`claudemesh broker\` running?`,
    );
  });

  it("a broker that never answers times out within timeoutMs", async () => {
    const url = await serve(() => undefined);
    const started = Date.now();
    const err = await rejection(getHealth(url, { timeoutMs: 200 }));
    expect(err.code).toBe("timeout");
    expect(err.message).toMatch(/did not answer GET \/health within 200 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("a non-JSON answer is bad_response", async () => {
    const url = await serve((_req, res) => res.end("<html>hello</html>"));
    const err = await rejection(getHealth(url));
    expect(err.code).toBe("bad_response");
    expect(err.message).toMatch(/non-JSON body — is that URL a claudemesh broker\?/);
  });

  it("a JSON answer of the wrong shape is bad_response", async () => {
    const url = await serve((_req, res) => res.end(JSON.stringify({ ok: true, mesh_id: 5 })));
    const err = await rejection(
      createMesh({ brokerUrl: url, name: "n", slug: "sl", ownerName: "o", keypair: generateKeypair() }),
    );
    expect(err.code).toBe("bad_response");
    expect(err.message).toMatch(/unexpected body \(mesh_id/);
  });

  it("an error status without a claudemesh error body is bad_response with the status", async () => {
    const url = await serve((_req, res) => {
      res.statusCode = 502;
      res.end("{}");
    });
    const err = await rejection(getHealth(url));
    expect(err.code).toBe("bad_response");
    expect(err.status).toBe(502);
  });

  it("a degraded /health (503) is returned, not thrown", async () => {
    const url = await serve((_req, res) => {
      res.statusCode = 503;
      res.end(JSON.stringify({ status: "degraded", db: "down" }));
    });
    await expect(getHealth(url)).resolves.toEqual({ status: "degraded", db: "down" });
  });

  it("sends the bearer token only when given", async () => {
    const seen: Array<string | undefined> = [];
    const url = await serve((req, res) => {
      seen.push(req.headers.authorization);
      res.end(JSON.stringify({ ok: true, mesh_id: "m1", member_id: "u1" }));
    });
    const args = { brokerUrl: url, name: "n", slug: "sl", ownerName: "o", keypair: generateKeypair() };
    await createMesh(args);
    await createMesh({ ...args, token: "tok" });
    expect(seen).toEqual([undefined, "Bearer tok"]);
  });
});
