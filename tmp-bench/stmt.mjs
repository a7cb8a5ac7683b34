import { openStore } from "../packages/broker/dist/store/index.js";
import { randomBytes, randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
const path = "/tmp/ha/stmt.db"; rmSync(path, {force:true}); rmSync(path+"-wal",{force:true}); rmSync(path+"-shm",{force:true});
const store = openStore(path); await store.migrate();
const now = Date.now();
const meshId = "mesh_" + randomUUID();
const created = await store.createMesh({ meshId, slug: "s"+randomUUID().slice(0,8), name: "m", ownerMemberId: "o_"+randomUUID(), ownerPubkey: randomBytes(32).toString("hex"), ownerName: "owner", now });
const members = [];
for (let i = 0; i < 1000; i++) {
  const r = await store.redeemInvite({ meshId, inviteId: "i"+i, maxUses: 1, memberId: "m_"+randomUUID(), pubkey: randomBytes(32).toString("hex"), displayName: "p"+i, role: "member", now });
  members.push(r.member);
}
await store.beatBroker("self", now);
// time per statement
const times = new Map();
const orig = store.execute;
const prepared = store.prepare.bind(store);
store.execute = (s) => { const t = process.hrtime.bigint(); const r = orig(s); const d = Number(process.hrtime.bigint() - t)/1000; const k = s.sql.slice(0,60).replace(/\s+/g," "); times.set(k, (times.get(k) ?? 0) + d); return r; };
const t0 = process.hrtime.bigint();
await Promise.all(members.map((m, i) => store.admitHello({
  meshId, memberId: m.id, pubkey: m.pubkey, replayKey: randomBytes(32).toString("hex"), replayExpiresAt: now + 60000, now, pendingHookSince: now - 10000,
  presence: { memberId: m.id, presenceId: "self-"+i, brokerId: "self", sessionId: "s", pid: 1, cwd: "/tmp", online: true, connectedAt: now, lastSeenAt: now, disconnectedAt: null, status: "idle", statusSource: "jsonl", statusAt: now, summary: null },
  restore: { onlineSince: now - 70000, heldSince: now - 30000 },
  capacity: { limit: 2000, localOthers: i, brokersSince: now - 30000 },
})));
const total = Number(process.hrtime.bigint() - t0)/1000;
console.log("total µs per admission", (total/1000).toFixed(1));
for (const [k, v] of [...times].sort((a,b)=>b[1]-a[1])) console.log((v/1000).toFixed(1).padStart(8), k);
await store.close();
