// @claudemesh/crypto: identities, signatures, direct boxes and group messages for claudemesh (SPEC §1–§4), over libsodium.
export { CryptoArgumentError } from "./errors.js";
export { toHex, fromHex, toBase64, fromBase64, randomId, isPubkeyHex, isSignatureHex } from "./encoding.js";
export { generateKeypair, keypairFromSeed, publicKeyFromSecretKey, type Keypair } from "./keys.js";
export { signDetached, verifyDetached, type SignableMessage } from "./sign.js";
export type { SignatureRejection, TimestampedSignature, VerifyResult } from "./timestamped.js";
export { signHello, verifyHelloSignature, type HelloSignatureFields } from "./hello.js";
export {
  signMeshCreate,
  verifyMeshCreate,
  signJoin,
  verifyJoin,
  signEnrollRequest,
  verifyEnrollRequest,
  signStatus,
  verifyStatus,
  signRevoke,
  verifyRevoke,
  type MeshCreateSignatureFields,
  type JoinSignatureFields,
  type EnrollFields,
  type EnrollRequestFields,
  type StatusSignatureFields,
  type RevokeSignatureFields,
} from "./requests.js";
export { signInvite, verifyInvite, type UnsignedInvite } from "./invite.js";
export { encryptDirect, decryptDirect, type DirectEnvelope } from "./box.js";
export {
  sealGroup,
  openGroup,
  type GroupBody,
  type GroupKeyEnvelope,
  type GroupPushFields,
  type SealedGroup,
} from "./group.js";
export {
  clearKeyCache,
  keyCacheStats,
  setKeyCacheCapacity,
  DEFAULT_KEY_CACHE_CAPACITY,
} from "./shared-key.js";
export type { KeyCacheStats } from "./key-cache.js";
