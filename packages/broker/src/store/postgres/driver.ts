// Loads the pg driver on first use, so a broker on SQLite never pays for loading it at start-up.
import { createRequire } from "node:module";
import type pg from "pg";

let driver: typeof pg | undefined;

/** The `pg` module (CommonJS, so it loads synchronously); loaded by the first PostgresStore or listener. */
export function pgDriver(): typeof pg {
  driver ??= createRequire(import.meta.url)("pg") as typeof pg;
  return driver;
}
