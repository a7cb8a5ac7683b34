// Reads and writes one JSON file checked by a zod schema, turning every failure into a one-line ConfigError.
import type { z } from "zod";
import { describeIssues } from "@claudemesh/protocol";
import { readFileIfExists, writeFileAtomic } from "./atomic.js";
import { ConfigError, errnoCode } from "./errors.js";
import { FILE_MODE } from "./paths.js";

/** How to tell a person to recover from a broken file of this kind. */
export interface JsonFileKind {
  /** e.g. "config", "agent key file". */
  what: string;
  /** e.g. "delete it and run 'claudemesh join <link>' again". */
  remedy: string;
}

/**
 * Parses the file at `path` with `schema`; undefined when it does not exist. A file that is
 * unreadable, not JSON, or the wrong shape is a ConfigError naming the path and the remedy —
 * never a stack trace and never the file's contents (they may hold keys).
 */
export function readJsonFile<T>(path: string, schema: z.ZodType<T>, kind: JsonFileKind): T | undefined {
  let text: string | undefined;
  try {
    text = readFileIfExists(path);
  } catch (err) {
    throw new ConfigError(
      "config_io",
      `cannot read ${kind.what} ${path} (${errnoCode(err) ?? "error"}) — check its permissions`,
    );
  }
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError("config_corrupt", `${kind.what} ${path} is not valid JSON — ${kind.remedy}`);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ConfigError(
      "config_invalid",
      `${kind.what} ${path} has the wrong shape (${describeIssues(result.error)}) — ${kind.remedy}`,
    );
  }
  return result.data;
}

/** Validates `value` and writes it atomically with mode 0600 (SPEC §6), pretty-printed with a final newline. */
export function writeJsonFile<T>(path: string, schema: z.ZodType<T>, value: T, kind: JsonFileKind): void {
  const checked = schema.parse(value);
  try {
    writeFileAtomic(path, `${JSON.stringify(checked, null, 2)}\n`, FILE_MODE);
  } catch (err) {
    throw new ConfigError(
      "config_io",
      `cannot write ${kind.what} ${path} (${errnoCode(err) ?? "error"}) — check its permissions`,
    );
  }
}
