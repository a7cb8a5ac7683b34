// Builds the one publishable tarball: the `claudemesh` package with its four workspace packages bundled inside.
//
// Why a staging directory: npm does not bundle workspace packages (they are symlinks hoisted to the
// root node_modules), and five separately published tarballs would make `npm install -g claudemesh.tgz`
// look the @claudemesh/* packages up on the registry. So this script lays out
//   <stage>/package.json                  packages/cli/package.json, publishable, with bundleDependencies
//   <stage>/bin, dist                     the CLI (compiled JavaScript and type declarations only)
//   <stage>/node_modules/@claudemesh/*    protocol, crypto, broker, client: package.json + dist
// and runs `npm pack` on it. Third-party dependencies of the bundled packages become dependencies of
// `claudemesh` itself, so npm installs them from the registry (or its cache) next to it.
//
// usage: node scripts/pack.mjs [--out DIR] [--no-build] [--keep-stage]
//   prints the tarball's absolute path on stdout (last line); progress goes to stderr.
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Workspace packages bundled into the tarball, by directory under packages/. */
const BUNDLED = ["protocol", "crypto", "broker", "client"];

function fail(message) {
  process.stderr.write(`pack: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const args = { out: REPO, build: true, keepStage: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--no-build") args.build = false;
    else if (arg === "--keep-stage") args.keepStage = true;
    else if (arg === "--out" && argv[i + 1]) args.out = resolve(argv[++i]);
    else {
      process.stderr.write(
        `pack: unknown argument ${JSON.stringify(arg)}\nusage: node scripts/pack.mjs [--out DIR] [--no-build] [--keep-stage]\n`,
      );
      process.exit(2);
    }
  }
  return args;
}

const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));

/**
 * Copies `<pkg>/dist` into `to`, keeping only what the package runs or types with: `.js` and `.d.ts`
 * files whose source still exists under `<pkg>/src` (tsc -b never deletes outputs of removed sources),
 * and no source maps (they point at sources the tarball does not ship) or build info.
 */
function copyDist(pkgDir, to) {
  const dist = join(pkgDir, "dist");
  if (!existsSync(dist)) fail(`${relative(REPO, dist)} is missing — run 'npm run build' first`);
  let count = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(path);
        continue;
      }
      const rel = relative(dist, path);
      const match = /^(.*?)(\.d\.ts|\.js)$/.exec(rel);
      if (!match || !existsSync(join(pkgDir, "src", `${match[1]}.ts`))) continue;
      mkdirSync(dirname(join(to, rel)), { recursive: true });
      cpSync(path, join(to, rel));
      count++;
    }
  };
  walk(dist);
  return count;
}

/** The published form of a package.json: no dev-only fields, never private. */
function publishedManifest(pkg, extra) {
  const { private: _private, scripts: _scripts, devDependencies: _dev, files: _files, ...rest } = pkg;
  return { ...rest, ...extra };
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.build) {
    process.stderr.write("pack: building (tsc -b)\n");
    const built = spawnSync("npx", ["tsc", "-b", "packages/cli/tsconfig.build.json"], {
      cwd: REPO,
      stdio: ["ignore", "inherit", "inherit"],
    });
    if (built.status !== 0) fail("the build failed (see above)");
  }

  const root = readJson(join(REPO, "package.json"));
  const cliDir = join(REPO, "packages", "cli");
  const cli = readJson(join(cliDir, "package.json"));
  const stage = mkdtempSync(join(tmpdir(), "claudemesh-pack-"));
  try {
    // Third-party dependencies of everything bundled, hoisted to the top package (first range wins;
    // the workspace uses one version of each, so they agree).
    const thirdParty = {};
    const bundled = [];
    for (const name of BUNDLED) {
      const dir = join(REPO, "packages", name);
      const pkg = readJson(join(dir, "package.json"));
      const target = join(stage, "node_modules", ...pkg.name.split("/"));
      const files = copyDist(dir, join(target, "dist"));
      // Their third-party dependencies move up to `claudemesh` (resolved from there by Node's lookup):
      // listed here, npm would count them as part of the bundle and not install them.
      const internal = Object.fromEntries(
        Object.entries(pkg.dependencies ?? {}).filter(([dep]) => dep.startsWith("@claudemesh/")),
      );
      writeFileSync(
        join(target, "package.json"),
        `${JSON.stringify(publishedManifest(pkg, { dependencies: internal }), null, 2)}\n`,
      );
      for (const [dep, range] of Object.entries(pkg.dependencies ?? {})) {
        if (!dep.startsWith("@claudemesh/")) thirdParty[dep] ??= range;
      }
      bundled.push(pkg.name);
      process.stderr.write(`pack: bundled ${pkg.name} (${files} files)\n`);
    }
    const dependencies = { ...thirdParty };
    for (const [dep, range] of Object.entries(cli.dependencies ?? {})) dependencies[dep] = range;
    const missing = bundled.filter((name) => dependencies[name] === undefined);
    // Bundled packages must also be dependencies, or npm leaves them out of the tarball.
    for (const name of missing)
      dependencies[name] = readJson(join(stage, "node_modules", ...name.split("/"), "package.json")).version;

    const files = copyDist(cliDir, join(stage, "dist"));
    cpSync(join(cliDir, "bin"), join(stage, "bin"), { recursive: true });
    cpSync(join(REPO, "README.md"), join(stage, "README.md"));
    mkdirSync(join(stage, "docs"), { recursive: true });
    for (const doc of ["CLI.md", "CONFIG.md"]) cpSync(join(REPO, "docs", doc), join(stage, "docs", doc));
    const manifest = publishedManifest(cli, {
      description: root.description,
      engines: root.engines,
      license: root.license ?? cli.license ?? "UNLICENSED",
      files: ["bin", "dist", "docs", "README.md"],
      dependencies: Object.fromEntries(Object.entries(dependencies).sort(([a], [b]) => a.localeCompare(b))),
      bundleDependencies: bundled,
    });
    writeFileSync(join(stage, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    process.stderr.write(
      `pack: claudemesh (${files} files), dependencies: ${Object.keys(thirdParty)
        .concat(Object.keys(cli.dependencies ?? {}))
        .filter((d) => !d.startsWith("@claudemesh/"))
        .filter((d, i, a) => a.indexOf(d) === i)
        .join(", ")}\n`,
    );

    mkdirSync(args.out, { recursive: true });
    const packed = spawnSync(
      "npm",
      ["pack", stage, "--pack-destination", args.out, "--json", "--ignore-scripts"],
      {
        cwd: stage,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    if (packed.status !== 0) fail("npm pack failed (see above)");
    const [info] = JSON.parse(packed.stdout);
    const tarball = join(args.out, info.filename);
    process.stderr.write(
      `pack: ${info.filename}: ${info.entryCount} files, ${(info.size / 1024).toFixed(0)} KiB packed, ${(info.unpackedSize / 1024).toFixed(0)} KiB unpacked; bundles ${info.bundled.join(", ")}\n`,
    );
    if (args.keepStage) process.stderr.write(`pack: staging directory kept at ${stage}\n`);
    process.stdout.write(`${tarball}\n`);
  } finally {
    if (!args.keepStage) rmSync(stage, { recursive: true, force: true });
  }
}

main();
