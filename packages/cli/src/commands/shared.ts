// Helpers shared by several commands: default broker URL and display name, slug/name validation, table output.
import { userInfo } from "node:os";
import { DEFAULT_HOST, DEFAULT_PORT, SlugSchema } from "@claudemesh/protocol";
import { assertValidName, sanitizeName, type Env } from "../config/index.js";
import { UsageError } from "../cli/errors.js";

/** The broker a new mesh lives on: `--broker`, else CLAUDEMESH_BROKER_URL, else the local default (SPEC §2). */
export function defaultBrokerUrl(env: Env): string {
  return env.CLAUDEMESH_BROKER_URL || `http://${DEFAULT_HOST}:${DEFAULT_PORT}`;
}

/** The name a person appears under: `--as`/`--name` when given (validated), else their login name, sanitized. */
export function personName(given: string | undefined, env: Env, option: string): string {
  if (given !== undefined) {
    try {
      return assertValidName(given, option);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  let login = env.USER || env.LOGNAME || "";
  if (login === "") {
    try {
      login = userInfo().username;
    } catch {
      login = "";
    }
  }
  return sanitizeName(login || "me");
}

/** Validates a mesh slug argument (SPEC §2 POST /meshes), as a usage error. */
export function checkSlug(slug: string): string {
  if (!SlugSchema.safeParse(slug).success) {
    throw new UsageError(
      `mesh slug "${slug}" must be 2–40 lowercase letters, digits and inner dashes (e.g. my-team)`,
    );
  }
  return slug;
}

/** Renders rows as left-aligned columns separated by two spaces (last column not padded). */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all
    .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  "))
    .join("\n");
}

/** Stable JSON output: two-space indent and a final newline. */
export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
