// Start-up benchmark: `claudemesh --help`, `hook`, `mcp` to its initialize reply and `broker` to listening, as ratios to `node -e 0` measured in the same run.
//
// usage: node bench/dist/startup.js [--runs N] [--bin PATH]   (npm run bench:startup)
// Every sample is one fresh process, spawned from here and timed from spawn() to the event that
// matters (exit, the initialize reply, the ready line). Commands are interleaved round-robin so a
// slow moment on this shared machine hits every command alike; the median of N runs is reported.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

interface Case {
  name: string;
  target: number | undefined;
  args: string[];
  /** Resolves when the measured moment is reached; the child is then killed. */
  until: "exit" | "initialize" | "listening";
  stdin?: string;
}

const INITIALIZE = `${JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "1" } },
})}\n`;

function parseArgs(argv: string[]): { runs: number; bin: string } {
  let runs = 15;
  let bin = fileURLToPath(new URL("../../packages/cli/bin/claudemesh.js", import.meta.url));
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--runs") runs = Number(argv[++i]);
    else if (argv[i] === "--bin") bin = argv[++i] as string;
    else throw new Error(`unknown argument ${argv[i]}; usage: startup.js [--runs N] [--bin PATH]`);
  }
  if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs must be a positive integer");
  return { runs, bin };
}

function sample(c: Case, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, c.args, { env, stdio: ["pipe", "pipe", "ignore"] });
    const elapsed = (): number => Number(process.hrtime.bigint() - start) / 1e6;
    let out = "";
    let done = false;
    const finish = (ms: number): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (child.exitCode === null) child.kill("SIGKILL");
      resolve(ms);
    };
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${c.name}: no result in 20 s`));
    }, 20_000);
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (c.until === "initialize" && out.includes("\n")) finish(elapsed());
      if (c.until === "listening" && out.includes("listening on")) finish(elapsed());
    });
    child.once("exit", (code) => {
      if (c.until === "exit") finish(elapsed());
      else if (!done) reject(new Error(`${c.name} exited ${code} before it was ready`));
    });
    if (c.stdin !== undefined) child.stdin.end(c.stdin);
    else if (c.until === "initialize") child.stdin.write(INITIALIZE);
    else child.stdin.end();
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

async function main(): Promise<void> {
  const { runs, bin } = parseArgs(process.argv.slice(2));
  const scratch = mkdtempSync(join(tmpdir(), "claudemesh-bench-startup-"));
  const env = {
    ...process.env,
    HOME: scratch,
    CLAUDEMESH_CONFIG_DIR: join(scratch, "cfg"),
    CLAUDEMESH_LOG_LEVEL: "silent",
  };
  const cases: Case[] = [
    { name: "node -e 0", target: undefined, args: ["-e", "0"], until: "exit" },
    { name: "claudemesh --help", target: 1.5, args: [bin, "--help"], until: "exit" },
    {
      name: "claudemesh hook prompt",
      target: 1.5,
      args: [bin, "hook", "prompt"],
      until: "exit",
      stdin: "{}",
    },
    { name: "claudemesh mcp → initialize reply", target: 2.5, args: [bin, "mcp"], until: "initialize" },
    {
      name: "claudemesh broker → listening",
      target: 3,
      args: [bin, "broker", "--port", "0", "--db", join(scratch, "bench.db")],
      until: "listening",
    },
  ];
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  try {
    for (const c of cases) await sample(c, env); // warm the file cache and create the store once
    for (let i = 0; i < runs; i++) for (const c of cases) samples.get(c.name)!.push(await sample(c, env));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const base = median(samples.get("node -e 0")!);
  const rows = cases.map((c) => {
    const ms = median(samples.get(c.name)!);
    const ratio = ms / base;
    const verdict = c.target === undefined ? "baseline" : ratio <= c.target ? "met" : "NOT met";
    return `| ${c.name} | ${ms.toFixed(1)} ms | ${ratio.toFixed(2)}× | ${c.target === undefined ? "—" : `≤ ${c.target}×`} | ${verdict} |`;
  });
  process.stdout.write(
    [
      `Start-up, median of ${runs} runs each (interleaved), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
      "",
      "| command | median | vs node -e 0 | target | |",
      "|---|---|---|---|---|",
      ...rows,
      "",
    ].join("\n"),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench startup: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
