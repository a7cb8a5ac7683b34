// Hook overhead: what one claudemesh hook adds to a Claude Code prompt, beside a bare `node -e 0` measured in the same run.
// A hook's cost is its whole process (start, ask the session's MCP server over the local socket, print, exit);
// the MCP server's end is played by a socket server here that answers like the real one (empty, or a message as context).
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ms, ratio, summarize } from "./lib/stats.js";

const ROUNDS = process.argv.includes("--quick") ? 15 : 40;
const CLI = fileURLToPath(new URL("../../packages/cli/bin/claudemesh.js", import.meta.url));

/** Wall time of one process run, in ms, with `input` on its stdin. */
function timeRun(args: string[], env: NodeJS.ProcessEnv, input: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ["pipe", "ignore", "ignore"] });
    child.on("error", reject);
    child.on("exit", () => resolve(performance.now() - started));
    child.stdin.end(input);
  });
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "cm-bench-hooks-"));
  const configDir = join(root, "cm");
  mkdirSync(join(configDir, "run"), { recursive: true, mode: 0o700 });
  // The hook looks for its server by its parent's pid: this process is the parent here.
  const socketPath = join(configDir, "run", `${process.pid}.sock`);
  const context = JSON.stringify({
    stdout: JSON.stringify({
      hookSpecificOutput: { hookEventName: "UserPromptSubmit", additionalContext: "x".repeat(600) },
    }),
  });
  let answer = "{}";
  const server = createServer((socket) => {
    socket.once("data", () => socket.end(`${answer}\n`));
    socket.on("error", () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  const env = { ...process.env, CLAUDEMESH_CONFIG_DIR: configDir, HOME: root };
  const input = JSON.stringify({ session_id: "s", transcript_path: "/t.jsonl", cwd: root, prompt: "hi" });
  const cases: Array<{ name: string; args: string[]; env: NodeJS.ProcessEnv; before?: () => void }> = [
    { name: "node -e 0 (baseline)", args: ["-e", "0"], env },
    {
      name: "hook prompt, no claudemesh server in the session",
      args: [CLI, "hook", "prompt"],
      env: { ...env, CLAUDEMESH_CONFIG_DIR: join(root, "none") },
    },
    {
      name: "hook prompt, server answers nothing pending",
      args: [CLI, "hook", "prompt"],
      env,
      before: () => (answer = "{}"),
    },
    {
      name: "hook prompt, server answers a message as context",
      args: [CLI, "hook", "prompt"],
      env,
      before: () => (answer = context),
    },
  ];
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  // Interleaved rounds, so machine load drifts over every case alike.
  for (let round = 0; round < ROUNDS + 3; round++) {
    for (const c of cases) {
      c.before?.();
      const t = await timeRun(c.args, c.env, input);
      if (round >= 3) samples.get(c.name)!.push(t);
    }
  }
  server.close();
  rmSync(root, { recursive: true, force: true });
  const base = summarize(samples.get(cases[0]!.name)!).p50;
  console.log(`\n### Hook overhead (${ROUNDS} interleaved runs each, wall time per process)\n`);
  console.log("| case | p50 | p90 | p50 / node -e 0 |");
  console.log("|---|---|---|---|");
  for (const c of cases) {
    const s = summarize(samples.get(c.name)!);
    console.log(`| ${c.name} | ${ms(s.p50)} | ${ms(s.p90)} | ${ratio(s.p50, base)} |`);
  }
  console.log(
    "\nTarget (SPEC §5): a synchronous hook ≤ 1.3× node -e 0; status-only hooks run async (add nothing).",
  );
}

await main();
