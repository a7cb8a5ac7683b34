// Shared sign/verify core for every timestamped signed payload (hello, mesh-create, join, enroll, status).
import { HELLO_SKEW_MS, type HandshakeRejection } from "@claudemesh/protocol";
import { isCanonicalField, isTimestamp, requireTimestamp } from "./check.js";
import { CryptoArgumentError } from "./errors.js";
import { fromHex, isPubkeyHex, isSignatureHex, isWellFormedText, toHex, utf8Encode } from "./encoding.js";
import { parseSecretKey } from "./keys.js";
import { sodium } from "./sodium.js";

/** Why a signed payload was refused; the same wire codes as handshake rejections (SPEC §3). */
export type SignatureRejection = Extract<
  HandshakeRejection,
  "timestamp_skew" | "malformed" | "bad_signature"
>;

/** Outcome of verifying a signed payload. Verification never throws on a peer's input. */
export type VerifyResult = { ok: true } | { ok: false; reason: SignatureRejection };

/** A fresh signature and the timestamp it covers. */
export interface TimestampedSignature {
  /** Unix epoch milliseconds, the value inside the signed string. */
  timestamp: number;
  /** 128 lowercase hex chars. */
  signature: string;
}

const ACCEPTED: VerifyResult = Object.freeze({ ok: true });
const reject = (reason: SignatureRejection): VerifyResult => ({ ok: false, reason });

/** A signing request: `secretKeyName` names the argument in errors (default "secretKey"). */
export interface SignerCheck {
  secretKey: unknown;
  secretKeyName?: string;
  /** The public keys allowed to sign this payload. */
  signers: readonly string[];
  /** Completes "<secretKeyName> …" when the key belongs to none of `signers`. */
  mismatch: string;
}

/**
 * Signs `canonical` (UTF-8) after checking the secret key belongs to an allowed signer, so a
 * caller cannot produce a signature the broker is bound to reject. Returns 128 hex.
 */
export function signCanonical(canonical: string, check: SignerCheck): string {
  const keyName = check.secretKeyName ?? "secretKey";
  const { secretKey, publicKey } = parseSecretKey(check.secretKey, keyName);
  try {
    if (!check.signers.includes(toHex(publicKey))) throw new CryptoArgumentError(keyName, check.mismatch);
    return toHex(sodium.crypto_sign_detached(utf8Encode(canonical, "canonical"), secretKey));
  } finally {
    sodium.memzero(secretKey);
  }
}

/** Signs `canonical(now)`; `now` (Unix ms) becomes the payload's timestamp. */
export function signTimestamped(
  canonical: (timestamp: number) => string,
  check: SignerCheck,
  now: unknown,
): TimestampedSignature {
  const timestamp = requireTimestamp(now, "now");
  return { timestamp, signature: signCanonical(canonical(timestamp), check) };
}

/**
 * True when every (signature, pubkey) pair verifies over `canonical`. Callers have already
 * checked the shapes; libsodium throwing anyway is treated as a failed signature.
 */
export function verifyAllSignatures(
  canonical: string,
  signatures: ReadonlyArray<{ signature: string; pubkey: string }>,
): boolean {
  try {
    const message = utf8Encode(canonical, "canonical");
    return signatures.every(({ signature, pubkey }) =>
      sodium.crypto_sign_verify_detached(fromHex(signature), message, fromHex(pubkey)),
    );
  } catch {
    return false;
  }
}

/** A signed claim as received from a peer: every member is untrusted until checked. */
export interface TimestampedClaim {
  timestamp: unknown;
  /** Text fields of the canonical string (non-empty, no `|`, well-formed). */
  textFields: readonly unknown[];
  /** Public-key fields of the canonical string (64 lowercase hex). */
  pubkeyFields: readonly unknown[];
  /** Every (signature, signer) pair that must verify over the canonical string. */
  signatures: ReadonlyArray<{ signature: unknown; pubkey: unknown }>;
  /** Builds the canonical string; only called once every field has passed its shape check. */
  canonical: (timestamp: number) => string;
}

/**
 * Verifies a claim in the seed's order (SPEC §3 checks 1–3): timestamp window first
 * (|now − timestamp| > skewMs, default HELLO_SKEW_MS → `timestamp_skew`; exactly ±skewMs is inside), then
 * shape (→ `malformed`), then every signature (→ `bad_signature`). A skewed *and* malformed
 * claim therefore reports `timestamp_skew`, as the seed's broker did.
 * `now` is the caller's clock, not peer input: a bad `now` is a programming error and throws.
 */
export function verifyTimestamped(
  claim: TimestampedClaim,
  now: unknown,
  skewMs: number = HELLO_SKEW_MS,
): VerifyResult {
  const nowMs = requireTimestamp(now, "now");
  if (!Number.isFinite(skewMs) || skewMs < 0)
    throw new CryptoArgumentError("skewMs", "must be a non-negative number of milliseconds");
  const { timestamp } = claim;
  // NaN compares false here and falls through to the shape check, which calls it malformed.
  if (typeof timestamp === "number" && Math.abs(nowMs - timestamp) > skewMs) return reject("timestamp_skew");
  const shapeOk =
    isTimestamp(timestamp) &&
    claim.textFields.every((f) => isCanonicalField(f) && isWellFormedText(f)) &&
    claim.pubkeyFields.every(isPubkeyHex) &&
    claim.signatures.every((s) => isSignatureHex(s.signature) && isPubkeyHex(s.pubkey));
  if (!shapeOk) return reject("malformed");
  const signatures = claim.signatures as ReadonlyArray<{ signature: string; pubkey: string }>;
  return verifyAllSignatures(claim.canonical(timestamp), signatures) ? ACCEPTED : reject("bad_signature");
}

/** The object a verify function was handed, or null when it is not an object at all. */
export function asRecord(value: unknown): Record<string, unknown> | null {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : null;
}

/** The `malformed` result, for callers that find the input unusable before the core runs. */
export const MALFORMED: VerifyResult = Object.freeze({ ok: false, reason: "malformed" });
