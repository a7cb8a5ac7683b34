// The PostgreSQL enqueue statement is prepared once per pooled connection, which only pays off (and
// only stays bounded) while its text does not depend on the batch's size.
import { describe, expect, it } from "vitest";
import { guardedInsertStatement } from "../../src/store/postgres/enqueue-statements.js";
import { deliveryValues } from "../../src/store/sql/rules.js";
import type { NewMessage } from "../../src/store/types.js";
import { message } from "./fixtures.js";

function statement(messages: NewMessage[], wakeIds: string[]) {
  const values = messages.flatMap((m) => m.deliveries.map((d) => deliveryValues(m, d)));
  return guardedInsertStatement(messages, values, { ids: wakeIds, origin: "o", exclude: [] });
}

describe("the PostgreSQL enqueue statement", () => {
  it("has one text (and name) for batches of any size with the same parts", () => {
    const one = statement([message("mesh", "alice", ["bob"])], ["bob"]);
    const many = statement(
      Array.from({ length: 40 }, (_, i) => message("mesh", `s${i % 3}`, ["bob", `r${i}`])),
      ["bob", "carol"],
    );
    expect(many.text).toBe(one.text);
    expect(many.name).toBe(one.name);
    expect(one.name).toMatch(/^claudemesh_[0-9a-f]{32}$/);
    // Every value travels in a fixed number of array parameters.
    expect(many.values?.length).toBe(one.values?.length);
  });

  it("gets another text and name when a part differs (no wake-up ids, no deliveries)", () => {
    const woken = statement([message("mesh", "alice", ["bob"])], ["bob"]);
    const unwoken = statement([message("mesh", "alice", ["bob"])], []);
    const empty = statement([message("mesh", "alice", [])], []);
    expect(new Set([woken.name, unwoken.name, empty.name]).size).toBe(3);
  });
});
