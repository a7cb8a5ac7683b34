// `claudemesh broker`: runs a broker in this process until SIGINT/SIGTERM (SPEC §2, §6).
import { hostname } from "node:os";
import { dirname } from "node:path";
// paths.js, not the config index: the index loads crypto and the config schemas, which a broker start does not need.
import { configPaths, ensurePrivateDir, type Env } from "../config/paths.js";
import { intOption, stringOption } from "../cli/args.js";
import type { Command } from "../cli/command.js";
import { CliError, EXIT_OK, EXIT_USAGE } from "../cli/errors.js";
import { println } from "../cli/io.js";

/** Addresses that mean "every interface": a link must name the machine instead. */
const WILDCARD_HOSTS = new Set(["0.0.0.0", "::", "[::]"]);

/**
 * The URL to put in invites: `--public-url`, else CLAUDEMESH_PUBLIC_URL, else — when bound to every
 * interface on a fixed port — `http://<this machine's hostname>:<port>`; undefined otherwise (then
 * the URL a client used to reach the broker is the one it shares).
 */
export function choosePublicUrl(
  flagValue: string | undefined,
  env: Env,
  host: string,
  port: number,
): string | undefined {
  const given = flagValue ?? (env.CLAUDEMESH_PUBLIC_URL || undefined);
  if (given !== undefined) return given;
  if (WILDCARD_HOSTS.has(host) && port !== 0) return `http://${hostname()}:${port}`;
  return undefined;
}

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
    host: {
      type: "string",
      placeholder: "H",
      description: "address to bind (default 127.0.0.1; 0.0.0.0 for other machines)",
    },
    "public-url": {
      type: "string",
      placeholder: "URL",
      description:
        "URL other machines reach this broker at, put in invite links (default: CLAUDEMESH_PUBLIC_URL; with --host 0.0.0.0, http://<hostname>:<port>)",
    },
    db: {
      type: "string",
      placeholder: "PATH|postgres://URL",
      description: "SQLite file or PostgreSQL URL (default: DATABASE_URL, else <config dir>/broker.db)",
    },
  },
  details: [
    "Prints one line with its URL when ready; logs are JSON lines on stderr.",
    "Every tuning option has an environment variable (see docs/CONFIG.md).",
    "Other machines: claudemesh broker --host 0.0.0.0 --public-url https://mesh.example.com (TLS: see README).",
  ],
  async run(args, { env, io }) {
    const port = intOption(args, "port", 0, 65_535);
    const host = stringOption(args, "host");
    const { db, isDefault } = chooseDb(stringOption(args, "db"), env);
    // Loaded on demand: the broker pulls in the store drivers, which other commands never need.
    const broker = await import("@claudemesh/broker");
    let options;
    try {
      options = broker.resolveOptions(
        {
          db,
          ...(port !== undefined ? { port } : {}),
          ...(host !== undefined ? { host } : {}),
        },
        env,
      );
      const publicUrl = choosePublicUrl(stringOption(args, "public-url"), env, options.host, options.port);
      if (publicUrl !== undefined) options.publicUrl = broker.checkPublicUrl(publicUrl, "--public-url");
    } catch (err) {
      // A bad flag or environment value is a usage error (exit 2), as documented.
      if (err instanceof broker.OptionsError)
        throw new CliError(`${err.message} — see docs/CONFIG.md`, EXIT_USAGE);
      throw err;
    }
    if (isDefault) ensurePrivateDir(dirname(db));
    const interrupted = io.interrupted();
    let running;
    try {
      broker.checkDbDirectory(db);
      running = await broker.startBroker(options);
    } catch (err) {
      throw new CliError(broker.describeStartError(err, options.host, options.port));
    }
    const reach = options.publicUrl ? `; invites will point at ${options.publicUrl}` : "";
    println(io, `claudemesh broker listening on ${running.url} (${describeDb(db)})${reach}`);
    await new Promise<void>((resolve) => {
      if (interrupted.aborted) resolve();
      else interrupted.addEventListener("abort", () => resolve(), { once: true });
    });
    await running.close();
    return EXIT_OK;
  },
};
