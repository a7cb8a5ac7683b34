// Loads libsodium once (ESM top-level await) so every function this package exports is synchronous.
import sodium from "libsodium-wrappers";

// The standard build's ESM entry (dist/modules-esm) works on Node 20 both under vitest and from
// compiled dist; `ready` resolves once the WASM/asm.js module is initialised.
await sodium.ready;

export { sodium };
