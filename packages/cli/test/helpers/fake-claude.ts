// A stand-in `claude` binary for install tests: records `claude mcp add/remove` where Claude Code does, and logs each call.
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const SCRIPT = String.raw`
const fs = require("node:fs");
const path = require("node:path");
const argv = process.argv.slice(2);
fs.appendFileSync(process.env.FAKE_CLAUDE_LOG, argv.join(" ") + "\n");
if (process.env.FAKE_CLAUDE_FAIL && argv[1] === process.env.FAKE_CLAUDE_FAIL) {
  process.stderr.write("boom: cannot write config\n");
  process.exit(3);
}
const [group, verb, , scope, name] = argv;
if (group !== "mcp" || (verb !== "add" && verb !== "remove")) process.exit(0);
const userFile = process.env.CLAUDE_CONFIG_DIR
  ? path.join(process.env.CLAUDE_CONFIG_DIR, ".claude.json")
  : path.join(process.env.HOME, ".claude.json");
const file = scope === "project" ? path.join(process.cwd(), ".mcp.json") : userFile;
let data = {};
try { data = JSON.parse(fs.readFileSync(file, "utf8")); } catch {}
let servers;
if (scope === "local") {
  data.projects ??= {};
  data.projects[process.cwd()] ??= {};
  servers = data.projects[process.cwd()].mcpServers ??= {};
} else servers = data.mcpServers ??= {};
if (verb === "remove") delete servers[name];
else {
  const rest = argv.slice(5);
  const env = {};
  while (rest[0] === "-e") { const [k, ...v] = rest[1].split("="); env[k] = v.join("="); rest.splice(0, 2); }
  if (rest[0] === "--") rest.shift();
  servers[name] = { type: "stdio", command: rest[0], args: rest.slice(1), env };
}
fs.mkdirSync(path.dirname(file), { recursive: true });
fs.writeFileSync(file, JSON.stringify(data, null, 2));
// Test hook: make a later step of install fail by putting a file where a directory must go.
if (verb === "add" && process.env.FAKE_CLAUDE_SABOTAGE && !fs.existsSync(process.env.FAKE_CLAUDE_SABOTAGE))
  fs.writeFileSync(process.env.FAKE_CLAUDE_SABOTAGE, "");
`;

/** Writes the stand-in into `dir`; set CLAUDEMESH_CLAUDE_BIN=bin and FAKE_CLAUDE_LOG=log in the env. */
export function fakeClaude(dir: string): { bin: string; log: string; env: Record<string, string> } {
  const bin = join(dir, "claude");
  const log = join(dir, "claude.log");
  writeFileSync(bin, `#!${process.execPath}\n${SCRIPT}`);
  chmodSync(bin, 0o755);
  writeFileSync(log, "");
  return { bin, log, env: { CLAUDEMESH_CLAUDE_BIN: bin, FAKE_CLAUDE_LOG: log } };
}
