// Runs the CLI in-process (runCli + memoryIo) and starts real brokers (temp SQLite, or a given store target) for command tests.
import { join } from "node:path";
import { startBroker, type RunningBroker } from "@claudemesh/broker";
import { runCli } from "../../src/main.js";
import { memoryIo } from "../../src/cli/io.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `claudemesh <argv…>` in this process with `env`; captures output. */
export async function cli(
  argv: string[],
  env: Record<string, string>,
  options: { stdin?: string; cwd?: string } = {},
): Promise<CliResult> {
  const io = memoryIo(options);
  const code = await runCli(argv, env, io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText };
}

/** A broker on 127.0.0.1, ephemeral port, SQLite file in `dir`; the caller closes it. */
export function testBroker(dir: string): Promise<RunningBroker> {
  return testBrokerOn(join(dir, "broker.db"));
}

/** Asserts the shape every error must have: one line, no stack trace. */
export function isOneLine(text: string): boolean {
  const lines = text.trimEnd().split("\n");
  return lines.length === 1 && !/\n\s+at /.test(text) && !text.includes("    at ");
}

/** A broker on 127.0.0.1, ephemeral port, on a store target (SQLite path or postgres:// URL); the caller closes it. */
export function testBrokerOn(db: string): Promise<RunningBroker> {
  return startBroker({ host: "127.0.0.1", port: 0, db, logLevel: "silent" });
}
