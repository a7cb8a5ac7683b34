// Keeps packages/protocol pure (ARCHITECTURE.md layout): no node:* or other builtin imports, no I/O, zod as its only dependency.
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const PKG_DIR = fileURLToPath(new URL("../", import.meta.url));
const SRC_DIR = join(PKG_DIR, "src");

/** Every module specifier in a source file: static and type imports, re-exports, dynamic import(), require(). */
function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\s+from\s+)?["']([^"']+)["']/g,
    /\bimport\s*\(\s*["'`]([^"'`]+)["'`]\s*\)/g,
    /\brequire\s*\(\s*["'`]([^"'`]+)["'`]\s*\)/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) found.push(m[1] as string);
  return found;
}

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Why a specifier is not allowed in protocol/src, or null when it is (a sibling `./x.js` or zod). */
function importProblem(spec: string): string | null {
  if (spec.startsWith("node:") || builtins.has(spec) || builtins.has(spec.split("/")[0] as string))
    return "a Node builtin";
  if (spec === "zod") return null;
  if (/^\.\/[a-z0-9-]+\.js$/.test(spec)) return null;
  return "not a sibling ./x.js module or zod";
}

/** Globals and calls that would mean I/O, ambient process state, or timers. */
const IO_PATTERNS: [string, RegExp][] = [
  ["process", /\bprocess\s*[.[]/],
  ["console", /\bconsole\s*\./],
  ["fetch", /\bfetch\s*\(/],
  ["XMLHttpRequest", /\bXMLHttpRequest\b/],
  ["WebSocket", /\bWebSocket\b/],
  ["timers", /\b(?:setTimeout|setInterval|setImmediate|queueMicrotask)\s*\(/],
  ["Buffer", /\bBuffer\s*\./],
  ["file system", /\b(?:readFile|writeFile|readdir|createReadStream|createWriteStream|openSync)\w*\s*\(/],
  ["eval", /\b(?:eval|Function)\s*\(/],
  ["Math.random", /\bMath\.random\s*\(/],
  ["globalThis", /\bglobalThis\b/],
];

function ioProblems(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
  return IO_PATTERNS.filter(([, re]) => re.test(code)).map(([name]) => name);
}

const sources = readdirSync(SRC_DIR)
  .filter((name) => name.endsWith(".ts"))
  .sort()
  .map((name) => ({ name, text: readFileSync(join(SRC_DIR, name), "utf8") }));

describe("purity - the checker itself", () => {
  it("finds builtin imports in every syntax", () => {
    const sample = [
      'import { readFileSync } from "node:fs";',
      "import type { Socket } from 'net';",
      'export * from "node:path";',
      'const c = await import("node:crypto");',
      'const os = require("os");',
      'import "fs/promises";',
    ].join("\n");
    expect(specifiers(sample).map(importProblem)).toEqual(Array(6).fill("a Node builtin"));
  });

  it("allows sibling modules and zod, and nothing else", () => {
    expect(importProblem("./schemas.js")).toBeNull();
    expect(importProblem("zod")).toBeNull();
    expect(importProblem("./schemas")).not.toBeNull();
    expect(importProblem("../../crypto/src/index.js")).not.toBeNull();
    expect(importProblem("ws")).not.toBeNull();
  });

  it("finds I/O in code but not in comments", () => {
    expect(ioProblems("const x = process.env.X;\nconsole.log(x);\nsetTimeout(f, 1);")).toEqual([
      "process",
      "console",
      "timers",
    ]);
    expect(ioProblems("// process.env is not read here\n/* fetch( */ const y = 1;")).toEqual([]);
  });
});

describe("purity - packages/protocol/src", () => {
  it("has source files to check", () => {
    expect(sources.map((s) => s.name)).toContain("index.ts");
    expect(sources.length).toBeGreaterThanOrEqual(7);
  });

  for (const { name, text } of sources) {
    it(`${name} imports only sibling modules and zod`, () => {
      const problems = specifiers(text)
        .map((spec) => [spec, importProblem(spec)] as const)
        .filter(([, problem]) => problem !== null);
      expect(problems).toEqual([]);
    });

    it(`${name} does no I/O`, () => {
      expect(ioProblems(text)).toEqual([]);
    });

    it(`${name} starts with a one-line comment saying what it is for`, () => {
      expect(text.split("\n")[0]).toMatch(/^\/\/ \S.{10,}/);
    });
  }

  it("depends on zod only", () => {
    const pkg = JSON.parse(readFileSync(join(PKG_DIR, "package.json"), "utf8")) as Record<string, unknown>;
    expect(Object.keys((pkg.dependencies ?? {}) as object)).toEqual(["zod"]);
    expect(pkg.peerDependencies).toBeUndefined();
  });
});
