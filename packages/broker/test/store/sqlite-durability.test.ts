// Crash safety on SQLite (SPEC §3 "nothing acked is lost by kill -9"): a child enqueues batches and
// reports each resolved one; after SIGKILL every reported batch is in the reopened database, whole.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/index.js";
import { addMember, makeMesh } from "./fixtures.js";
import { transpileForChild, type Transpiled } from "./transpile.js";

const BATCH = 64;

describe("sqlite store - crash safety", () => {
  let child: ChildProcess | null = null;
  let compiled: Transpiled | null = null;
  let dir = "";
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    child = null;
    compiled?.dispose();
    compiled = null;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("every batch whose enqueue resolved survives SIGKILL, and no batch is partial", async () => {
    dir = mkdtempSync(join(tmpdir(), "cm-durable-"));
    const path = join(dir, "broker.db");
    const setup = openStore(path);
    await setup.migrate();
    const f = await makeMesh(setup);
    const bob = await addMember(setup, f.mesh.id, "bob");
    await setup.close();

    compiled = transpileForChild("test/store/durability-child.ts");
    const proc = spawn(
      process.execPath,
      [compiled.entry, path, f.mesh.id, f.owner.id, bob.id, String(BATCH)],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    child = proc;
    let stderr = "";
    proc.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const resolved: number[] = [];
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
      proc.on("exit", (code, signal) => resolve(signal ?? code)),
    );
    let buffered = "";
    // Kill at a batch boundary chosen so that more writes are certainly in flight.
    const target = 40 + Math.floor(Math.random() * 40);
    proc.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) resolved.push(Number(line));
      if (resolved.length >= target && proc.exitCode === null) proc.kill("SIGKILL");
    });
    const how = await Promise.race([
      exited,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`child did not finish: ${stderr}`)), 20_000),
      ),
    ]);
    expect(how, stderr).toBe("SIGKILL");
    expect(resolved.length).toBeGreaterThanOrEqual(target);

    const raw = new Database(path, { readonly: true });
    try {
      const perBatch = new Map<number, number>();
      for (const row of raw.prepare("SELECT message_id FROM deliveries").all() as Array<{
        message_id: string;
      }>) {
        const batch = Number(/^b(\d+)-/.exec(row.message_id)?.[1]);
        perBatch.set(batch, (perBatch.get(batch) ?? 0) + 1);
      }
      for (const batch of resolved) expect(perBatch.get(batch), `batch ${batch}`).toBe(BATCH);
      // Atomic group commit: a batch is either whole or absent (the one in flight may be either).
      for (const [batch, count] of perBatch) expect(count, `batch ${batch}`).toBe(BATCH);
    } finally {
      raw.close();
    }
    // The store itself reopens cleanly after the crash and sees the same rows.
    const reopened = openStore(path);
    await reopened.migrate();
    expect(await reopened.countPending(bob.id)).toBeGreaterThanOrEqual(resolved.length * BATCH);
    await reopened.close();
  });
});
