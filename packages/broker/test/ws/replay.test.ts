// Captured hellos and signed HTTP bodies are refused after a broker restart and on a second broker sharing the store (SPEC §2, §3 check 5).
import { afterEach, describe, expect, it } from "vitest";
import { CLOSE_CODES } from "@claudemesh/protocol";
import { signStatus } from "@claudemesh/crypto";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { postJson } from "../helpers/http.js";
import {
  createMeshWithMembers,
  enrollBody,
  joinBody,
  makeIdentity,
  makeInvite,
  type Member,
} from "../helpers/identity.js";
import { helloFrame, openSocket } from "../helpers/ws-client.js";
import { STORE_KINDS, storeTarget, type StoreKind, type StoreTarget } from "../helpers/stores.js";

function errorCode(res: { json: unknown }): string | undefined {
  return (res.json as { error?: { code?: string } } | undefined)?.error?.code;
}

describe.each(STORE_KINDS)("replay refused in the store (%s)", (kind: StoreKind) => {
  let brokers: TestBroker[] = [];
  let target: StoreTarget | undefined;
  afterEach(async () => {
    await Promise.all(brokers.map((b) => b.stop()));
    brokers = [];
    await target?.cleanup();
    target = undefined;
  });

  async function broker(): Promise<TestBroker> {
    target ??= await storeTarget(kind);
    const started = await startTestBroker({ kind, store: target });
    brokers.push(started);
    return started;
  }

  async function stop(b: TestBroker): Promise<void> {
    await b.stop();
    brokers = brokers.filter((x) => x !== b);
  }

  /** Sends `hello` on a fresh socket; resolves with the first answer and, on rejection, the close. */
  async function sayHello(
    b: TestBroker,
    hello: object,
  ): Promise<{ type: string; code?: string; close?: unknown }> {
    const peer = await openSocket(b.wsUrl);
    try {
      peer.send(hello);
      const first = (await peer.next((f) => f.type === "hello_ack" || f.type === "error")) as {
        type: string;
        code?: string;
      };
      if (first.type === "hello_ack") return first;
      return { ...first, close: await peer.closed };
    } finally {
      await peer.close();
    }
  }

  const refused = {
    type: "error",
    code: "replay",
    close: { code: CLOSE_CODES.policyViolation, reason: "replay" },
  };

  it("refuses a captured hello after a restart on the same store and on a second broker", async () => {
    const one = await broker();
    const { members } = await createMeshWithMembers(one.url, ["alice"]);
    const alice = members[0] as Member;
    const captured = helloFrame(alice);
    expect((await sayHello(one, captured)).type).toBe("hello_ack");
    const two = await broker();
    expect(await sayHello(two, captured)).toMatchObject(refused);
    await stop(one);
    const restarted = await broker();
    expect(await sayHello(restarted, captured)).toMatchObject(refused);
    // A fresh hello of the same member is fine.
    expect((await sayHello(restarted, helloFrame(alice, { now: Date.now() + 1 }))).type).toBe("hello_ack");
  });

  it("refuses captured signed /hook/set-status, /agents and /join bodies after a restart and on a second broker", async () => {
    const one = await broker();
    const { mesh, members } = await createMeshWithMembers(one.url, ["owner", "bob"]);
    const bob = members[1] as Member;
    const invite = makeInvite(mesh, mesh.owner);
    const bodies: Array<[string, unknown]> = [
      [
        "/hook/set-status",
        {
          mesh_id: bob.meshId,
          pubkey: bob.pubkey,
          status: "working",
          cwd: "/",
          pid: 1,
          ...signStatus(bob.meshId, bob.pubkey, "working", bob.secretKey),
        },
      ],
      ["/agents", enrollBody(bob, makeIdentity("agent"))],
      ["/join", joinBody(invite.link, invite.payload, makeIdentity("carol"))],
    ];
    for (const [path, body] of bodies)
      expect({ path, status: (await postJson(one.url, path, body)).status }).toEqual({ path, status: 200 });
    const two = await broker();
    await stop(one);
    const restarted = await broker();
    for (const b of [two, restarted])
      for (const [path, body] of bodies) {
        const res = await postJson(b.url, path, body);
        expect({ path, status: res.status, code: errorCode(res) }).toEqual({
          path,
          status: 401,
          code: "replay",
        });
      }
  });
});
