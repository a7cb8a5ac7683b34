// The CLI package version, read without loading anything else (help and the MCP server's early answer need it fast).
import { readFileSync } from "node:fs";

/**
 * The CLI package version (shown by --version): the one version of every package (a test checks it
 * equals the protocol's CLAUDEMESH_VERSION). Read from package.json, not imported from the protocol
 * package, because that import loads every zod schema and `--help` must start fast.
 */
export const CLI_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
})();
