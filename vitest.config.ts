// Test runner config: unit tests run against TypeScript sources; e2e tests spawn the built CLI.
import { defineConfig } from "vitest/config";
import { fileURLToPath } from "node:url";

const src = (pkg: string): string =>
  fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      "@claudemesh/protocol": src("protocol"),
      "@claudemesh/crypto": src("crypto"),
      "@claudemesh/broker": src("broker"),
      "@claudemesh/client": src("client"),
    },
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // One fast-check seed per run, printed at the start: FC_SEED=<seed> replays a property failure.
    globalSetup: ["test/setup/fast-check-global.ts"],
    setupFiles: ["test/setup/fast-check-seed.ts"],
  },
});
