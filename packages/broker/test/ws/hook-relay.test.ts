// HookRelay on its own (ws/hook-relay.ts): who acts on a relayed hook, what it answers, and when the
// broker that received the hook waits for that answer. Stub store and presence; the status rules
// themselves are covered by core/status tests and the broker suites.
import { beforeAll, describe, expect, it } from "vitest";
import type { HookStatusRequest, Status } from "@claudemesh/protocol";
import { loadCrypto } from "../../src/crypto.js";
import { resolveOptions } from "../../src/options.js";
import { applyHookToSession, HOOK_RENOTICE_MS, HookRelay } from "../../src/ws/hook-relay.js";
import { until } from "./support.js";
import type { HubState } from "../../src/ws/state.js";
import type { Session } from "../../src/ws/session.js";
import type {
  HookAnswer,
  HookNotice,
  MemberRow,
  PendingHookStatus,
  PresenceRow,
} from "../../src/store/index.js";

const NOW = 1_700_000_000_000;
const member = { id: "m-bob", meshId: "mesh-1", pubkey: "b".repeat(64) } as MemberRow;

/** A relay on a stub hub: `taken` are the entries takePendingHook hands out, in order. */
function world(options: { taken?: (PendingHookStatus | null)[]; holder?: PresenceRow | null } = {}) {
  const taken = [...(options.taken ?? [])];
  const answers: HookAnswer[] = [];
  const relayed: HookNotice[] = [];
  const renoticed: HookNotice[] = [];
  const applied: { status: Status; at: number }[] = [];
  let takes = 0;
  const outcome: { next: "applied" | "ignored" } = { next: "applied" };
  const store = {
    takePendingHook: async () => {
      takes++;
      return taken.shift() ?? null;
    },
    answerHookStatus: async (answer: HookAnswer) => {
      answers.push(answer);
    },
    relayHookStatus: async (_entry: PendingHookStatus, n: HookNotice) => {
      relayed.push(n);
      return options.holder ?? null;
    },
    noticeHook: async (n: HookNotice) => {
      renoticed.push(n);
    },
    reachesBroker: () => true,
  };
  const session = { member, peer: { member }, earlyHook: null, closed: false } as unknown as Session;
  const state = {
    ctx: {
      store,
      brokerId: "broker-self",
      options: resolveOptions({}, {}),
      clock: { now: () => NOW },
      log: { warn: () => undefined, debug: () => undefined, info: () => undefined, error: () => undefined },
    },
    live: new Map<string, Session>(),
    presence: {
      setStatus: (_peer: unknown, status: Status, _source: string, at: number) => {
        applied.push({ status, at });
        return outcome.next;
      },
      written: async () => undefined,
    },
  } as unknown as HubState;
  return {
    relay: new HookRelay(state),
    state,
    session,
    answers,
    relayed,
    renoticed,
    applied,
    outcome,
    takes: () => takes,
  };
}

function entry(status: Status, receivedAt: number): PendingHookStatus {
  return {
    meshId: member.meshId,
    pubkey: member.pubkey,
    status,
    cwd: "/w",
    pid: 1,
    sessionId: null,
    receivedAt,
  };
}

function notice(requestId: string, at: number, status: Status = "working"): HookNotice {
  return {
    requestId,
    fromBrokerId: "broker-asking",
    memberId: member.id,
    meshId: member.meshId,
    pubkey: member.pubkey,
    status,
    at,
  };
}

const request = {
  mesh_id: member.meshId,
  pubkey: member.pubkey,
  status: "working",
  cwd: "/w",
  pid: 1,
} as HookStatusRequest;

