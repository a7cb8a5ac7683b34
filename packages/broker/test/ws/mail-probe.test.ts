// The read after a hello's commit: one store read per event-loop turn, whatever the number of hellos.
import { describe, expect, it } from "vitest";
import type { Waiting } from "../../src/store/index.js";
import { MailProbe, waitingAfterAdmission } from "../../src/ws/mail-probe.js";

const NOTHING: Waiting = { deliveries: false, receipts: false };

/** A store whose waitingMail records each call and answers from `mail`. */
function fakeStore(mail: Record<string, Waiting>, fail = false) {
  const calls: string[][] = [];
  return {
    calls,
    async waitingMail(ids: readonly string[]): Promise<Map<string, Waiting>> {
      calls.push([...ids]);
      if (fail) throw new Error("store down");
      return new Map(ids.filter((id) => mail[id]).map((id) => [id, mail[id]!]));
    },
  };
}

describe("MailProbe", () => {
  it("asks once for every member asked about in one turn, and again in the next", async () => {
    const store = fakeStore({ bob: { deliveries: true, receipts: false } });
    const probe = new MailProbe(store, () => undefined);
    const answers = await Promise.all([probe.waiting("bob"), probe.waiting("carol"), probe.waiting("bob")]);
    expect(answers).toEqual([
      { deliveries: true, receipts: false },
      NOTHING,
      { deliveries: true, receipts: false },
    ]);
    expect(store.calls).toEqual([["bob", "carol"]]);
    expect(await probe.waiting("dave")).toEqual(NOTHING);
    expect(store.calls).toEqual([["bob", "carol"], ["dave"]]);
  });

  it("answers everything waits when the store fails, and reports the error", async () => {
    const errors: unknown[] = [];
    const probe = new MailProbe(fakeStore({}, true), (error) => errors.push(error));
    expect(await probe.waiting("bob")).toEqual({ deliveries: true, receipts: true });
    expect(errors).toHaveLength(1);
  });
});

describe("waitingAfterAdmission", () => {
  it("adds what the read after the commit found to what the admission found", async () => {
    const store = fakeStore({ bob: { deliveries: false, receipts: true } });
    const probe = new MailProbe(store, () => undefined);
    expect(await waitingAfterAdmission(probe, "bob", { deliveries: true, receipts: false })).toEqual({
      deliveries: true,
      receipts: true,
    });
  });

  it("asks nothing more without a probe (SQLite) or when the admission found both", async () => {
    const store = fakeStore({});
    const probe = new MailProbe(store, () => undefined);
    expect(await waitingAfterAdmission(null, "bob", NOTHING)).toEqual(NOTHING);
    const both = { deliveries: true, receipts: true };
    expect(await waitingAfterAdmission(probe, "bob", both)).toEqual(both);
    expect(store.calls).toEqual([]);
  });
});
