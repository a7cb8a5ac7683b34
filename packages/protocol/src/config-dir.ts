// Where claudemesh keeps its files (SPEC §6): the one rule for the config dir and the broker's default store, used by broker and CLI.

/** The environment the rule reads; `process.env` fits. */
export type ConfigEnv = Readonly<Record<string, string | undefined>>;

/** The two platform answers the rule needs (node:os `homedir`, node:path `resolve`); this package stays pure. */
export interface PathPlatform {
  homedir(): string;
  resolve(...segments: string[]): string;
}

/** Name of the config dir under the home directory. */
export const CONFIG_DIR_NAME = ".claudemesh";
/** File name of the embedded SQLite store inside the config dir. */
export const BROKER_DB_FILE = "broker.db";

/**
 * The config dir: `CLAUDEMESH_CONFIG_DIR` (made absolute) when set and non-empty, else
 * `<home>/.claudemesh`, where home is `HOME` when set and non-empty (tests use a temp HOME), else the OS answer.
 */
export function configDirFor(env: ConfigEnv, platform: PathPlatform): string {
  const override = env.CLAUDEMESH_CONFIG_DIR;
  if (override !== undefined && override !== "") return platform.resolve(override);
  const home = env.HOME !== undefined && env.HOME !== "" ? env.HOME : platform.homedir();
  return platform.resolve(home, CONFIG_DIR_NAME);
}

/** The broker's default store: `broker.db` in the config dir. */
export function defaultBrokerDbFor(env: ConfigEnv, platform: PathPlatform): string {
  return platform.resolve(configDirFor(env, platform), BROKER_DB_FILE);
}
