#!/usr/bin/env node
// Entry point of the `claudemesh` command: runs the compiled CLI. `hook` takes a fast path that loads
// only node:net and node:fs (SPEC §5: a synchronous hook adds at most 1.3× a bare `node -e 0`).
if (process.argv[2] === "hook" && process.argv.length === 4) {
  const { runHook } = await import("../dist/hooks/entry.js");
  process.exitCode = await runHook(process.argv[3]);
} else {
  const { runFromProcess } = await import("../dist/main.js");
  await runFromProcess();
}
