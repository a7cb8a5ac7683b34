// Pure settings edits: claudemesh's hooks are added in Claude Code's format and removed without touching anything else.
import { describe, expect, it } from "vitest";
import {
  addClaudemeshHooks,
  hasClaudemeshHooks,
  hasCurrentClaudemeshHooks,
  isClaudemeshHookCommand,
  removeClaudemeshHooks,
  type JsonObject,
} from "../../src/claude-code/hooks.js";
import { shellCommand, shellQuote } from "../../src/claude-code/paths.js";

const CMD = "/usr/bin/node /opt/cm/bin/claudemesh.js";

describe("claudemesh hooks", () => {
  it("hooks - the whole set in Claude Code's format: async session start, sync prompt/tool/stop, asyncRewake stop", () => {
    const added = addClaudemeshHooks({}, CMD);
    expect(added).toEqual({
      hooks: {
        SessionStart: [
          { hooks: [{ type: "command", command: `${CMD} hook session`, timeout: 5, async: true }] },
        ],
        UserPromptSubmit: [{ hooks: [{ type: "command", command: `${CMD} hook prompt`, timeout: 5 }] }],
        PostToolUse: [{ hooks: [{ type: "command", command: `${CMD} hook tool`, timeout: 5 }] }],
        Stop: [
          { hooks: [{ type: "command", command: `${CMD} hook stop`, timeout: 5 }] },
          { hooks: [{ type: "command", command: `${CMD} hook rewake`, timeout: 660, asyncRewake: true }] },
        ],
      },
    });
    expect(hasCurrentClaudemeshHooks(added)).toBe(true);
  });

  it("hooks - an older install (hook working / hook idle) is replaced by the current set", () => {
    const old: JsonObject = {
      hooks: {
        UserPromptSubmit: [{ hooks: [{ type: "command", command: `${CMD} hook working`, timeout: 5 }] }],
        Stop: [{ hooks: [{ type: "command", command: `${CMD} hook idle`, timeout: 5 }] }],
      },
    };
    expect(hasClaudemeshHooks(old)).toBe(true);
    expect(hasCurrentClaudemeshHooks(old)).toBe(false);
    const upgraded = addClaudemeshHooks(old, CMD);
    expect(JSON.stringify(upgraded)).not.toMatch(/hook (working|idle)/);
    expect(upgraded).toEqual(addClaudemeshHooks({}, CMD));
  });

  it("hooks - other hooks on the same events and unrelated keys are kept, in order", () => {
    const settings: JsonObject = {
      model: "opus",
      hooks: {
        Stop: [{ hooks: [{ type: "command", command: "notify-send done" }] }],
        PreToolUse: [{ matcher: "Bash", hooks: [{ type: "command", command: "guard" }] }],
      },
      permissions: { allow: ["Bash(ls)"] },
    };
    const added = addClaudemeshHooks(settings, CMD);
    expect(Object.keys(added)).toEqual(["model", "hooks", "permissions"]);
    const hooks = added.hooks as Record<string, unknown[]>;
    expect(hooks.Stop).toHaveLength(3);
    expect(hooks.Stop![0]).toEqual({ hooks: [{ type: "command", command: "notify-send done" }] });
    expect(hooks.PreToolUse).toEqual((settings.hooks as Record<string, unknown>).PreToolUse);
    expect(removeClaudemeshHooks(added)).toEqual(settings);
    expect(settings.hooks).not.toHaveProperty("UserPromptSubmit"); // inputs are not mutated
  });

  it("hooks - adding twice is a no-op; a moved install updates the command in place", () => {
    const once = addClaudemeshHooks({}, CMD);
    expect(addClaudemeshHooks(once, CMD)).toEqual(once);
    const moved = addClaudemeshHooks(once, "/new/node /new/claudemesh.js");
    const stop = (moved.hooks as Record<string, { hooks: { command: string }[] }[]>).Stop!;
    expect(stop).toHaveLength(2);
    expect(stop.map((g) => g.hooks[0]!.command)).toEqual([
      "/new/node /new/claudemesh.js hook stop",
      "/new/node /new/claudemesh.js hook rewake",
    ]);
  });

  it("hooks - removal keeps a shared group's other entries and untouched empty containers", () => {
    const shared: JsonObject = {
      hooks: {
        Stop: [
          {
            hooks: [
              { type: "command", command: "a" },
              { type: "command", command: `${CMD} hook idle` },
            ],
          },
        ],
        UserPromptSubmit: [],
        Notification: [],
      },
    };
    expect(removeClaudemeshHooks(shared)).toEqual({
      hooks: {
        Stop: [{ hooks: [{ type: "command", command: "a" }] }],
        UserPromptSubmit: [],
        Notification: [],
      },
    });
    expect(removeClaudemeshHooks({ hooks: {} })).toEqual({ hooks: {} });
  });

  it("hooks - recognises its own commands only", () => {
    expect(isClaudemeshHookCommand(`${CMD} hook working`)).toBe(true);
    expect(isClaudemeshHookCommand("'/my dir/node' '/my dir/claudemesh.js' hook idle")).toBe(true);
    expect(isClaudemeshHookCommand("claudemesh hook idle")).toBe(true);
    for (const word of ["session", "prompt", "tool", "stop", "rewake"])
      expect(isClaudemeshHookCommand(`claudemesh hook ${word}`)).toBe(true);
    expect(isClaudemeshHookCommand("claudemesh hook other")).toBe(false);
    expect(isClaudemeshHookCommand("my-script hook idle")).toBe(false);
    expect(isClaudemeshHookCommand("claudemesh hook idle && rm -rf /")).toBe(false);
    expect(hasClaudemeshHooks({ hooks: { Stop: [{ hooks: [{ command: "x" }] }] } })).toBe(false);
  });

  it("hooks - settings of a shape we do not understand are refused, not clobbered", () => {
    expect(() => addClaudemeshHooks({ hooks: [] }, CMD)).toThrow('"hooks" is not an object');
    expect(() => addClaudemeshHooks({ hooks: { Stop: {} } }, CMD)).toThrow('"hooks.Stop" is not an array');
  });

  it("shell quoting - paths with spaces or quotes survive the shell", () => {
    expect(shellQuote("/usr/bin/node")).toBe("/usr/bin/node");
    expect(shellQuote("/my dir/x")).toBe("'/my dir/x'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellCommand(["/a b/node", "x"])).toBe("'/a b/node' x");
  });
});
