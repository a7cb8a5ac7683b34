// @claudemesh/broker: start a broker in-process, plus the building blocks the CLI and tests use.
export { startBroker, BROKER_VERSION, type StartBrokerOptions, type RunningBroker } from "./server.js";
export {
  resolveOptions,
  configDir,
  defaultDbPath,
  OptionsError,
  checkPublicUrl,
  NUMERIC_OPTIONS,
  STRING_OPTION_ENV,
  type ResolvedOptions,
  type Env,
} from "./options.js";
export { createLogger, formatLogLine, LOG_LEVELS, type LogLevel, type BrokerLogger } from "./log.js";
export { createMetrics, MetricsRegistry, escapeLabelValue } from "./metrics.js";
export { TokenBucket, KeyedRateLimiter } from "./rate-limit.js";
export type { BrokerContext, BrokerOptions, Clock, Logger, Metrics } from "./context.js";
export type { Hub, HookResult } from "./hub-api.js";
export type { Store, StoredEnvelope } from "./store/types.js";
export { StoreUnavailableError } from "./store/types.js";
export {
  runBrokerProcess,
  parseBrokerArgs,
  checkDbDirectory,
  describeStartError,
  StartError,
  type ProcessIo,
} from "./main.js";
