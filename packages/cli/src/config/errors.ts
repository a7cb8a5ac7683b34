// ConfigError: the one local error family of the config module — each message is one line naming the file and the fix.

/** Local (never on the wire) codes for config and identity problems (ARCHITECTURE.md practice 2). */
export const CONFIG_ERROR_CODES = [
  /** config.json does not exist yet. */
  "config_missing",
  /** config.json (or an agent/session file) could not be read or written (permissions, disk). */
  "config_io",
  /** The file is not valid JSON. */
  "config_corrupt",
  /** The JSON does not have the expected shape. */
  "config_invalid",
  /** No mesh is configured at all. */
  "no_meshes",
  /** `--mesh SLUG` names no configured mesh. */
  "unknown_mesh",
  /** Several meshes are configured and none was chosen. */
  "ambiguous_mesh",
  /** An agent or display name is not a valid DisplayName (SPEC §1). */
  "invalid_name",
  /** Every candidate agent name is held by a live session. */
  "names_exhausted",
  /** A short-lived lock could not be taken in time. */
  "lock_timeout",
] as const;

export type ConfigErrorCode = (typeof CONFIG_ERROR_CODES)[number];

/** A config problem a person can act on; `message` is one line and never contains key material. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly code: ConfigErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** True for ConfigError instances (also across duplicated module copies). */
export function isConfigError(value: unknown): value is ConfigError {
  return value instanceof ConfigError || (value instanceof Error && value.name === "ConfigError");
}

/** The errno-style code of a Node fs error, if any. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === "object" && err !== null && "code" in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}
