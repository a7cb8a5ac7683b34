// Compiles the store sources and a child script to plain ESM in a temp dir so a test can run them
// in a separate Node process (Node 20 cannot run TypeScript; the store needs no build step here).
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const brokerRoot = fileURLToPath(new URL("../../", import.meta.url));
const repoRoot = join(brokerRoot, "..", "..");

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

export interface Transpiled {
  /** Absolute path of the compiled `entry`. */
  entry: string;
  dispose(): void;
}

/** `entry` is a path relative to packages/broker (e.g. "test/store/durability-child.ts"). */
export function transpileForChild(entry: string): Transpiled {
  const out = mkdtempSync(join(tmpdir(), "cm-store-js-"));
  // Bare imports (better-sqlite3, pg) resolve through the workspace's node_modules.
  symlinkSync(join(repoRoot, "node_modules"), join(out, "node_modules"), "dir");
  writeFileSync(join(out, "package.json"), JSON.stringify({ type: "module" }));
  for (const file of [...tsFiles(join(brokerRoot, "src", "store")), join(brokerRoot, entry)]) {
    const { outputText } = ts.transpileModule(readFileSync(file, "utf8"), {
      fileName: file,
      compilerOptions: {
        module: ts.ModuleKind.ES2022,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
    });
    const target = join(out, relative(brokerRoot, file)).replace(/\.ts$/, ".js");
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  return {
    entry: join(out, entry.replace(/\.ts$/, ".js")),
    dispose: () => rmSync(out, { recursive: true, force: true }),
  };
}
