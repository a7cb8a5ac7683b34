import { randomBytes, randomUUID } from "node:crypto";
import pg from "pg";
import { openStore } from "../packages/broker/dist/store/index.js";
import { guardedInsertStatement } from "../packages/broker/dist/store/postgres/enqueue-statements.js";
const url = process.env.DATABASE_URL; const schema = `cm_x_${randomBytes(3).toString("hex")}`;
const store = openStore(url, { schema }); await store.migrate();
const meshId = `mesh_${randomUUID()}`;
const created = await store.createMesh({ meshId, slug: `b-${meshId.slice(-12)}`, name: "b", ownerMemberId: `mem_${randomUUID()}`, ownerPubkey: randomBytes(32).toString("hex"), ownerName: "owner", now: 1 });
const sender = created.owner.id; const recs = [];
for (let i = 0; i < Number(process.env.N ?? 50); i++) { const r = await store.redeemInvite({ meshId, inviteId: `inv_${randomUUID()}`, maxUses: 1, memberId: `mem_${randomUUID()}`, pubkey: randomBytes(32).toString("hex"), displayName: `r${i}`, role: "member", now: 2 }); recs.push(r.member.id);
  await store.upsertPresence?.({ memberId: r.member.id, presenceId: `b2x_${i}`, brokerId: "b2x", sessionId: "s", pid: 1, cwd: "/", online: true, connectedAt: 1, lastSeenAt: 1, disconnectedAt: null, status: "idle", statusSource: "manual", statusAt: 1, summary: null }).catch(e=>{console.log("presence", e.message)});
}
const c = new pg.Client(url); await c.connect(); await c.query(`SET search_path = ${schema}`);
const mk = (remote) => ({ messageId: `msg_${randomUUID()}`, meshId, senderMemberId: sender, targetSpec: "direct", priority: "next", createdAt: Date.now(),
  deliveries: [{ recipientMemberId: recs[0], nonce: randomBytes(24).toString("base64"), ciphertext: randomBytes(300).toString("base64"), ...(remote ? { remoteLeaseUntil: Date.now() + 30000 } : {}) }] });
for (const remote of [false, true]) {
  const q = guardedInsertStatement([mk(remote)], { ids: [recs[0]], origin: "o", exclude: ["b1"] });
  const r = await c.query({ text: "EXPLAIN (ANALYZE, COSTS OFF, TIMING ON) " + q.text, values: q.values });
  console.log("---- remote", remote); console.log(r.rows.map((x) => x["QUERY PLAN"]).join("\n"));
}
await c.query(`DROP SCHEMA ${schema} CASCADE`); await c.end(); await store.close();
