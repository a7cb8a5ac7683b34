// Routes argv to a command, prints help, and turns every outcome into an exit code with one-line errors.
import type { Env } from "../config/index.js";
import { parseArgs } from "./args.js";
import { helpText, usageLine, type Command } from "./command.js";
import { describeError, EXIT_OK, EXIT_USAGE, UsageError } from "./errors.js";
import { eprintln, println, type Io } from "./io.js";

/** A command that takes its raw arguments (e.g. `mcp`, which parses its own flags). */
export interface RawCommand {
  name: string;
  summary: string;
  raw: true;
  runRaw(argv: string[], env: Env, io: Io): Promise<number>;
}

export type AnyCommand = Command | RawCommand;

/**
 * A command known by name and loaded on use: each command pulls in only its own dependencies,
 * so a quick one (a Claude Code hook) does not pay for the broker, the client or the MCP SDK.
 */
export interface CommandEntry {
  name: string;
  /** Shown by the global help, which therefore loads no command module. */
  summary: string;
  load(): Promise<AnyCommand>;
}

export interface CliDefinition {
  version: string;
  commands: CommandEntry[];
  /** Lines shown at the end of the global help (environment variables). */
  footer?: string[];
}

function isRaw(command: AnyCommand): command is RawCommand {
  return "raw" in command;
}

/** Top-level help: every command with its summary (from the entries: no command module is loaded). */
export function globalHelp(cli: CliDefinition): string {
  const commands = cli.commands;
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = [
    "claudemesh — end-to-end encrypted messaging and presence for AI coding-agent sessions",
    "",
    "usage: claudemesh <command> [options]",
    "",
    "commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run 'claudemesh <command> --help' for a command's options.",
    ...(cli.footer ? ["", ...cli.footer] : []),
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * The command named by the first words of argv, and the remaining arguments. The longest name wins,
 * so `agents retire x` is the subcommand and `agents --json` the parent command.
 */
function route(
  cli: CliDefinition,
  argv: readonly string[],
): { entry: CommandEntry; rest: string[] } | undefined {
  let best: { entry: CommandEntry; words: number } | undefined;
  for (const entry of cli.commands) {
    const words = entry.name.split(" ");
    if (words.every((w, i) => argv[i] === w) && words.length > (best?.words ?? 0))
      best = { entry, words: words.length };
  }
  return best && { entry: best.entry, rest: argv.slice(best.words) };
}

/** Families like `mesh` whose subcommand is missing or unknown. */
function groupOf(cli: CliDefinition, word: string | undefined): string[] {
  return cli.commands
    .map((c) => c.name.split(" "))
    .filter((words) => words.length > 1 && words[0] === word)
    .map((words) => words.slice(1).join(" "));
}

/**
 * Runs the CLI in-process: `argv` without node and script. Usage errors print one line and
 * return 2; runtime errors print one line and return 1; never a stack trace (unless
 * CLAUDEMESH_DEBUG is set, for bug reports).
 */
export async function dispatch(
  cli: CliDefinition,
  argv: readonly string[],
  env: Env,
  io: Io,
): Promise<number> {
  const [first] = argv;
  if (first === undefined) {
    io.stderr(globalHelp(cli));
    return EXIT_USAGE;
  }
  if (first === "--help" || first === "-h" || first === "help") {
    const topic =
      first === "help" && argv[1] !== undefined ? await route(cli, argv.slice(1))?.entry.load() : undefined;
    if (topic && !isRaw(topic)) io.stdout(helpText(topic));
    else io.stdout(globalHelp(cli));
    return EXIT_OK;
  }
  if (first === "--version" || first === "-V" || first === "version") {
    println(io, `claudemesh ${cli.version}`);
    return EXIT_OK;
  }
  const routed = route(cli, argv);
  if (!routed) {
    const sub = groupOf(cli, first);
    if (sub.length > 0) {
      eprintln(
        io,
        `claudemesh ${first}: expected a subcommand (${sub.join(", ")}) — try 'claudemesh --help'`,
      );
    } else {
      eprintln(io, `claudemesh: unknown command "${first}" — try 'claudemesh --help'`);
    }
    return EXIT_USAGE;
  }
  const { entry, rest } = routed;
  const prefix = `claudemesh ${entry.name}`;
  let command: AnyCommand | undefined;
  try {
    command = await entry.load();
    if (isRaw(command)) return await command.runRaw(rest, env, io);
    let args;
    try {
      args = parseArgs(command, rest);
    } catch (err) {
      if (err instanceof UsageError) {
        eprintln(io, `${prefix}: ${err.message} — try '${prefix} --help'`);
        return EXIT_USAGE;
      }
      throw err;
    }
    if (args.help) {
      io.stdout(helpText(command));
      return EXIT_OK;
    }
    return await command.run(args, { env, io });
  } catch (err) {
    const { message, exitCode, known } = describeError(err);
    const hint = exitCode === EXIT_USAGE && command && !isRaw(command) ? ` — try '${prefix} --help'` : "";
    eprintln(io, `${prefix}: ${message}${hint}`);
    if (!known && env.CLAUDEMESH_DEBUG) io.stderr(`${err instanceof Error ? err.stack : String(err)}\n`);
    return exitCode;
  }
}

export { usageLine };
