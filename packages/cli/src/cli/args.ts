// A small strict argument parser: declared options only, exact positional counts, `--flag value` and `--flag=value`.
import { UsageError } from "./errors.js";

export interface OptionSpec {
  type: "string" | "boolean";
  /** Shown in help, e.g. "SLUG", "N". */
  placeholder?: string;
  description: string;
  /** One-letter alias, e.g. "n" for -n. */
  short?: string;
}

export interface PositionalSpec {
  name: string;
  optional?: boolean;
}

/** Everything the parser and help text need to know about one command. */
export interface ArgsSpec {
  positionals: PositionalSpec[];
  options: Record<string, OptionSpec>;
}

export interface ParsedArgs {
  positionals: string[];
  /** Values of given options only; booleans are true when present. */
  options: Record<string, string | true | undefined>;
  /** True when --help / -h was given (everything else is then ignored). */
  help: boolean;
}

/** `<to> <message> [SLUG]`: the positional part of a usage line. */
export function positionalUsage(spec: ArgsSpec): string {
  return spec.positionals.map((p) => (p.optional ? `[${p.name}]` : `<${p.name}>`)).join(" ");
}

function findOption(spec: ArgsSpec, token: string): [string, OptionSpec] | undefined {
  if (token.startsWith("--")) {
    const name = token.slice(2);
    const option = spec.options[name];
    return option ? [name, option] : undefined;
  }
  const short = token.slice(1);
  return Object.entries(spec.options).find(([, o]) => o.short === short);
}

/**
 * Parses `argv` against `spec`. Unknown options, missing values, repeated options, and a
 * wrong number of positionals are UsageErrors with a one-line message. `--` ends options, so
 * a message that starts with `-` can still be passed (`claudemesh send bob -- -1 is wrong`).
 */
export function parseArgs(spec: ArgsSpec, argv: readonly string[]): ParsedArgs {
  const positionals: string[] = [];
  const options: Record<string, string | true | undefined> = {};
  let help = false;
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (onlyPositionals || arg === "-" || !arg.startsWith("-")) {
      positionals.push(arg);
      continue;
    }
    if (arg === "--") {
      onlyPositionals = true;
      continue;
    }
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const token = eq === -1 ? arg : arg.slice(0, eq);
    const found = findOption(spec, token);
    if (!found) throw new UsageError(`unknown option ${token}`);
    const [name, option] = found;
    if (options[name] !== undefined) throw new UsageError(`option --${name} given more than once`);
    if (option.type === "boolean") {
      if (eq !== -1) throw new UsageError(`option --${name} takes no value`);
      options[name] = true;
      continue;
    }
    const value = eq !== -1 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === "" || (eq === -1 && value.startsWith("--"))) {
      throw new UsageError(`option --${name} needs a value (${option.placeholder ?? "VALUE"})`);
    }
    options[name] = value;
  }
  if (help) return { positionals, options, help };
  const required = spec.positionals.filter((p) => !p.optional).length;
  if (positionals.length < required || positionals.length > spec.positionals.length) {
    throw new UsageError(
      spec.positionals.length === 0
        ? `takes no arguments, got "${positionals[0]}"`
        : `expected ${positionalUsage(spec)}`,
    );
  }
  return { positionals, options, help };
}

/** A string option's value (parseArgs guarantees strings for string options). */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.options[name];
  return typeof value === "string" ? value : undefined;
}

/** Whether a boolean option was given. */
export function flag(args: ParsedArgs, name: string): boolean {
  return args.options[name] === true;
}

/** Parses a positive integer option, or throws a UsageError naming it. */
export function intOption(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const raw = stringOption(args, name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

/** Parses a choice option (e.g. --priority now|next|low), or throws a UsageError listing the choices. */
export function choiceOption<T extends string>(
  args: ParsedArgs,
  name: string,
  choices: readonly T[],
): T | undefined {
  const raw = stringOption(args, name);
  if (raw === undefined) return undefined;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new UsageError(`--${name} must be one of ${choices.join(", ")}, got "${raw}"`);
  }
  return raw as T;
}

/** Checks a positional against a fixed set of choices (e.g. status idle|working|dnd). */
export function choicePositional<T extends string>(value: string, what: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`${what} must be one of ${choices.join(", ")}, got "${value}"`);
  }
  return value as T;
}
