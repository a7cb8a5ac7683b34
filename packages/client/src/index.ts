// @claudemesh/client: signed HTTP calls, the BrokerClient and name resolution shared by the CLI and the MCP server.
export * from "./errors.js";
export * from "./urls.js";
export { describeNetworkError } from "./net-errors.js";
export { DEFAULT_HTTP_TIMEOUT_MS } from "./http-request.js";
export * from "./http.js";
export * from "./types.js";
export {
  BrokerClient,
  DEFAULT_DEDUP_MAX,
  DEFAULT_MAX_MISMATCH_RETRIES,
  DEFAULT_MAX_PEERS,
  type PeersPage,
  type BrokerClientConfig,
  type BrokerClientEvents,
  type BrokerClientOptions,
  type ConnectOptions,
  type InboundSink,
  type SendOptions,
} from "./broker-client.js";
export { wsSocketFactory, type ClientSocket, type SocketFactory, type SocketHandlers } from "./transport.js";
export { fanoutRecipients } from "./fanout.js";
export { FATAL_HANDSHAKE_CODES } from "./close-reasons.js";
export * from "./resolve.js";
