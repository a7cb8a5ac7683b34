// The servers a benchmark compares: the raw-ws relay baseline, or the real broker on a fresh SQLite file or
// PostgreSQL database (dropped afterwards) — each in its own process — and the identities a run needs on it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { generateKeypair } from "@claudemesh/crypto";
import { startRole, type RoleProcess } from "./child.js";
import { createBenchMesh, type BenchIdentity } from "./mesh.js";
import type { Mode } from "./peer.js";

export type Target = "relay" | "sqlite" | "postgres";

export interface Server {
  role: RoleProcess;
  httpUrl: string;
  wsUrl: string;
  cleanup: () => Promise<void>;
}

/** A fresh store for the broker: a SQLite file in a temp dir, or a new PostgreSQL database (dropped by `cleanup`). */
export async function createStoreTarget(
  target: "sqlite" | "postgres",
): Promise<{ db: string; cleanup: () => Promise<void> }> {
  if (target === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "claudemesh-bench-"));
    return { db: join(dir, "bench.db"), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const base = process.env.DATABASE_URL as string;
  const name = `claudemesh_bench_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    db: url.toString(),
    cleanup: async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Starts one broker process on `db` (its own port on 127.0.0.1); `cleanup` is left to whoever made the store. */
export async function startBrokerOn(
  db: string,
  brokerOptions: Record<string, unknown> = {},
): Promise<Omit<Server, "cleanup">> {
  const role = startRole("broker", [db, JSON.stringify(brokerOptions)]);
  const ready = await role.next<{ type: "ready"; httpUrl: string; wsUrl: string }>("ready");
  return { role, ...ready };
}

/** Starts `target`; `brokerOptions` (broker only) are passed to startBroker on top of the bench defaults. */
export async function startServer(
  target: Target,
  brokerOptions: Record<string, unknown> = {},
): Promise<Server> {
  if (target === "relay") {
    const role = startRole("relay");
    const ready = await role.next<{ type: "ready"; httpUrl: string; wsUrl: string }>("ready");
    return { role, ...ready, cleanup: async () => {} };
  }
  const { db, cleanup } = await createStoreTarget(target);
  return { ...(await startBrokerOn(db, brokerOptions)), cleanup };
}

/** `count` identities: members of one new mesh on the broker, or bare keypairs for the relay. */
export async function identities(mode: Mode, server: Server, count: number): Promise<BenchIdentity[]> {
  if (mode === "broker") return createBenchMesh(server.httpUrl, count);
  return Array.from({ length: count }, (_, i) => {
    const keys = generateKeypair();
    return {
      meshId: "relay",
      memberId: `m${i}`,
      pubkey: keys.publicKey,
      secretKey: keys.secretKey,
      name: `peer-${i}`,
    };
  });
}
