// Shared helpers for the ws suites: encrypted send frames, metric reads, raw store reads and writes, polling with a bound.
import Database from "better-sqlite3";
import pg from "pg";
import type { Peer, Priority, Push, ServerFrame } from "@claudemesh/protocol";
import { decryptDirect, encryptDirect, signStatus } from "@claudemesh/crypto";
import type { TestBroker } from "../helpers/broker.js";
import type { Member } from "../helpers/identity.js";
import type { StoreTarget } from "../helpers/stores.js";
import { postJson } from "../helpers/http.js";
import { groupSend, openGroupForTest } from "./group-support.js";
import type { TestPeer } from "../helpers/ws-client.js";

let seq = 0;

/** A direct `send` frame from `from` to `to`, end-to-end encrypted (SPEC §4). */
export function directSend(
  from: Member,
  to: Member,
  text: string,
  priority: Priority = "now",
  id = `s${++seq}`,
) {
  const { nonce, ciphertext } = encryptDirect(text, to.pubkey, from.secretKey);
  return { type: "send" as const, id, targetSpec: to.pubkey, priority, nonce, ciphertext };
}

/** A group (`*` / `#name`) `send` frame sealed for `recipients` (SPEC §4: one body, a key per recipient). */
export function fanoutSend(
  from: Member,
  targetSpec: string,
  recipients: readonly Member[],
  text: string,
  id = `f${++seq}`,
) {
  return groupSend(from, targetSpec, recipients, text, { id });
}

/** Opens a push addressed to `me` (direct or group form); null when it does not decrypt. */
export function open(push: Push, me: Member): string | null {
  if (push.body) return openGroupForTest(push, me);
  if (push.nonce === undefined || push.ciphertext === undefined) return null;
  return decryptDirect({ nonce: push.nonce, ciphertext: push.ciphertext }, push.senderPubkey, me.secretKey);
}

export const isPush = (frame: ServerFrame): frame is Push => frame.type === "push";

/** A counter or gauge of the broker's metrics registry. */
export function metric(broker: TestBroker, name: string, labels?: Record<string, string>): number {
  return broker.ctx.metrics.value(name, labels);
}

/** Runs `queries` (SQL with `?` placeholders) on a separate raw connection to the store; returns each result's rows. */
export async function rawStore(
  target: StoreTarget,
  queries: ReadonlyArray<{ sql: string; params?: unknown[] }>,
): Promise<unknown[][]> {
  if (target.kind === "sqlite") {
    const db = new Database(target.target, { fileMustExist: true });
    try {
      return queries.map(({ sql, params = [] }) => {
        const stmt = db.prepare(sql);
        return stmt.reader ? stmt.all(...params) : (stmt.run(...params), []);
      });
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: target.target });
  await client.connect();
  try {
    const out: unknown[][] = [];
    for (const { sql, params = [] } of queries) {
      let n = 0;
      out.push(
        (
          await client.query(
            sql.replace(/\?/g, () => `$${++n}`),
            params,
          )
        ).rows,
      );
    }
    return out;
  } finally {
    await client.end();
  }
}

/** Every row of every claudemesh table, as JSON text (to prove what is and is not stored). */
export async function dumpStore(target: StoreTarget): Promise<string> {
  const tables = [
    "meshes",
    "members",
    "presence",
    "deliveries",
    "message_bodies",
    "pending_hook_status",
    "channel_members",
    "audit_log",
  ];
  return JSON.stringify(
    await rawStore(
      target,
      tables.map((t) => ({ sql: `SELECT * FROM ${t}` })),
    ),
  );
}

/** Polls `check` until it returns true (bounded by `timeoutMs`). */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves after `ms` (only for proving that something does NOT happen within a window). */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** POST /hook/set-status signed by `member` (SPEC §2); resolves with the broker's `result`. */
export async function postHook(
  baseUrl: string,
  member: Member,
  status: "idle" | "working" | "dnd",
  cwd = "/work/hooked",
): Promise<string> {
  const { timestamp, signature } = signStatus(member.meshId, member.pubkey, status, member.secretKey);
  const res = await postJson(baseUrl, "/hook/set-status", {
    mesh_id: member.meshId,
    pubkey: member.pubkey,
    status,
    cwd,
    pid: 4242,
    timestamp,
    signature,
  });
  const body = res.json as { ok: boolean; result?: string };
  if (!body.ok) throw new Error(`hook refused: ${res.text}`);
  return body.result!;
}

/** list_peers round trip; returns the peers array. */
export async function listPeers(peer: TestPeer, id = `lp${++seq}`): Promise<Peer[]> {
  const from = peer.frames.length;
  peer.send({ type: "list_peers", id });
  const frame = await peer.next((f) => f.type === "peers" && f.id === id, { from });
  return frame.type === "peers" ? frame.peers : [];
}
