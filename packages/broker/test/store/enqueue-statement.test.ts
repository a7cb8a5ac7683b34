// The PostgreSQL enqueue statement is prepared once per pooled connection, which only pays off (and
// only stays bounded) while its text does not depend on the batch's size.
import { describe, expect, it } from "vitest";
import { guardedInsertStatement } from "../../src/store/postgres/enqueue-statements.js";
import type { NewMessage } from "../../src/store/types.js";
import { message } from "./fixtures.js";

function statement(messages: NewMessage[], wakeIds: string[]) {
  return guardedInsertStatement(messages, { ids: wakeIds, origin: "o", exclude: [] });
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

  it("gets another text and name when a part differs (no deliveries)", () => {
    const some = statement([message("mesh", "alice", ["bob"])], ["bob"]);
    const none = statement([message("mesh", "alice", [])], []);
    expect(none.name).not.toBe(some.name);
    expect(none.text).not.toContain("INSERT INTO deliveries");
  });
});
