// @claudemesh/client: signed HTTP calls, the BrokerClient and name resolution shared by the CLI and the MCP server.
export * from "./errors.js";
export * from "./urls.js";
export { describeNetworkError } from "./net-errors.js";
export { DEFAULT_HTTP_TIMEOUT_MS } from "./http-request.js";
export * from "./http.js";
