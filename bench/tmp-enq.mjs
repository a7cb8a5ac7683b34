import { randomBytes, randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { defaultStoreModule, openBenchStore } from "./dist/lib/store-module.js";
const url = process.env.DATABASE_URL;
const { store, cleanup } = await openBenchStore(defaultStoreModule(), url, "enq");
await store.migrate();
const meshId = `mesh_${randomUUID()}`;
const created = await store.createMesh({ meshId, slug: `bench-${meshId.slice(-12)}`, name: "bench", ownerMemberId: `mem_${randomUUID()}`, ownerPubkey: randomBytes(32).toString("hex"), ownerName: "owner", now: 1 });
const sender = created.owner.id;
const r = await store.redeemInvite({ meshId, inviteId: `inv_${randomUUID()}`, maxUses: 1, memberId: `mem_${randomUUID()}`, pubkey: randomBytes(32).toString("hex"), displayName: `r`, role: "member", now: 2 });
const rec = r.member.id;
const times = [];
for (let i = 0; i < 400; i++) {
  const m = { messageId: `msg_${randomUUID()}`, meshId, senderMemberId: sender, targetSpec: "direct", priority: "next", createdAt: Date.now(), clientId: `c${i}`,
    deliveries: [{ recipientMemberId: rec, nonce: randomBytes(24).toString("base64"), ciphertext: randomBytes(300).toString("base64") }] };
  const t0 = performance.now(); await store.enqueueMessages([m]); times.push(performance.now() - t0);
  await new Promise((r) => setTimeout(r, 2));
}
times.sort((a, b) => a - b);
console.log("enqueue p50", times[200].toFixed(3), "p90", times[360].toFixed(3));
await cleanup();
