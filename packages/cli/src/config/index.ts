// Public API of the config module: config dir, config.json, agent identities and the session registry.
export { ConfigError, isConfigError, CONFIG_ERROR_CODES, type ConfigErrorCode } from "./errors.js";
export {
  resolveConfigDir,
  resolveHome,
  configPaths,
  ensurePrivateDir,
  DIR_MODE,
  FILE_MODE,
  type Env,
  type ConfigPaths,
} from "./paths.js";
export { writeFileAtomic, readFileIfExists } from "./atomic.js";
export {
  loadConfig,
  saveConfig,
  updateConfig,
  upsertMesh,
  findMesh,
  selectMesh,
  emptyConfig,
  type LoadConfigOptions,
} from "./config.js";
export {
  CONFIG_VERSION,
  ConfigSchema,
  MeshEntrySchema,
  type Config,
  type MeshEntry,
  type AgentKeyFile,
  type SessionAgent,
  type SessionRecord,
} from "./schema.js";
export {
  sanitizeName,
  defaultAgentName,
  nameWithSuffix,
  assertValidName,
  FALLBACK_AGENT_NAME,
} from "./names.js";
export {
  loadAgentKey,
  agentKeyPath,
  listAgentNames,
  removeMeshAgents,
  removeAgentKeyByPubkey,
} from "./agent-keys.js";
export {
  acquireAgentIdentity,
  type AcquireAgentOptions,
  type AgentIdentity,
  type AgentKeypair,
  type AgentMesh,
} from "./agents.js";
export {
  registerSession,
  findSessionsForHook,
  listLiveSessions,
  type RegisterSessionOptions,
  type SessionRegistration,
  type FindSessionOptions,
} from "./sessions.js";
export { isProcessAlive, ancestorPids } from "./process-info.js";
