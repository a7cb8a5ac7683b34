// POST /agents and POST /hook/set-status - enrollment under an active member, hook status, and each rejection (SPEC §2).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signStatus } from "@claudemesh/crypto";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { postJson } from "../helpers/http.js";
import {
  createMesh,
  enrollAgent,
  enrollBody,
  joinMesh,
  makeIdentity,
  makeInvite,
  type Member,
  type TestMesh,
} from "../helpers/identity.js";
import { STORE_KINDS } from "../helpers/stores.js";
import { connectPeer } from "../helpers/ws-client.js";

function errorCode(res: { json: unknown }): string | undefined {
  return (res.json as { error?: { code?: string } } | undefined)?.error?.code;
}

function statusBody(
  member: { meshId: string; pubkey: string; secretKey: string },
  status: "idle" | "working" | "dnd",
  now = Date.now(),
) {
  const { timestamp, signature } = signStatus(member.meshId, member.pubkey, status, member.secretKey, now);
  return {
    mesh_id: member.meshId,
    pubkey: member.pubkey,
    status,
    cwd: "/work",
    pid: 4242,
    session_id: "s1",
    timestamp,
    signature,
  };
}

describe.each(STORE_KINDS)("POST /agents (%s)", (kind) => {
  let broker: TestBroker;
  let mesh: TestMesh;
  beforeAll(async () => {
    broker = await startTestBroker({ kind });
    mesh = await createMesh(broker.url, makeIdentity("owner"));
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it("enrolls an agent under its member, idempotently, and audits it once", async () => {
    const agentKey = makeIdentity("backend");
    const first = await enrollAgent(broker.url, mesh.owner, agentKey);
    const again = await enrollAgent(broker.url, mesh.owner, agentKey);
    expect(again.memberId).toBe(first.memberId);
    const row = await broker.ctx.store.getMember(mesh.meshId, agentKey.pubkey);
    expect(row).toMatchObject({
      id: first.memberId,
      parentMemberId: mesh.owner.memberId,
      displayName: first.name,
    });
    const audits = (await broker.ctx.store.listAudit(mesh.meshId, 50)).filter(
      (a) => a.action === "agent.enroll",
    );
    expect(audits).toHaveLength(1);
  });

  it("rejects a bad parent signature and a bad agent signature (401 bad_signature)", async () => {
    const agentKey = makeIdentity("a1");
    const body = enrollBody(mesh.owner, agentKey);
    const other = enrollBody(mesh.owner, makeIdentity("a2"));
    for (const bad of [
      { ...body, parent_signature: other.parent_signature },
      { ...body, agent_signature: other.agent_signature },
    ]) {
      const res = await postJson(broker.url, "/agents", bad);
      expect(res.status).toBe(401);
      expect(errorCode(res)).toBe("bad_signature");
    }
    // both signatures by the parent (the agent never consented) are rejected too
    const parentTwice = { ...body, agent_signature: body.parent_signature };
    expect(errorCode(await postJson(broker.url, "/agents", parentTwice))).toBe("bad_signature");
    expect(await broker.ctx.store.getMember(mesh.meshId, agentKey.pubkey)).toBeNull();
  });

  it("rejects a stale timestamp (401 timestamp_skew) and a replay (401 replay)", async () => {
    const stale = await postJson(
      broker.url,
      "/agents",
      enrollBody(mesh.owner, makeIdentity("s"), Date.now() - 90_000),
    );
    expect(errorCode(stale)).toBe("timestamp_skew");
    const body = enrollBody(mesh.owner, makeIdentity("r"));
    expect((await postJson(broker.url, "/agents", body)).status).toBe(200);
    const replay = await postJson(broker.url, "/agents", body);
    expect(replay.status).toBe(401);
    expect(errorCode(replay)).toBe("replay");
  });

  it("refuses a parent that is not a member (403 unauthorized), revoked (403 revoked) or an agent (403 forbidden)", async () => {
    const stranger = { ...makeIdentity("stranger"), meshId: mesh.meshId, memberId: "none" };
    const res = await postJson(broker.url, "/agents", enrollBody(stranger, makeIdentity("x")));
    expect(res.status).toBe(403);
    expect(errorCode(res)).toBe("unauthorized");

    const agent = await enrollAgent(broker.url, mesh.owner, makeIdentity("ag"));
    const nested = await postJson(broker.url, "/agents", enrollBody(agent, makeIdentity("sub")));
    expect(errorCode(nested)).toBe("forbidden");

    const gone = await joinMesh(broker.url, makeInvite(mesh, mesh.owner), makeIdentity("gone"));
    await broker.ctx.store.revokeMember(gone.memberId, Date.now());
    const revoked = await postJson(broker.url, "/agents", enrollBody(gone, makeIdentity("y")));
    expect(errorCode(revoked)).toBe("revoked");
  });

  it("refuses an agent key that belongs to another identity (403 forbidden) or equals the parent (400 malformed)", async () => {
    const bob = await joinMesh(broker.url, makeInvite(mesh, mesh.owner), makeIdentity("bob"));
    const shared = makeIdentity("shared");
    await enrollAgent(broker.url, mesh.owner, shared);
    const steal = await postJson(broker.url, "/agents", enrollBody(bob, shared));
    expect(errorCode(steal)).toBe("forbidden");
    const memberAsAgent = await postJson(broker.url, "/agents", enrollBody(mesh.owner, bob));
    expect(errorCode(memberAsAgent)).toBe("forbidden");
    const body = enrollBody(mesh.owner, makeIdentity("z"));
    const self = await postJson(broker.url, "/agents", { ...body, agent_pubkey: body.parent_pubkey });
    expect(res400(self)).toBe("malformed");
  });

  it("rejects wrong types (400 malformed)", async () => {
    const body = enrollBody(mesh.owner, makeIdentity("t"));
    for (const bad of [
      { ...body, agent_name: "#chan" },
      { ...body, timestamp: 1.5 },
      { ...body, mesh_id: "" },
    ]) {
      expect(res400(await postJson(broker.url, "/agents", bad))).toBe("malformed");
    }
  });
});

/** A clock the test moves by hand, starting at the real time so signed timestamps stay in the window. */
function manualClock(): { now(): number; advance(ms: number): void } {
  let t = Date.now();
  return { now: () => t, advance: (ms) => void (t += ms) };
}

function res400(res: { status: number; json: unknown }): string | undefined {
  expect(res.status).toBe(400);
  return errorCode(res);
}

describe.each(STORE_KINDS)("POST /hook/set-status (%s)", (kind) => {
  let broker: TestBroker;
  let mesh: TestMesh;
  let bob: Member;
  beforeAll(async () => {
    broker = await startTestBroker({ kind, memberSendsPerSec: 1, memberSendBurst: 3 });
    mesh = await createMesh(broker.url, makeIdentity("owner"));
    bob = await joinMesh(broker.url, makeInvite(mesh, mesh.owner), makeIdentity("bob"));
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it("applies a hook status to a connected peer, and stashes one for a peer not yet connected", async () => {
    const agent = await enrollAgent(broker.url, mesh.owner, makeIdentity("hooked"));
    const pending = await postJson(broker.url, "/hook/set-status", statusBody(agent, "working"));
    expect(pending.status).toBe(200);
    expect(pending.json).toEqual({ ok: true, result: "pending" });

    const peer = await connectPeer(broker.wsUrl, agent);
    try {
      const applied = await postJson(broker.url, "/hook/set-status", statusBody(agent, "idle"));
      expect(applied.json).toEqual({ ok: true, result: "applied" });
      expect((await broker.ctx.store.getPresence(agent.memberId))?.status).toBe("idle");
    } finally {
      await peer.close();
    }
  });

  it("rejects bad signature, skew, replay and malformed bodies with their codes", async () => {
    const body = statusBody(bob, "working");
    const forged = { ...body, signature: statusBody(bob, "dnd").signature };
    expect(errorCode(await postJson(broker.url, "/hook/set-status", forged))).toBe("bad_signature");
    expect(
      errorCode(await postJson(broker.url, "/hook/set-status", statusBody(bob, "idle", Date.now() + 70_000))),
    ).toBe("timestamp_skew");
    expect(res400(await postJson(broker.url, "/hook/set-status", { ...body, status: "sleeping" }))).toBe(
      "malformed",
    );
    expect((await postJson(broker.url, "/hook/set-status", body)).status).toBe(200);
    const replay = await postJson(broker.url, "/hook/set-status", body);
    expect(replay.status).toBe(401);
    expect(errorCode(replay)).toBe("replay");
  });

  it("refuses a key that is not in the mesh (403 unauthorized) or revoked (403 revoked)", async () => {
    const stranger = { ...makeIdentity("s"), meshId: mesh.meshId };
    expect(errorCode(await postJson(broker.url, "/hook/set-status", statusBody(stranger, "idle")))).toBe(
      "unauthorized",
    );
    const gone = await joinMesh(broker.url, makeInvite(mesh, mesh.owner), makeIdentity("gone"));
    await broker.ctx.store.revokeMember(gone.memberId, Date.now());
    expect(errorCode(await postJson(broker.url, "/hook/set-status", statusBody(gone, "idle")))).toBe(
      "revoked",
    );
  });

  it("rate-limits per key (429 rate_limited with Retry-After) without affecting other keys", async () => {
    const carol = await joinMesh(broker.url, makeInvite(mesh, mesh.owner), makeIdentity("carol"));
    const results: number[] = [];
    for (let i = 0; i < 5; i++)
      results.push(
        (await postJson(broker.url, "/hook/set-status", statusBody(carol, "working", Date.now() + i))).status,
      );
    expect(results.slice(0, 3)).toEqual([200, 200, 200]);
    expect(results.slice(3)).toEqual([429, 429]);
    const limited = await postJson(broker.url, "/hook/set-status", statusBody(carol, "idle"));
    expect(errorCode(limited)).toBe("rate_limited");
    expect(Number(limited.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    const dave = await joinMesh(broker.url, makeInvite(mesh, mesh.owner), makeIdentity("dave"));
    expect((await postJson(broker.url, "/hook/set-status", statusBody(dave, "idle"))).status).toBe(200);
  });
});

describe("POST /hook/set-status order: signature, replay, then the per-key rate limit", () => {
  const clock = manualClock();
  let broker: TestBroker;
  let mesh: TestMesh;
  let erin: Member;
  beforeAll(async () => {
    broker = await startTestBroker({ clock, memberSendsPerSec: 1, memberSendBurst: 1 });
    mesh = await createMesh(broker.url, makeIdentity("owner"));
    erin = await joinMesh(broker.url, makeInvite(mesh, mesh.owner), makeIdentity("erin"));
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it("refuses a replayed body as replay without spending the key's budget", async () => {
    const body = statusBody(erin, "working", clock.now());
    expect((await postJson(broker.url, "/hook/set-status", body)).status).toBe(200);
    for (let i = 0; i < 3; i++)
      expect(errorCode(await postJson(broker.url, "/hook/set-status", body))).toBe("replay");
    clock.advance(1_000);
    // One token refilled; the replays above did not take it.
    expect(
      (await postJson(broker.url, "/hook/set-status", statusBody(erin, "idle", clock.now()))).status,
    ).toBe(200);
  });

  it("gives a rate-limited body its replay claim back: the same body succeeds after Retry-After", async () => {
    clock.advance(1_000);
    expect(
      (await postJson(broker.url, "/hook/set-status", statusBody(erin, "idle", clock.now()))).status,
    ).toBe(200);
    const body = statusBody(erin, "working", clock.now());
    const limited = await postJson(broker.url, "/hook/set-status", body);
    expect(limited.status).toBe(429);
    expect(errorCode(limited)).toBe("rate_limited");
    clock.advance(Number(limited.headers["retry-after"]) * 1_000);
    const retried = await postJson(broker.url, "/hook/set-status", body);
    expect(retried.status).toBe(200);
    expect(errorCode(await postJson(broker.url, "/hook/set-status", body))).toBe("replay");
  });
});
