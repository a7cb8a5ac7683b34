// Library entry of the `claudemesh` package: the in-process CLI and the config API used by the MCP server and tests.
export { runCli, runFromProcess, CLI_VERSION } from "./main.js";
export * from "./config/index.js";
export { memoryIo, processIo, type Io, type MemoryIo } from "./cli/io.js";
