// Pure edits of Claude Code's settings object: add or remove claudemesh's status hooks, touching nothing else.
import type { Status } from "@claudemesh/protocol";

/** The hooks claudemesh installs (issue 4 item 5): a prompt starts work, a finished reply means idle. */
export const CLAUDEMESH_HOOKS: readonly { event: string; status: Extract<Status, "working" | "idle"> }[] = [
  { event: "UserPromptSubmit", status: "working" },
  { event: "Stop", status: "idle" },
];

/** Seconds Claude Code gives a hook before cancelling it; ours gives up after 1 s by itself. */
export const HOOK_TIMEOUT_SECONDS = 5;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Thrown when the settings have a shape we must not guess about (we never clobber what we do not understand). */
export class SettingsShapeError extends Error {
  override readonly name = "SettingsShapeError";
}

/** True for a hook command that claudemesh wrote (any node/bin path, either status). */
export function isClaudemeshHookCommand(command: unknown): boolean {
  return typeof command === "string" && /claudemesh(?:\.js)?'?\s+hook\s+(?:working|idle)\s*$/.test(command);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function hooksObject(settings: JsonObject, create: boolean): JsonObject | undefined {
  const hooks = settings.hooks;
  if (hooks === undefined) {
    if (!create) return undefined;
    const fresh: JsonObject = {};
    settings.hooks = fresh;
    return fresh;
  }
  if (!isObject(hooks)) throw new SettingsShapeError('"hooks" is not an object');
  return hooks;
}

function eventGroups(hooks: JsonObject, event: string): Json[] | undefined {
  const groups = hooks[event];
  if (groups === undefined) return undefined;
  if (!Array.isArray(groups)) throw new SettingsShapeError(`"hooks.${event}" is not an array`);
  return groups;
}

/** Every claudemesh hook entry of `event`, with where it sits. */
function findOurs(groups: Json[]): { group: JsonObject; entry: JsonObject }[] {
  const found: { group: JsonObject; entry: JsonObject }[] = [];
  for (const group of groups) {
    if (!isObject(group) || !Array.isArray(group.hooks)) continue;
    for (const entry of group.hooks) {
      if (isObject(entry) && isClaudemeshHookCommand(entry.command)) found.push({ group, entry });
    }
  }
  return found;
}

/** True when `settings` carries any claudemesh hook. */
export function hasClaudemeshHooks(settings: JsonObject): boolean {
  const hooks = hooksObject(settings, false);
  if (!hooks) return false;
  return CLAUDEMESH_HOOKS.some(({ event }) => findOurs(eventGroups(hooks, event) ?? []).length > 0);
}

/**
 * Returns a copy of `settings` with `<command> hook working` on UserPromptSubmit and
 * `<command> hook idle` on Stop, in Claude Code's format
 * (`{"hooks": {"UserPromptSubmit": [{"hooks": [{"type": "command", "command": …}]}]}}`).
 * An existing claudemesh entry is updated in place (e.g. a new node path); other hooks on the
 * same events and every other key stay as they are, in their order.
 */
export function addClaudemeshHooks(settings: JsonObject, cliCommand: string): JsonObject {
  const next = structuredClone(settings);
  const hooks = hooksObject(next, true) as JsonObject;
  for (const { event, status } of CLAUDEMESH_HOOKS) {
    const command = `${cliCommand} hook ${status}`;
    let groups = eventGroups(hooks, event);
    if (!groups) {
      groups = [];
      hooks[event] = groups;
    }
    const ours = findOurs(groups);
    if (ours.length === 0) {
      groups.push({ hooks: [{ type: "command", command, timeout: HOOK_TIMEOUT_SECONDS }] });
      continue;
    }
    for (const { entry } of ours) {
      entry.type = "command";
      entry.command = command;
      entry.timeout = HOOK_TIMEOUT_SECONDS;
    }
  }
  return next;
}

/**
 * Returns a copy of `settings` without claudemesh's hook entries. A group left with no hooks is
 * dropped, then an event left with no groups, then `hooks` if it ends up empty — containers that
 * held other things are kept.
 */
export function removeClaudemeshHooks(settings: JsonObject): JsonObject {
  const next = structuredClone(settings);
  const hooks = hooksObject(next, false);
  if (!hooks) return next;
  let removedAny = false;
  for (const { event } of CLAUDEMESH_HOOKS) {
    const groups = eventGroups(hooks, event);
    if (!groups || findOurs(groups).length === 0) continue; // untouched events stay exactly as they are
    const kept: Json[] = [];
    for (const group of groups) {
      if (!isObject(group) || !Array.isArray(group.hooks)) {
        kept.push(group);
        continue;
      }
      const remaining = group.hooks.filter((e) => !(isObject(e) && isClaudemeshHookCommand(e.command)));
      if (remaining.length === group.hooks.length) kept.push(group);
      else if (remaining.length > 0) kept.push({ ...group, hooks: remaining });
    }
    removedAny = true;
    if (kept.length > 0) hooks[event] = kept;
    else delete hooks[event];
  }
  if (removedAny && Object.keys(hooks).length === 0) delete next.hooks;
  return next;
}

/**
 * `settings` with claudemesh's entries removed and any container they could have lived in
 * dropped when empty (our events' arrays, then `hooks`). Two settings objects with equal traces
 * differ only by what install adds — used to decide whether a backup can be restored verbatim.
 */
export function withoutClaudemeshTraces(settings: JsonObject): JsonObject {
  const next = removeClaudemeshHooks(settings);
  const hooks = next.hooks;
  if (!isObject(hooks)) return next;
  for (const { event } of CLAUDEMESH_HOOKS) {
    const groups = hooks[event];
    if (Array.isArray(groups) && groups.length === 0) delete hooks[event];
  }
  if (Object.keys(hooks).length === 0) delete next.hooks;
  return next;
}
