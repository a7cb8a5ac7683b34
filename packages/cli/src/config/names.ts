// Agent names (SPEC §1): derived from the working directory, checked against the protocol's DisplayNameSchema.
import { basename } from "node:path";
import { DisplayNameSchema, MAX_NAME_CHARS, describeIssues } from "@claudemesh/protocol";
import { ConfigError } from "./errors.js";

/** Used when nothing usable is left of the directory name (e.g. `/`). */
export const FALLBACK_AGENT_NAME = "agent";

/**
 * Turns arbitrary text into a valid display name: characters outside the allowed set become
 * `-`, runs of `-` collapse, leading/trailing separators go, and the result is cut to the
 * maximum length. Returns FALLBACK_AGENT_NAME when nothing remains.
 */
export function sanitizeName(raw: string): string {
  let name = raw
    .normalize("NFKD")
    .replace(/[^A-Za-z0-9 _.@+-]/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^[\s.+-]+/, "")
    .slice(0, MAX_NAME_CHARS)
    .replace(/[\s-]+$/, "");
  if (!DisplayNameSchema.safeParse(name).success) name = FALLBACK_AGENT_NAME;
  return name;
}

/** The default agent name for a session started in `cwd`: its sanitized basename. */
export function defaultAgentName(cwd: string): string {
  return sanitizeName(basename(cwd));
}

/** `base` for n = 1, else `base-n`, with `base` shortened so the result stays within the length cap. */
export function nameWithSuffix(base: string, n: number): string {
  if (n <= 1) return base;
  const suffix = `-${n}`;
  const head = base.slice(0, MAX_NAME_CHARS - suffix.length).replace(/\s+$/, "");
  return `${head}${suffix}`;
}

/** Throws ConfigError `invalid_name` unless `name` is a valid display name; `what` says which option it came from. */
export function assertValidName(name: string, what: string): string {
  const result = DisplayNameSchema.safeParse(name);
  if (!result.success) {
    throw new ConfigError(
      "invalid_name",
      `${what} "${name}" is not valid: ${describeIssues(result.error).replace(/^\(root\): /, "")}`,
    );
  }
  return result.data;
}
