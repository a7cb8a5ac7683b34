// Ack-batch benchmark: one store write for the `shown` reports (or plain acks) of many recipients
// arriving together, as the broker's ack batcher makes it, on SQLite (default) or PostgreSQL.
//
// usage: node bench/dist/acks.js [--recipients 1000] [--rounds 5] [--store URL] [--impl PATH]
//   (npm run bench:acks)
// Each round queues one direct message to each of N recipients, then times one recordReceiptsMany
// with every recipient's report of its copy. --impl loads another build's store module (e.g. an
// older checkout's packages/broker/dist/store/index.js) to compare on the same machine.
import { randomBytes, randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { defaultStoreModule, openBenchStore } from "./lib/store-module.js";

interface Input {
  recipientMemberId: string;
  delivered: string[];
  shown: string[];
  now: number;
  pushTo?: ReadonlySet<string>;
}
interface StoreLike {
  migrate(): Promise<void>;
  close(): Promise<void>;
  createMesh(input: Record<string, unknown>): Promise<{ owner: { id: string } } | null>;
  redeemInvite(input: Record<string, unknown>): Promise<{ kind: string; member?: { id: string } }>;
  enqueueMessages(messages: readonly Record<string, unknown>[]): Promise<unknown>;
  recordReceiptsMany(inputs: readonly Input[]): Promise<unknown[]>;
}

function arg(argv: string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const n = Number(arg(argv, "--recipients") ?? 1000);
  const rounds = Number(arg(argv, "--rounds") ?? 5);
  const url = arg(argv, "--store");
  const impl = arg(argv, "--impl") ?? defaultStoreModule();
  const { store, cleanup } = await openBenchStore<StoreLike>(impl, url, "acks");
  try {
    await store.migrate();
    const meshId = `mesh_${randomUUID()}`;
    const created = await store.createMesh({
      meshId,
      slug: `bench-${meshId.slice(-12)}`,
      name: "bench",
      ownerMemberId: `mem_${randomUUID()}`,
      ownerPubkey: randomBytes(32).toString("hex"),
      ownerName: "owner",
      now: 1,
    });
    const sender = created!.owner.id;
    const recipients: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = await store.redeemInvite({
        meshId,
        inviteId: `inv_${randomUUID()}`,
        maxUses: 1,
        memberId: `mem_${randomUUID()}`,
        pubkey: randomBytes(32).toString("hex"),
        displayName: `r${i}`,
        role: "member",
        now: 2 + i,
      });
      recipients.push(r.member!.id);
    }
    const pushTo = new Set([sender]);
    console.log(`acks: ${url ? "PostgreSQL" : "SQLite file"}, ${n} recipients, store module ${impl}`);
    for (const kind of ["shown", "ack"] as const) {
      const times: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const messages = recipients.map((recipientMemberId) => ({
          messageId: `msg_${randomUUID()}`,
          meshId,
          senderMemberId: sender,
          targetSpec: "direct",
          priority: "next",
          createdAt: Date.now(),
          deliveries: [
            {
              recipientMemberId,
              nonce: randomBytes(24).toString("base64"),
              ciphertext: randomBytes(48).toString("base64"),
            },
          ],
        }));
        await store.enqueueMessages(messages);
        const inputs: Input[] = messages.map((m, i) => ({
          recipientMemberId: recipients[i]!,
          delivered: kind === "ack" ? [m.messageId] : [],
          shown: kind === "shown" ? [m.messageId] : [],
          now: Date.now(),
          pushTo,
        }));
        const t0 = performance.now();
        const changes = await store.recordReceiptsMany(inputs);
        times.push(performance.now() - t0);
        if (changes.length !== n) throw new Error(`expected ${n} changes, got ${changes.length}`);
      }
      times.sort((a, b) => a - b);
      const median = times[Math.floor(times.length / 2)]!;
      console.log(
        `  ${kind === "shown" ? "shown reports" : "plain acks   "}: median ${median.toFixed(1)} ms per batch of ${n} (${((median * 1000) / n).toFixed(1)} µs per recipient)`,
      );
    }
  } finally {
    await cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
