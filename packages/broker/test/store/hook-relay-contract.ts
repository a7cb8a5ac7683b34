// Store contract for hooks relayed to the broker holding the peer: stash plus notice, answers, reach.
import { beforeEach, describe, expect, it } from "vitest";
import type { HookAnswer, HookNotice, MemberRow, PendingHookStatus, Store } from "../../src/store/index.js";
import { addMember, makeMesh, presence, T0, type MeshFixture } from "./fixtures.js";

export function registerHookRelayContract(getStore: () => Store): void {
  describe("hooks relayed to the holding broker", () => {
    let store: Store;
    let f: MeshFixture;
    let bob: MemberRow;
    beforeEach(async () => {
      store = getStore();
      f = await makeMesh(store, "hralice");
      bob = await addMember(store, f.mesh.id, "hrbob");
    });

    function hook(over: Partial<PendingHookStatus> = {}): PendingHookStatus {
      return {
        meshId: f.mesh.id,
        pubkey: bob.pubkey,
        status: "working",
        cwd: "/work",
        pid: 7,
        sessionId: null,
        receivedAt: T0,
        ...over,
      };
    }

    function notice(over: Partial<HookNotice> = {}): HookNotice {
      return {
        requestId: "req-1",
        fromBrokerId: "broker-a",
        memberId: bob.id,
        meshId: f.mesh.id,
        pubkey: bob.pubkey,
        status: "working",
        at: T0,
        ...over,
      };
    }

    it("relayHookStatus stashes the entry (taken once) and returns the member's presence row, or null", async () => {
      expect(await store.relayHookStatus(hook(), notice())).toBeNull();
      expect(await store.takePendingHook(f.mesh.id, bob.pubkey, T0)).toEqual(hook());
      expect(await store.takePendingHook(f.mesh.id, bob.pubkey, T0)).toBeNull();
      const row = presence(bob.id, { brokerId: "broker-b" });
      await store.upsertPresence(row);
      const newer = hook({ status: "idle", receivedAt: T0 + 5 });
      expect(await store.relayHookStatus(hook(), notice())).toEqual(row);
      // Newest wins in the stash, as with stashPendingHook.
      await store.relayHookStatus(newer, notice({ requestId: "req-2", status: "idle", at: T0 + 5 }));
      expect(await store.takePendingHook(f.mesh.id, bob.pubkey, T0)).toEqual(newer);
    });

    it("tells this store's notice listeners after the write; unsubscribing stops them", async () => {
      const seen: HookNotice[] = [];
      const stashedWhenTold: (PendingHookStatus | null)[] = [];
      const off = store.onHookNotices((n) => {
        seen.push(n);
        // Told after commit: the entry is there to take.
        void store.takePendingHook(n.meshId, n.pubkey, T0).then((e) => stashedWhenTold.push(e));
      });
      await store.relayHookStatus(hook(), notice());
      expect(seen).toEqual([notice()]);
      await new Promise((r) => setTimeout(r, 20));
      expect(stashedWhenTold).toEqual([hook()]);
      // Told again without a stash: listeners hear it, nothing new is stashed.
      await store.noticeHook(notice({ requestId: "req-2" }));
      expect(seen.map((n) => n.requestId)).toEqual(["req-1", "req-2"]);
      await new Promise((r) => setTimeout(r, 20));
      expect(stashedWhenTold).toEqual([hook(), null]);
      off();
      await store.relayHookStatus(hook(), notice({ requestId: "req-3" }));
      expect(seen).toHaveLength(2);
    });

    it("an answer to a broker attached to this store reaches its answer listeners; reach follows attachment", async () => {
      const answers: HookAnswer[] = [];
      store.onHookAnswers((a) => answers.push(a));
      store.attachBroker("broker-a");
      expect(store.reachesBroker("broker-a")).toBe(true);
      // SQLite has no cross-process notices: only brokers on this very store object are reached.
      expect(store.reachesBroker("broker-elsewhere")).toBe(store.kind === "postgres");
      const answer: HookAnswer = { requestId: "req-1", toBrokerId: "broker-a", result: "applied" };
      await store.answerHookStatus(answer);
      expect(answers).toEqual([answer]);
      await store.answerHookStatus({ ...answer, toBrokerId: "broker-elsewhere" });
      expect(answers).toEqual([answer]);
    });
  });
}
