// Join benchmark: the store cost of admitting one member (invite redemption, unique display name)
// as the mesh grows, on a SQLite file (default) or PostgreSQL (--store postgres://…).
//
// usage: node bench/dist/joins.js [--sizes 1000,5000] [--samples 200] [--store URL] [--impl PATH]
//   (npm run bench:joins)
// For each size a fresh mesh is filled to that many members, then `samples` more joins are timed
// one at a time: half under fresh names, half under the name every filler member has (`peer`, so
// the suffix probe runs). --impl loads another build's store module (e.g. an older checkout's
// packages/broker/dist/store/index.js) to compare before and after on the same machine.
import { randomBytes, randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { defaultStoreModule, openBenchStore } from "./lib/store-module.js";

interface MemberLike {
  displayName: string;
}
type Redeem =
  | { kind: "joined"; member: MemberLike }
  | { kind: "existing" | "revoked" | "exhausted"; member?: MemberLike };
interface StoreLike {
  migrate(): Promise<void>;
  close(): Promise<void>;
  createMesh(input: {
    meshId: string;
    slug: string;
    name: string;
    ownerMemberId: string;
    ownerPubkey: string;
    ownerName: string;
    now: number;
  }): Promise<unknown>;
  redeemInvite(input: {
    meshId: string;
    inviteId: string;
    maxUses: number;
    memberId: string;
    pubkey: string;
    displayName: string;
    role: "member";
    now: number;
  }): Promise<Redeem>;
}

function parseArgs(argv: string[]) {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    sizes: (get("--sizes") ?? "1000,5000").split(",").map(Number),
    samples: Number(get("--samples") ?? 200),
    store: get("--store"),
    impl: get("--impl") ?? defaultStoreModule(),
  };
}

async function join1(store: StoreLike, meshId: string, name: string, now: number): Promise<string> {
  const result = await store.redeemInvite({
    meshId,
    inviteId: `inv_${randomUUID()}`,
    maxUses: 1,
    memberId: `mem_${randomUUID()}`,
    pubkey: randomBytes(32).toString("hex"),
    displayName: name,
    role: "member",
    now,
  });
  if (result.kind !== "joined") throw new Error(`join returned ${result.kind}`);
  return result.member.displayName;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const { store, cleanup } = await openBenchStore<StoreLike>(args.impl, args.store, "joins");
  try {
    await store.migrate();
    console.log(`joins: ${args.store ? "PostgreSQL" : "SQLite file"}, store module ${args.impl}`);
    for (const size of args.sizes) {
      const meshId = `mesh_${randomUUID()}`;
      await store.createMesh({
        meshId,
        slug: `bench-${meshId.slice(-12)}`,
        name: "bench",
        ownerMemberId: `mem_${randomUUID()}`,
        ownerPubkey: randomBytes(32).toString("hex"),
        ownerName: "owner",
        now: 1,
      });
      // Fillers: mostly distinct names, plus 32 members named `peer` (peer, peer-2, …).
      for (let i = 1; i < size; i++) await join1(store, meshId, i <= 32 ? "peer" : `member-${i}`, i);
      const fresh: number[] = [];
      const taken: number[] = [];
      for (let s = 0; s < args.samples; s++) {
        const name = s % 2 === 0 ? `new-${s}` : "peer";
        const t0 = performance.now();
        await join1(store, meshId, name, size + s);
        (s % 2 === 0 ? fresh : taken).push(performance.now() - t0);
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      console.log(
        `  ${size} members: fresh name mean ${mean(fresh).toFixed(3)} ms (median ${median(fresh).toFixed(3)}), ` +
          `taken name (suffix ${33}..${32 + taken.length}) mean ${mean(taken).toFixed(3)} ms (median ${median(taken).toFixed(3)})`,
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
