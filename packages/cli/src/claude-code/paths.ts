// Where Claude Code keeps its user settings and MCP registry, and the command line that runs this CLI.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { resolveHome, type Env } from "../config/paths.js";

/** Claude Code's config directory: `CLAUDE_CONFIG_DIR`, else `~/.claude` (HOME-relative). */
export function claudeConfigDir(env: Env): string {
  return env.CLAUDE_CONFIG_DIR || join(resolveHome(env), ".claude");
}

/** User settings, where hooks live: `~/.claude/settings.json`. */
export function claudeSettingsPath(env: Env): string {
  return join(claudeConfigDir(env), "settings.json");
}

/** The copy of settings.json taken before claudemesh first changed it. */
export function settingsBackupPath(settingsPath: string): string {
  return `${settingsPath}.claudemesh-backup`;
}

/** Claude Code's own state file holding user-scope MCP servers: `~/.claude.json` (or inside CLAUDE_CONFIG_DIR). */
export function claudeUserConfigPath(env: Env): string {
  return env.CLAUDE_CONFIG_DIR
    ? join(env.CLAUDE_CONFIG_DIR, ".claude.json")
    : join(resolveHome(env), ".claude.json");
}

/** Absolute path of `packages/cli/bin/claudemesh.js` (the same from src/ under vitest and from dist/). */
export function cliBinPath(): string {
  return fileURLToPath(new URL("../../bin/claudemesh.js", import.meta.url));
}

const SAFE_SHELL_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one word for a POSIX shell (hook commands run through one). */
export function shellQuote(word: string): string {
  return SAFE_SHELL_WORD.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A shell command line from words. */
export function shellCommand(words: readonly string[]): string {
  return words.map(shellQuote).join(" ");
}
