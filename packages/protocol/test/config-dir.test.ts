// The one config-dir rule (SPEC §6) and the one package version shared by every package.
import { readFileSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { CLAUDEMESH_VERSION, configDirFor, defaultBrokerDbFor } from "../src/index.js";

const platform = { homedir: () => "/home/os", resolve: (...s: string[]) => resolve("/cwd", ...s) };

describe("configDirFor", () => {
  it("uses CLAUDEMESH_CONFIG_DIR, made absolute, when set and non-empty", () => {
    expect(configDirFor({ CLAUDEMESH_CONFIG_DIR: "/etc/cm", HOME: "/home/x" }, platform)).toBe("/etc/cm");
    expect(configDirFor({ CLAUDEMESH_CONFIG_DIR: "rel/cm" }, platform)).toBe("/cwd/rel/cm");
  });

  it("falls back to HOME, then the OS home, joined with .claudemesh", () => {
    expect(configDirFor({ CLAUDEMESH_CONFIG_DIR: "", HOME: "/home/x" }, platform)).toBe(
      "/home/x/.claudemesh",
    );
    expect(configDirFor({ HOME: "" }, platform)).toBe("/home/os/.claudemesh");
    expect(configDirFor({}, { homedir, resolve })).toBe(resolve(homedir(), ".claudemesh"));
  });

  it("puts the broker's default store in the config dir", () => {
    expect(defaultBrokerDbFor({ CLAUDEMESH_CONFIG_DIR: "/x" }, platform)).toBe("/x/broker.db");
    expect(defaultBrokerDbFor({ HOME: "/h" }, platform)).toBe("/h/.claudemesh/broker.db");
  });
});

describe("CLAUDEMESH_VERSION", () => {
  it("is the version in every package.json of the workspace", () => {
    const packages = new URL("../../", import.meta.url);
    const versions = readdirSync(packages).map((dir) => {
      const pkg = JSON.parse(readFileSync(new URL(`${dir}/package.json`, packages), "utf8")) as {
        name: string;
        version: string;
      };
      return [pkg.name, pkg.version];
    });
    expect(versions.length).toBeGreaterThanOrEqual(5);
    for (const [name, version] of versions)
      expect({ name, version }).toEqual({ name, version: CLAUDEMESH_VERSION });
  });
});
