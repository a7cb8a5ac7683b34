// @claudemesh/protocol: the wire contract (SPEC §2–§4, §7) — schemas, codes, constants, canonical strings, invites.
export * from "./constants.js";
export * from "./errors.js";
export * from "./canonical.js";
export * from "./schemas.js";
export * from "./http-schemas.js";
export * from "./display-name.js";
export * from "./parse.js";
export * from "./invite.js";
export * from "./config-dir.js";
export { base64urlEncodeText, base64urlDecodeText } from "./base64url.js";
