// The retention sweep reads indexes, not the whole queue (SQLite query plans on a migrated store): the delete step
// and the expiry step each walk a partial index of deliveries.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/index.js";
import { driveSync, type Statement } from "../../src/store/sql/op.js";
import { sweepStep } from "../../src/store/sql/rules.js";
import { expireStep } from "../../src/store/sql/receipts.js";
import { sqliteDialect } from "../../src/store/sql/dialect.js";

let dir: string;
let db: Database.Database;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cm-sweep-"));
  const store = openStore(join(dir, "broker.db"));
  await store.migrate();
  await store.close();
  db = new Database(join(dir, "broker.db"), { readonly: true });
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The statements an op would run (answered with empty results), in order. */
function statementsOf(run: (execute: (s: Statement) => unknown) => unknown): Statement[] {
  const seen: Statement[] = [];
  run((s) => {
    seen.push(s);
    return s.want === "rows" ? [] : 0;
  });
  return seen;
}

function plan(statement: Statement): string {
  const rows = db.prepare(`EXPLAIN QUERY PLAN ${statement.sql}`).all(...statement.params) as Array<{
    detail: string;
  }>;
  return rows.map((r) => r.detail).join("\n");
}

describe("retention sweep query plans (sqlite)", () => {
  it("the delete step walks deliveries_delivered and deliveries_expiry, never a scan of deliveries", () => {
    const [step] = statementsOf((execute) => driveSync(sweepStep(1_000, 10), execute));
    const detail = plan(step!);
    expect(detail).toContain("deliveries_delivered");
    expect(detail).toContain("deliveries_expiry");
    expect(detail).not.toMatch(/SCAN deliveries(?! USING)/);
  });

  it("the expiry step finds old undelivered rows through deliveries_expiry", () => {
    const [pick] = statementsOf((execute) => driveSync(expireStep(sqliteDialect, 1_000, 2_000, 10), execute));
    expect(plan(pick!)).toContain("deliveries_expiry");
  });
});
