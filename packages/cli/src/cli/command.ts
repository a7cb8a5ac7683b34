// The shape of one CLI command and its help text.
import type { Env } from "../config/index.js";
import { positionalUsage, type ArgsSpec, type ParsedArgs } from "./args.js";
import type { Io } from "./io.js";

/** What a command gets besides its parsed arguments. */
export interface CommandContext {
  env: Env;
  io: Io;
}

/** One command: its name (`mesh create`), help, argument spec and implementation. */
export interface Command extends ArgsSpec {
  name: string;
  summary: string;
  /** Extra help lines (examples, notes), shown after the options. */
  details?: string[];
  /** Returns the exit code. Throws UsageError (exit 2) or a runtime error (exit 1). */
  run(args: ParsedArgs, ctx: CommandContext): Promise<number>;
}

/** The full usage line, e.g. `claudemesh send <to> <message> [--priority now|next|low] [--mesh SLUG]`. */
export function usageLine(command: Command): string {
  const opts = Object.entries(command.options).map(([name, o]) =>
    o.type === "boolean" ? `[--${name}]` : `[--${name} ${o.placeholder ?? "VALUE"}]`,
  );
  return ["claudemesh", command.name, positionalUsage(command), ...opts].filter((s) => s !== "").join(" ");
}

/** `--help` text for one command. */
export function helpText(command: Command): string {
  const lines = [`usage: ${usageLine(command)}`, "", command.summary];
  const options = Object.entries(command.options);
  const labels = options.map(([name, o]) => {
    const short = o.short ? `-${o.short}, ` : "";
    return `${short}--${name}${o.type === "string" ? ` ${o.placeholder ?? "VALUE"}` : ""}`;
  });
  const width = Math.max(...labels.map((l) => l.length), "-h, --help".length);
  lines.push("", "options:");
  options.forEach(([, o], i) => lines.push(`  ${(labels[i] as string).padEnd(width)}  ${o.description}`));
  lines.push(`  ${"-h, --help".padEnd(width)}  show this help`);
  if (command.details) lines.push("", ...command.details);
  return `${lines.join("\n")}\n`;
}
