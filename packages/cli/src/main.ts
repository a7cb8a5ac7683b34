// The `claudemesh` program: runCli for in-process use and tests, runFromProcess for the bin.
import type { Env } from "./config/index.js";
import { dispatch } from "./cli/dispatcher.js";
import { describeError } from "./cli/errors.js";
import { processIo, type Io } from "./cli/io.js";
import { CLI_VERSION } from "./cli/version.js";
import { COMMANDS } from "./commands/index.js";

export { CLI_VERSION } from "./cli/version.js";

/** Environment variables every command may read, shown by `claudemesh --help`. */
export const ENVIRONMENT_HELP = [
  "environment:",
  "  CLAUDEMESH_CONFIG_DIR          config and keys (default ~/.claudemesh)",
  "  CLAUDEMESH_MESH                mesh to use when several are configured and --mesh is not given",
  "  CLAUDEMESH_BROKER_URL          broker for 'mesh create' (default http://127.0.0.1:7900)",
  "  CLAUDEMESH_PUBLIC_URL          URL other machines reach 'broker' at, put in invite links",
  "  CLAUDEMESH_CREATION_TOKEN      mesh-creation token for 'mesh create' (and for 'broker' to require one)",
  "  DATABASE_URL                   PostgreSQL store for 'broker' (default: SQLite in the config dir)",
  "  CLAUDEMESH_CONNECT_TIMEOUT_MS  how long send/peers/inbox/status wait for the broker (default 5000)",
  "  CLAUDEMESH_CLAUDE_BIN          the claude binary 'install' uses (default: claude on PATH)",
  "  CLAUDEMESH_DEBUG               set to show why a hook did nothing, and stack traces of internal errors",
];

/** Runs `claudemesh <argv…>` in-process and resolves to the exit code (ARCHITECTURE.md practice 7). */
export function runCli(argv: readonly string[], env: Env, io: Io): Promise<number> {
  return dispatch({ version: CLI_VERSION, commands: COMMANDS, footer: ENVIRONMENT_HELP }, argv, env, io);
}

/** Long-running commands manage their own lifetime; everything else is cut off shortly after it returns. */
const LONG_RUNNING = new Set(["broker", "mcp"]);
/** Grace for stdout to drain before a stuck handle is cut off. */
const EXIT_GRACE_MS = 2_000;

/** Entry point of bin/claudemesh.js: runs the CLI on process.argv and sets the exit code. */
export async function runFromProcess(): Promise<void> {
  const argv = process.argv.slice(2);
  const command = argv[0] ?? "";
  if (command !== "mcp") {
    // A bug that escapes a command still gets one line, not a stack trace.
    const onFatal = (err: unknown): void => {
      process.stderr.write(`claudemesh ${command}: ${describeError(err).message}\n`);
      process.exit(1);
    };
    process.on("uncaughtException", onFatal);
    process.on("unhandledRejection", onFatal);
  }
  const code = await runCli(argv, process.env, processIo());
  process.exitCode = code;
  if (command === "hook") process.exit(code); // a hook must never linger
  if (!LONG_RUNNING.has(command)) setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
}
