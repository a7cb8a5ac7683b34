// Process entry for a standalone broker (`node packages/broker/dist/main.js [--port N] [--host H] [--db D]`): signals, exit codes, ready line.
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { createLogger } from "./log.js";
import { defaultDbPath, OptionsError, resolveOptions, type Env, type ResolvedOptions } from "./options.js";
import { startBroker, type RunningBroker } from "./server.js";

const FLAGS: Readonly<Record<string, "port" | "host" | "db" | "logLevel" | "publicUrl">> = {
  "--port": "port",
  "--host": "host",
  "--db": "db",
  "--log-level": "logLevel",
  "--public-url": "publicUrl",
};

/** A broker that cannot start for a reason the operator can fix; the message says how. */
export class StartError extends Error {
  override readonly name = "StartError";
}

/**
 * Refuses a SQLite path whose directory does not exist (a typo would otherwise start an empty
 * broker somewhere unexpected). PostgreSQL URLs and `:memory:` are left to the store.
 */
export function checkDbDirectory(db: string): void {
  if (/^postgres(?:ql)?:\/\//i.test(db) || db === ":memory:") return;
  const dir = dirname(resolve(db));
  if (!existsSync(dir))
    throw new StartError(
      `the directory of the SQLite store ${db} does not exist — create it (mkdir -p ${dir}) or pass another --db path`,
    );
  if (!statSync(dir).isDirectory())
    throw new StartError(`${dir} (the directory of --db ${db}) is not a directory — pass another --db path`);
}

/** Turns a listen/start failure into a sentence with a next step (port in use, no permission, bad address). */
export function describeStartError(error: unknown, host: string, port: number): string {
  const code = (error as { code?: unknown } | null)?.code;
  const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  if (code === "EADDRINUSE")
    return `port ${port} on ${host} is already in use (another broker?) — stop it, or pick another port with --port N (--port 0 picks a free one)`;
  if (code === "EACCES")
    return `no permission to listen on ${where} — ports below 1024 need privileges; pick --port 7900 or another above 1024`;
  if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND" || code === "EAI_AGAIN")
    return `cannot listen on ${where}: ${host} is not an address of this machine — use --host 127.0.0.1, or 0.0.0.0 for every interface`;
  if (error instanceof Error && (error.name === "StartError" || error.name === "StoreUnavailableError"))
    return error.message;
  return `cannot start: ${error instanceof Error ? error.message : String(error)} — check --db (or DATABASE_URL), --host and --port, then try again`;
}

/** Parses `--port N --host H --db D --log-level L` (also `--flag=value`); throws OptionsError on anything else. */
export function parseBrokerArgs(argv: readonly string[]): Partial<ResolvedOptions> {
  const out: Record<string, string | number> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const key = FLAGS[flag];
    if (!key)
      throw new OptionsError(
        `unknown argument ${JSON.stringify(arg)}; expected --port, --host, --db, --public-url or --log-level`,
      );
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || value === "") throw new OptionsError(`${flag} needs a value`);
    out[key] = value;
  }
  // Numbers are validated (with their source named) by resolveOptions.
  return out as Partial<ResolvedOptions>;
}

export interface ProcessIo {
  /** The one "ready" line (SPEC §6: prints one line with its URL when ready). */
  stdout: (line: string) => void;
  exit: (code: number) => void;
}

/**
 * Runs a broker for the life of the process: SIGTERM/SIGINT shut it down gracefully and exit 0;
 * a second signal exits 1 at once. Exit 2 for bad options, 1 when it cannot start.
 */
export async function runBrokerProcess(
  argv: readonly string[],
  env: Env,
  io: ProcessIo = {
    stdout: (line) => void process.stdout.write(`${line}\n`),
    exit: (code) => process.exit(code),
  },
): Promise<RunningBroker | null> {
  let options: ResolvedOptions;
  try {
    options = resolveOptions(parseBrokerArgs(argv), env);
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error;
    process.stderr.write(`claudemesh broker: ${error.message} — see docs/CONFIG.md\n`);
    io.exit(2);
    return null;
  }
  const log = createLogger({ level: options.logLevel });

  let broker: RunningBroker;
  try {
    // The default store lives in the config dir, made on first use; a path given by hand must exist.
    if (options.db === defaultDbPath(env)) mkdirSync(dirname(options.db), { recursive: true, mode: 0o700 });
    else checkDbDirectory(options.db);
    broker = await startBroker({ ...options, logger: log });
  } catch (error) {
    log.error("broker.start_failed", { error });
    process.stderr.write(`claudemesh broker: ${describeStartError(error, options.host, options.port)}\n`);
    io.exit(1);
    return null;
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      log.warn("broker.forced_exit", { signal });
      io.exit(1);
      return;
    }
    stopping = true;
    log.info("broker.signal", { signal });
    broker.close().then(
      () => io.exit(0),
      (error: unknown) => {
        log.error("broker.close_failed", { error });
        io.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  // Edges catch their own errors; anything that still escapes is a bug. Log it as a JSON line
  // (Node's default would print an unstructured stack) and exit non-zero: acked messages are
  // durable in the store, so a supervisor restart loses nothing, while limping on might.
  process.on("uncaughtException", (error) => {
    log.error("process.uncaught_exception", { error });
    io.exit(1);
  });
  process.on("unhandledRejection", (reason) => {
    log.error("process.unhandled_rejection", { error: reason });
    io.exit(1);
  });

  io.stdout(
    `claudemesh broker listening on ${broker.url} (ws: ${broker.wsUrl}, store: ${broker.ctx.store.kind})`,
  );
  return broker;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void runBrokerProcess(process.argv.slice(2), process.env);
}
