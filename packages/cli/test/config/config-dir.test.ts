// CLI, hooks and broker resolve the config dir and the default store alike (SPEC §6), whatever the environment.
import { describe, expect, it } from "vitest";
import { defaultDbPath } from "@claudemesh/broker";
import { configPaths, resolveConfigDir } from "../../src/config/index.js";
import { hookConfigDir } from "../../src/hooks/socket-path.js";

const ENVS = [
  {},
  { HOME: "/home/x" },
  { HOME: "" },
  { CLAUDEMESH_CONFIG_DIR: "/etc/cm" },
  { CLAUDEMESH_CONFIG_DIR: "relative/cm", HOME: "/home/x" },
  { CLAUDEMESH_CONFIG_DIR: "", HOME: "/home/y" },
];

describe("one config-dir rule", () => {
  it.each(ENVS)("agrees for %j", (env) => {
    const dir = resolveConfigDir(env);
    // The hooks keep their own copy (they load Node built-ins only); it must give the same answer.
    expect(hookConfigDir(env)).toBe(dir);
    expect(configPaths(env).brokerDb).toBe(defaultDbPath(env));
    expect(defaultDbPath(env).startsWith(dir)).toBe(true);
  });
});
