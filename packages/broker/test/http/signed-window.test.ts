// Every signed request (hello, /meshes, /join, /agents, /hook/set-status) is judged by the configured helloSkewMs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signStatus } from "@claudemesh/crypto";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { postJson } from "../helpers/http.js";
import {
  createMesh,
  enrollBody,
  joinBody,
  joinMesh,
  makeIdentity,
  makeInvite,
  meshCreateBody,
  uniqueSlug,
  type Member,
  type TestMesh,
} from "../helpers/identity.js";
import { helloFrame, openSocket } from "../helpers/ws-client.js";

const SKEW_MS = 5_000;
/** Inside the protocol's default 60 s window, outside the configured 5 s one. */
const OFF_MS = 10_000;

function errorCode(res: { json: unknown }): string | undefined {
  return (res.json as { error?: { code?: string } } | undefined)?.error?.code;
}

describe("a broker with helloSkewMs = 5 s", () => {
  let broker: TestBroker;
  let mesh: TestMesh;
  let bob: Member;
  beforeAll(async () => {
    broker = await startTestBroker({ helloSkewMs: SKEW_MS });
    mesh = await createMesh(broker.url, makeIdentity("owner"));
    bob = await joinMesh(broker.url, makeInvite(mesh, mesh.owner), makeIdentity("bob"));
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it.each([-OFF_MS, OFF_MS])(
    "refuses signed HTTP requests %i ms off (401 timestamp_skew)",
    async (offset) => {
      const at = Date.now() + offset;
      const invite = makeInvite(mesh, mesh.owner);
      const status = signStatus(bob.meshId, bob.pubkey, "idle", bob.secretKey, at);
      const requests: Array<[string, unknown]> = [
        ["/meshes", meshCreateBody(makeIdentity("o"), uniqueSlug(), at)],
        ["/join", joinBody(invite.link, invite.payload, makeIdentity("j"), at)],
        ["/agents", enrollBody(bob, makeIdentity("agent"), at)],
        [
          "/hook/set-status",
          { mesh_id: bob.meshId, pubkey: bob.pubkey, status: "idle", cwd: "/", pid: 1, ...status },
        ],
      ];
      for (const [path, body] of requests) {
        const res = await postJson(broker.url, path, body);
        expect({ path, status: res.status, code: errorCode(res) }).toEqual({
          path,
          status: 401,
          code: "timestamp_skew",
        });
      }
    },
  );

  it("accepts signed HTTP requests inside the configured window", async () => {
    const at = Date.now() - SKEW_MS / 2;
    expect(
      (await postJson(broker.url, "/meshes", meshCreateBody(makeIdentity("o"), uniqueSlug(), at))).status,
    ).toBe(200);
    expect((await postJson(broker.url, "/agents", enrollBody(bob, makeIdentity("agent2"), at))).status).toBe(
      200,
    );
  });

  it("refuses a hello 10 s off (timestamp_skew)", async () => {
    const peer = await openSocket(broker.wsUrl);
    try {
      peer.send(helloFrame(bob, { now: Date.now() - OFF_MS }));
      expect(await peer.next("error")).toMatchObject({ code: "timestamp_skew" });
    } finally {
      await peer.close();
    }
  });
});
