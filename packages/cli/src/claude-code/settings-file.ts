// Reads and writes Claude Code's settings.json: atomic writes, the original formatting kept, a backup before the first change.
import { existsSync, rmSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { readFileIfExists, writeFileAtomic } from "../config/atomic.js";
import { ensurePrivateDir } from "../config/paths.js";
import { CliError } from "../cli/errors.js";
import {
  addClaudemeshHooks,
  hasClaudemeshHooks,
  removeClaudemeshHooks,
  SettingsShapeError,
  withoutClaudemeshTraces,
  type JsonObject,
} from "./hooks.js";
import { settingsBackupPath } from "./paths.js";

/** Mode for a settings.json we create (Claude Code's own default; it holds no secrets). */
const NEW_SETTINGS_MODE = 0o644;

interface SettingsText {
  text: string | undefined;
  value: JsonObject;
}

function readSettings(path: string): SettingsText {
  let text: string | undefined;
  try {
    text = readFileIfExists(path);
  } catch (err) {
    throw new CliError(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  if (text === undefined || text.trim() === "") return { text, value: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CliError(
      `${path} is not valid JSON — fix it (Claude Code cannot read it either), then run this again`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CliError(`${path} is not a JSON object — fix it, then run this again`);
  }
  return { text, value: value as JsonObject };
}

/** The indentation the file already uses (default two spaces), so a rewrite looks like the original. */
function detectIndent(text: string | undefined): string | number {
  const match = text === undefined ? null : /^[ \t]+(?=")/m.exec(text);
  return match ? match[0] : 2;
}

function serialize(value: JsonObject, original: string | undefined): string {
  const body = JSON.stringify(value, null, detectIndent(original));
  // Keep the original's final newline choice; new files end with one.
  return original === undefined || original.endsWith("\n") ? `${body}\n` : body;
}

function modeOf(path: string): number {
  try {
    return statSync(path).mode & 0o777;
  } catch {
    return NEW_SETTINGS_MODE;
  }
}

function editHooks<T>(fn: () => T, path: string): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SettingsShapeError) {
      throw new CliError(`${path}: ${err.message} — fix it by hand, then run this again`);
    }
    throw err;
  }
}

export type HookInstallResult = "added" | "updated" | "unchanged";

/**
 * Adds claudemesh's hooks to `path`. Running it twice changes nothing the second time. Before
 * the first change (no claudemesh hooks yet) the file's exact bytes are copied to
 * `settings.json.claudemesh-backup`; a missing file has nothing to back up (and any stale backup
 * goes, so uninstall knows to delete the file it created).
 */
export function installHooks(path: string, cliCommand: string): HookInstallResult {
  return planHookInstall(path, cliCommand).apply();
}

/** What installHooks would do, read and checked without writing; `apply()` writes it. */
export interface HookInstallPlan {
  result: HookInstallResult;
  apply(): HookInstallResult;
}

/**
 * Reads and checks `path` (valid JSON, a shape we can edit) and computes the change, writing
 * nothing, so `install` can check every step before it changes anything.
 */
export function planHookInstall(path: string, cliCommand: string): HookInstallPlan {
  const current = readSettings(path);
  const next = editHooks(() => addClaudemeshHooks(current.value, cliCommand), path);
  if (current.text !== undefined && isDeepStrictEqual(next, current.value))
    return { result: "unchanged", apply: () => "unchanged" };
  const firstChange = !hasClaudemeshHooks(current.value);
  const result: HookInstallResult = firstChange ? "added" : "updated";
  return {
    result,
    apply() {
      const backup = settingsBackupPath(path);
      ensurePrivateDirIfMissing(dirname(path));
      if (firstChange) {
        if (current.text !== undefined) writeFileAtomic(backup, current.text, modeOf(path));
        else rmSync(backup, { force: true });
      }
      writeFileAtomic(path, serialize(next, current.text), modeOf(path));
      return result;
    },
  };
}

export type HookUninstallResult = "restored" | "removed" | "deleted" | "absent";

/**
 * Removes claudemesh's hooks from `path`, reversing installHooks exactly: when what remains
 * equals the backup, the backup's bytes are put back (byte-identical) and the backup removed;
 * when there was no file before install and nothing else remains, the file is deleted again;
 * otherwise (the user changed other settings meanwhile) only our entries are taken out.
 */
export function uninstallHooks(path: string): HookUninstallResult {
  if (!existsSync(path)) return "absent";
  const current = readSettings(path);
  if (!editHooks(() => hasClaudemeshHooks(current.value), path)) return "absent";
  const next = editHooks(() => removeClaudemeshHooks(current.value), path);
  const backup = settingsBackupPath(path);
  const backupText = readFileIfExists(backup);
  const backupValue = backupText === undefined ? undefined : parseOrUndefined(backupText);
  if (
    backupText !== undefined &&
    backupValue !== undefined &&
    isDeepStrictEqual(withoutClaudemeshTraces(current.value), withoutClaudemeshTraces(backupValue))
  ) {
    writeFileAtomic(path, backupText, modeOf(path));
    rmSync(backup, { force: true });
    return "restored";
  }
  if (backupText === undefined && Object.keys(next).length === 0) {
    rmSync(path, { force: true });
    return "deleted";
  }
  writeFileAtomic(path, serialize(next, current.text), modeOf(path));
  return "removed";
}

function parseOrUndefined(text: string): JsonObject | undefined {
  if (text.trim() === "") return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as JsonObject)
      : undefined;
  } catch {
    return undefined;
  }
}

function ensurePrivateDirIfMissing(dir: string): void {
  // Claude Code's own directory: create it if needed, but never change the mode of an existing one.
  if (!existsSync(dir)) ensurePrivateDir(dir);
}
