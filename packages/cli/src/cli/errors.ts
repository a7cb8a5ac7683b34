// CLI error types and the one place that turns any error into a one-line message and an exit code.

/** Exit codes: 0 ok, 1 runtime failure, 2 usage error (ARCHITECTURE.md practice 7). */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Wrong arguments: exit 2 with a one-line hint pointing at `--help`. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** A runtime failure a person can act on (local state, refused operation); exit 1. */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
  }
}

/**
 * Error types whose message is written for people (no stack trace, no key material). Matched by
 * name, not instanceof, so this module imports nothing heavy (hooks must start fast) and
 * duplicated module copies still match.
 */
const KNOWN_ERRORS = new Set([
  "CliError",
  "ConfigError",
  "ClientError",
  "InviteError",
  "OptionsError",
  "CryptoArgumentError",
]);

/** Collapses whitespace so every message stays on one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/**
 * The message and exit code for an error thrown by a command. Known error types keep their
 * message; anything else is a bug and is reported as such, still on one line (the stack is
 * printed only when CLAUDEMESH_DEBUG is set).
 */
export function describeError(err: unknown): { message: string; exitCode: number; known: boolean } {
  if (err instanceof UsageError) return { message: oneLine(err.message), exitCode: EXIT_USAGE, known: true };
  if (err instanceof CliError) return { message: oneLine(err.message), exitCode: err.exitCode, known: true };
  if (err instanceof Error && KNOWN_ERRORS.has(err.name)) {
    return { message: oneLine(err.message), exitCode: EXIT_FAILURE, known: true };
  }
  const text = err instanceof Error ? err.message : String(err);
  return { message: oneLine(`unexpected error: ${text}`), exitCode: EXIT_FAILURE, known: false };
}
