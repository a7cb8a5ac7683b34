// A verified hello's admission (SPEC §3 checks 4–6) in one store round trip, and the per-mesh slots
// that keep concurrent hellos on this broker from overshooting the connection cap.
import type { HandshakeRejection, Hello } from "@claudemesh/protocol";
import { storedReplayKey } from "../core/replay.js";
import { replayMessage } from "../core/signed.js";
import type { AdmitHelloResult } from "../store/types.js";
import type { HubState } from "./state.js";

/** The admitted answer of Store.admitHello. */
export type Admitted = Extract<AdmitHelloResult, { kind: "admitted" }>;

export type AdmissionVerdict =
  | {
      ok: true;
      admitted: Admitted;
      /** Gives back the cap slot: call right after registering the connection (or not). */
      releaseSlot: () => void;
    }
  | { ok: false; code: HandshakeRejection; message: string };

const MESSAGES: Record<Exclude<AdmitHelloResult["kind"], "admitted">, string> = {
  unauthorized: "this key is not a member of that mesh (join it first)",
  revoked: "this member was revoked from the mesh",
  replay: replayMessage("hello"),
  capacity: "this mesh is at its connection limit; try again later",
};

/**
 * Hellos of this broker whose admission is in the store, by mesh and claimed member: counted as
 * connections by the cap check of every other hello of the mesh until they are registered (or
 * refused), so two hellos admitted at once never both take the last slot.
 */
export class AdmissionSlots {
  private readonly byMesh = new Map<string, Map<string, number>>();

  /** Holds a slot for `memberId` in `meshId`; the returned function gives it back (once). */
  hold(meshId: string, memberId: string): () => void {
    let members = this.byMesh.get(meshId);
    if (!members) this.byMesh.set(meshId, (members = new Map()));
    members.set(memberId, (members.get(memberId) ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const left = (members.get(memberId) ?? 1) - 1;
      if (left > 0) members.set(memberId, left);
      else members.delete(memberId);
      if (members.size === 0 && this.byMesh.get(meshId) === members) this.byMesh.delete(meshId);
    };
  }

  /** Identities other than `memberId` with a hello in flight in `meshId` that `counted` does not count yet. */
  others(meshId: string, memberId: string, counted: (memberId: string) => boolean): number {
    let n = 0;
    for (const id of this.byMesh.get(meshId)?.keys() ?? []) if (id !== memberId && !counted(id)) n++;
    return n;
  }
}

/** This broker's connections and hellos in flight in the mesh, of identities other than `memberId`. */
function localOthers(state: HubState, meshId: string, memberId: string): number {
  const liveHere = (id: string) => state.live.get(id)?.member?.meshId === meshId;
  const live = state.live.inMesh(meshId).size - (liveHere(memberId) ? 1 : 0);
  return live + state.admissions.others(meshId, memberId, liveHere);
}

/**
 * Asks the store to admit a hello whose signature verified (checks 1–3 passed): membership,
 * replay, capacity across brokers, the pending hook and the presence row in one round trip.
 */
export async function admitHello(
  state: HubState,
  hello: Hello,
  presenceId: string,
): Promise<AdmissionVerdict> {
  const { store, options, clock } = state.ctx;
  // A teardown of this identity still writing its offline row lands before the admission's write.
  const ending = state.teardowns.get(hello.memberId);
  if (ending) await ending;
  const now = clock.now();
  const session = { presenceId, cwd: hello.cwd, pid: hello.pid, sessionId: hello.sessionId };
  const others = localOthers(state, hello.meshId, hello.memberId);
  const release = state.admissions.hold(hello.meshId, hello.memberId);
  let result: AdmitHelloResult | undefined;
  try {
    result = await store.admitHello({
      meshId: hello.meshId,
      memberId: hello.memberId,
      pubkey: hello.pubkey,
      // A signature is remembered until the window check rejects it on its own (core/signed.ts).
      replayKey: storedReplayKey(hello.signature),
      replayExpiresAt: hello.timestamp + options.helloSkewMs,
      now,
      pendingHookSince: now - options.pendingHookMs,
      ...state.presence.admission(hello.memberId, session, now),
      capacity: {
        limit: options.maxConnectionsPerMesh,
        localOthers: others,
        brokersSince: now - options.brokerGoneAfterMs,
      },
    });
  } finally {
    // An admitted hello keeps its slot until the caller has registered it (`live` counts it then).
    if (result?.kind !== "admitted") release();
  }
  if (result.kind === "admitted") return { ok: true, admitted: result, releaseSlot: release };
  return { ok: false, code: result.kind, message: MESSAGES[result.kind] };
}
