// Validation matches the store: NUL in text and out-of-range integers get 400 / `malformed` on both stores, never a 500.
import { describe, expect, it } from "vitest";
import { MAX_PID } from "@claudemesh/protocol";
import { signStatus } from "@claudemesh/crypto";
import { postJson, type HttpResult } from "../helpers/http.js";
import {
  createMesh,
  enrollBody,
  joinBody,
  makeIdentity,
  makeInvite,
  meshCreateBody,
  uniqueSlug,
  type Member,
} from "../helpers/identity.js";
import { helloFrame, openSocket } from "../helpers/ws-client.js";
import { STORE_KINDS } from "../helpers/stores.js";
import { directSend, listPeers, metric, until } from "./support.js";
import { wsSuite } from "./suite.js";

const NUL = "\u0000";

function expectMalformed(res: HttpResult, field: string): void {
  expect(res.status, res.text).toBe(400);
  const body = res.json as { error?: { code?: string; message?: string } };
  expect(body.error?.code).toBe("malformed");
  expect(body.error?.message).toContain(field);
}

describe.each(STORE_KINDS)("validation matches the store (%s)", (kind) => {
  const suite = wsSuite(kind);

  function hookBody(member: Member, fields: Record<string, unknown>) {
    const { timestamp, signature } = signStatus(member.meshId, member.pubkey, "working", member.secretKey);
    return {
      mesh_id: member.meshId,
      pubkey: member.pubkey,
      status: "working",
      cwd: "/work",
      pid: 4242,
      session_id: "s-1",
      timestamp,
      signature,
      ...fields,
    };
  }

  it("POST /meshes refuses NUL in name, owner_name and slug, and an unsafe timestamp, with 400 malformed", async () => {
    const url = suite.broker.url;
    const body = () => meshCreateBody(makeIdentity("owner"), uniqueSlug());
    expectMalformed(await postJson(url, "/meshes", { ...body(), name: `a${NUL}b` }), "name");
    expectMalformed(await postJson(url, "/meshes", { ...body(), owner_name: `ow${NUL}ner` }), "owner_name");
    expectMalformed(await postJson(url, "/meshes", { ...body(), slug: `me${NUL}sh` }), "slug");
    expectMalformed(await postJson(url, "/meshes", { ...body(), timestamp: 2 ** 53 + 2 }), "timestamp");
    // The same body without the NUL is accepted: the refusal is about the NUL only.
    expect((await postJson(url, "/meshes", { ...body(), name: "a b" })).status).toBe(200);
  });

  it("POST /hook/set-status refuses NUL in cwd and session_id, pid ≥ 2^31 and a negative timestamp, with 400 malformed", async () => {
    const [alice] = (await suite.mesh("alice")) as [Member];
    const url = suite.broker.url;
    expectMalformed(await postJson(url, "/hook/set-status", hookBody(alice, { cwd: `/w${NUL}` })), "cwd");
    expectMalformed(
      await postJson(url, "/hook/set-status", hookBody(alice, { session_id: `s${NUL}` })),
      "session_id",
    );
    expectMalformed(await postJson(url, "/hook/set-status", hookBody(alice, { pid: MAX_PID + 1 })), "pid");
    expectMalformed(await postJson(url, "/hook/set-status", hookBody(alice, { timestamp: -1 })), "timestamp");
    const largest = await postJson(url, "/hook/set-status", hookBody(alice, { pid: MAX_PID }));
    expect(largest.status, largest.text).toBe(200);
  });

  it("POST /join and POST /agents refuse NUL in names and in the invite link with 400 malformed", async () => {
    const url = suite.broker.url;
    const owner = makeIdentity("owner");
    const mesh = await createMesh(url, owner);
    const invite = makeInvite(mesh, owner);
    const joiner = makeIdentity("joiner");
    const join = joinBody(invite.link, invite.payload, joiner);
    expectMalformed(await postJson(url, "/join", { ...join, display_name: `jo${NUL}iner` }), "display_name");
    expectMalformed(await postJson(url, "/join", { ...join, invite: `${invite.link}${NUL}` }), "invite");
    const agent = makeIdentity(`ag${NUL}ent`);
    expectMalformed(await postJson(url, "/agents", enrollBody(mesh.owner as Member, agent)), "agent_name");
  });

  it("answers ws frames with NUL text or out-of-range integers with error malformed and stays usable", async () => {
    const [alice, bob] = (await suite.mesh("alice", "bob")) as [Member, Member];
    const failedBefore = metric(suite.broker, "frames_failed_total", { code: "internal" });
    // Before hello: a hello whose cwd, sessionId, pid or timestamp the store could not hold.
    const raw = await openSocket(suite.broker.wsUrl);
    try {
      const bad = [
        { ...helloFrame(alice), cwd: `/tmp${NUL}` },
        { ...helloFrame(alice), sessionId: `s${NUL}` },
        { ...helloFrame(alice), pid: MAX_PID + 1 },
        { ...helloFrame(alice), timestamp: -1 },
      ];
      for (const frame of bad) raw.send(frame);
      const errors = await raw.collect((f) => f.type === "error", bad.length);
      expect(errors.map((f) => f.type === "error" && f.code)).toEqual(bad.map(() => "malformed"));
      // The socket is still usable: a good hello completes.
      raw.send(helloFrame(alice));
      await raw.next("hello_ack");
      // After hello: summary, request ids.
      const from = raw.frames.length;
      raw.send({ type: "set_summary", summary: `hi${NUL}` });
      raw.send({ ...directSend(alice, bob, "x"), id: `i${NUL}d` });
      raw.send({ type: "list_peers", id: `l${NUL}p` });
      const errorsAfter = () => raw.frames.slice(from).filter((f) => f.type === "error");
      await until(() => errorsAfter().length >= 3, 5_000, "three error replies");
      const after = errorsAfter();
      expect(after.map((f) => f.type === "error" && f.code)).toEqual(["malformed", "malformed", "malformed"]);
      expect(raw.frames.slice(from).filter((f) => f.type === "ack")).toEqual([]);
      const me = (await listPeers(raw)).find((p) => p.pubkey === alice.pubkey);
      expect(me?.summary ?? null).toBeNull();
    } finally {
      await raw.close();
    }
    expect(metric(suite.broker, "frames_failed_total", { code: "internal" })).toBe(failedBefore);
  });
});
