// Child process for the SQLite crash test: enqueues numbered batches forever and prints each batch
// number on stdout only after its enqueue promise resolved. The parent kills it with SIGKILL.
import { openStore } from "../../src/store/index.js";

const [dbPath, meshId, senderId, recipientId, batchSizeArg] = process.argv.slice(2);
if (!dbPath || !meshId || !senderId || !recipientId) {
  console.error("usage: durability-child <db> <meshId> <senderId> <recipientId> [batchSize]");
  process.exit(2);
}
const batchSize = Number(batchSizeArg ?? 64);
const store = openStore(dbPath);
await store.migrate();
// Bounded: the parent kills us long before this runs out.
for (let batch = 0; batch < 1_000_000; batch++) {
  await store.enqueueMessages(
    Array.from({ length: batchSize }, (_, i) => ({
      messageId: `b${batch}-m${i}`,
      meshId,
      senderMemberId: senderId,
      targetSpec: "direct",
      priority: "next" as const,
      createdAt: Date.now(),
      deliveries: [{ recipientMemberId: recipientId, nonce: "bm9uY2U=", ciphertext: `Y2lwaGVy${i}` }],
    })),
  );
  process.stdout.write(`${batch}\n`);
}
