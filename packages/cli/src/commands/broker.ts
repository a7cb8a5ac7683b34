// `claudemesh broker`: runs a broker in this process until SIGINT/SIGTERM (SPEC §2, §6).
import { dirname } from "node:path";
import { configPaths, ensurePrivateDir, type Env } from "../config/index.js";
import { intOption, stringOption } from "../cli/args.js";
import type { Command } from "../cli/command.js";
import { EXIT_OK } from "../cli/errors.js";
import { println } from "../cli/io.js";

/** The store a broker uses: `--db`, else CLAUDEMESH_DB / DATABASE_URL, else `<configDir>/broker.db`. */
export function chooseDb(flagValue: string | undefined, env: Env): { db: string; isDefault: boolean } {
  const given = flagValue ?? (env.CLAUDEMESH_DB || env.DATABASE_URL || undefined);
  return given !== undefined
    ? { db: given, isDefault: false }
    : { db: configPaths(env).brokerDb, isDefault: true };
}

/** `sqlite: /path` or `postgres: postgres://user@host/db` with any password masked. */
export function describeDb(db: string): string {
  if (!/^postgres(?:ql)?:\/\//.test(db)) return `sqlite: ${db}`;
  try {
    const url = new URL(db);
    if (url.password !== "") url.password = "***";
    return `postgres: ${url.toString()}`;
  } catch {
    return "postgres";
  }
}

export const brokerCommand: Command = {
  name: "broker",
  summary:
    "Run a broker: HTTP + WebSocket on one port, SQLite store in the config dir unless --db says otherwise.",
  positionals: [],
  options: {
    port: {
      type: "string",
      placeholder: "N",
      description: "port to listen on (default 7900; 0 picks a free one)",
    },
    host: { type: "string", placeholder: "H", description: "address to bind (default 127.0.0.1)" },
    db: {
      type: "string",
      placeholder: "PATH|postgres://URL",
      description: "SQLite file or PostgreSQL URL (default: DATABASE_URL, else <config dir>/broker.db)",
    },
  },
  details: [
    "Prints one line with its URL when ready; logs are JSON lines on stderr.",
    "Every tuning option has an environment variable (see docs/CONFIG.md).",
  ],
  async run(args, { env, io }) {
    const port = intOption(args, "port", 0, 65_535);
    const host = stringOption(args, "host");
    const { db, isDefault } = chooseDb(stringOption(args, "db"), env);
    if (isDefault) ensurePrivateDir(dirname(db));
    // Loaded on demand: the broker pulls in the store drivers, which other commands never need.
    const { startBroker } = await import("@claudemesh/broker");
    const interrupted = io.interrupted();
    const broker = await startBroker({
      env,
      db,
      ...(port !== undefined ? { port } : {}),
      ...(host !== undefined ? { host } : {}),
    });
    println(io, `claudemesh broker listening on ${broker.url} (${describeDb(db)})`);
    await new Promise<void>((resolve) => {
      if (interrupted.aborted) resolve();
      else interrupted.addEventListener("abort", () => resolve(), { once: true });
    });
    await broker.close();
    return EXIT_OK;
  },
};
