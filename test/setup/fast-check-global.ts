// Vitest global setup: picks one fast-check seed per run (FC_SEED or random), prints it once, hands it to workers.
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    fcSeed: number;
  }
}

/** The seed from FC_SEED (an integer), or a fresh random 32-bit one. */
function chooseSeed(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === "") return (Math.random() * 2 ** 31) | 0;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer, got "${raw}"`);
  return seed;
}

export default function setup(project: TestProject): void {
  const seed = chooseSeed(process.env.FC_SEED);
  project.provide("fcSeed", seed);
  console.log(`fast-check seed: ${seed} (replay a property failure with FC_SEED=${seed})`);
}
