// Pure edits of Claude Code's settings object: add or remove claudemesh's hooks, touching nothing else.

/** One hook claudemesh installs: `<cli> hook <word>` on `event`. */
export interface ClaudemeshHook {
  event: string;
  word: "session" | "prompt" | "tool" | "stop" | "rewake";
  /** Runs in the background: adds nothing to the prompt (status-only hooks). */
  async?: boolean;
  /** Runs in the background and wakes the idle model when it exits 2 (its stderr is shown). */
  asyncRewake?: boolean;
  /** Seconds Claude Code gives it before cancelling. */
  timeout: number;
}

/** Seconds Claude Code gives a synchronous hook; ours gives up after 1 s by itself. */
export const HOOK_TIMEOUT_SECONDS = 5;

/**
 * The hooks claudemesh installs (SPEC §5.2). They only ask the session's MCP server over its
 * local socket: the session start is reported in the background; a prompt and each tool result
 * pick up pending messages as context; a stop blocks once for a pending `now` message; the
 * rewake hook waits in the background and wakes an idle session when a message arrives that no
 * other route could deliver.
 */
export const CLAUDEMESH_HOOKS: readonly ClaudemeshHook[] = [
  { event: "SessionStart", word: "session", async: true, timeout: HOOK_TIMEOUT_SECONDS },
  { event: "UserPromptSubmit", word: "prompt", timeout: HOOK_TIMEOUT_SECONDS },
  { event: "PostToolUse", word: "tool", timeout: HOOK_TIMEOUT_SECONDS },
  { event: "Stop", word: "stop", timeout: HOOK_TIMEOUT_SECONDS },
  { event: "Stop", word: "rewake", asyncRewake: true, timeout: 660 },
];

/** Every event claudemesh has ever hooked (older versions: `hook working` / `hook idle`), for clean removal. */
const OUR_EVENTS = [...new Set([...CLAUDEMESH_HOOKS.map((h) => h.event), "UserPromptSubmit", "Stop"])];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Thrown when the settings have a shape we must not guess about (we never clobber what we do not understand). */
export class SettingsShapeError extends Error {
  override readonly name = "SettingsShapeError";
}

const HOOK_COMMAND = /claudemesh(?:\.js)?'?\s+hook\s+(working|idle|session|prompt|tool|stop|rewake)\s*$/;

/** True for a hook command that claudemesh wrote (any node/bin path, any hook word, this version's or an older one). */
export function isClaudemeshHookCommand(command: unknown): boolean {
  return typeof command === "string" && HOOK_COMMAND.test(command);
}

/** The hook word of a claudemesh command (`prompt`, … or an older `working`/`idle`). */
function hookWord(command: unknown): string | undefined {
  return typeof command === "string" ? HOOK_COMMAND.exec(command)?.[1] : undefined;
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
  return OUR_EVENTS.some((event) => findOurs(eventGroups(hooks, event) ?? []).length > 0);
}

/** True when `settings` carries exactly this version's hook set (what doctor checks). */
export function hasCurrentClaudemeshHooks(settings: JsonObject): boolean {
  const hooks = hooksObject(settings, false);
  if (!hooks) return false;
  return CLAUDEMESH_HOOKS.every(({ event, word }) =>
    findOurs(eventGroups(hooks, event) ?? []).some(({ entry }) => hookWord(entry.command) === word),
  );
}

function hookEntry(hook: ClaudemeshHook, cliCommand: string): JsonObject {
  return {
    type: "command",
    command: `${cliCommand} hook ${hook.word}`,
    timeout: hook.timeout,
    ...(hook.async ? { async: true } : {}),
    ...(hook.asyncRewake ? { asyncRewake: true } : {}),
  };
}

/**
 * Returns a copy of `settings` with this version's hook set (CLAUDEMESH_HOOKS) in Claude Code's
 * format (`{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": …}]}]}}`). Earlier
 * claudemesh entries (another bin path, older hook words) are replaced; other hooks on the same
 * events and every other key stay as they are, in their order.
 */
export function addClaudemeshHooks(settings: JsonObject, cliCommand: string): JsonObject {
  const next = removeClaudemeshHooks(settings);
  const hooks = hooksObject(next, true) as JsonObject;
  for (const hook of CLAUDEMESH_HOOKS) {
    let groups = eventGroups(hooks, hook.event);
    if (!groups) {
      groups = [];
      hooks[hook.event] = groups;
    }
    groups.push({ hooks: [hookEntry(hook, cliCommand)] });
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
  for (const event of OUR_EVENTS) {
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
  for (const event of OUR_EVENTS) {
    const groups = hooks[event];
    if (Array.isArray(groups) && groups.length === 0) delete hooks[event];
  }
  if (Object.keys(hooks).length === 0) delete next.hooks;
  return next;
}