describe("HookRelay", () => {
  beforeAll(async () => {
    await loadCrypto();
  });

  it("a broker without the member registered takes nothing and answers nothing", async () => {
    const w = world({ taken: [entry("working", NOW)] });
    await w.relay.noticed(notice("q1", NOW));
    expect(w.takes()).toBe(0);
    expect(w.answers).toEqual([]);
  });

  it("the holder takes the entry, applies it with its own timestamp through the status rules and answers the outcome", async () => {
    const w = world({ taken: [entry("working", NOW - 3)] });
    w.state.live.set(member.id, w.session);
    w.outcome.next = "ignored";
    await w.relay.noticed(notice("q1", NOW - 3));
    expect(w.applied).toEqual([{ status: "working", at: NOW - 3 }]);
    expect(w.answers).toEqual([{ requestId: "q1", toBrokerId: "broker-asking", result: "ignored" }]);
  });

  it("a notice whose entry was taken for an earlier notice gets that result; one taken elsewhere is pending", async () => {
    // Two hooks stashed before the first notice arrived: the stash kept the newer (newest wins).
    const w = world({ taken: [entry("idle", NOW - 5), null, null] });
    w.state.live.set(member.id, w.session);
    await w.relay.noticed(notice("older", NOW - 8));
    await w.relay.noticed(notice("newer", NOW - 5, "idle"));
    // A later hook whose entry this broker never took (its hello did, applying it on connect).
    await w.relay.noticed(notice("later", NOW - 1));
    expect(w.applied).toEqual([{ status: "idle", at: NOW - 5 }]);
    expect(w.answers.map((a) => [a.requestId, a.result])).toEqual([
      ["older", "applied"],
      ["newer", "applied"],
      ["later", "pending"],
    ]);
  });

  it("waits for an answer only when a live holder on another reachable broker is named", async () => {
    const online = {
      memberId: member.id,
      brokerId: "broker-two",
      online: true,
      lastSeenAt: NOW,
    } as PresenceRow;
    // Online nowhere: pending at once.
    expect(await world({ holder: null }).relay.relay(member, request, NOW)).toBe("pending");
    expect(await world({ holder: { ...online, online: false } }).relay.relay(member, request, NOW)).toBe(
      "pending",
    );
    // A row naming this broker (its session is gone): pending at once, nobody else would answer.
    expect(
      await world({ holder: { ...online, brokerId: "broker-self" } }).relay.relay(member, request, NOW),
    ).toBe("pending");
    // Held by broker two: its answer is the result (answers for other brokers are not ours).
    const w = world({ holder: online });
    const result = w.relay.relay(member, request, NOW);
    await new Promise((r) => setTimeout(r, 10));
    expect(w.relayed.map((n) => [n.fromBrokerId, n.memberId, n.status, n.at])).toEqual([
      ["broker-self", member.id, "working", NOW],
    ]);
    const requestId = w.relayed[0]!.requestId;
    w.relay.answered({ requestId, toBrokerId: "broker-other", result: "ignored" });
    w.relay.answered({ requestId: "someone-else", toBrokerId: "broker-self", result: "ignored" });
    w.relay.answered({ requestId, toBrokerId: "broker-self", result: "applied" });
    expect(await result).toBe("applied");
  });

  it("without an answer the notice is told again (no second stash) until the holder answers, then no more", async () => {
    const holder = {
      memberId: member.id,
      brokerId: "broker-two",
      online: true,
      lastSeenAt: NOW,
    } as PresenceRow;
    const w = world({ holder });
    const result = w.relay.relay(member, request, NOW);
    await until(() => w.renoticed.length > 0);
    expect(w.relayed).toHaveLength(1);
    expect(w.renoticed).toEqual([w.relayed[0]]);
    w.relay.answered({ requestId: w.relayed[0]!.requestId, toBrokerId: "broker-self", result: "applied" });
    expect(await result).toBe("applied");
    const told = w.renoticed.length;
    await new Promise((r) => setTimeout(r, HOOK_RENOTICE_MS * 2));
    expect(w.renoticed).toHaveLength(told);
  });

  it("a session whose hello is still completing keeps the newest hook for right after it", async () => {
    const w = world();
    const connecting = { member, peer: null, earlyHook: null } as unknown as Session;
    expect(await applyHookToSession(w.state, connecting, "working", NOW)).toBe("pending");
    expect(await applyHookToSession(w.state, connecting, "dnd", NOW - 10)).toBe("pending");
    expect(connecting.earlyHook).toEqual({ status: "working", at: NOW });
    expect(w.applied).toEqual([]);
  });
});
