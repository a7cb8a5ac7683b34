// The WebSocket hello signature (SPEC §3, seed form `${meshId}|${memberId}|${pubkey}|${timestamp}`).
import { canonicalHello, HELLO_SKEW_MS } from "@claudemesh/protocol";
import { requireCanonicalField, requirePubkeyHex } from "./check.js";
import {
  MALFORMED,
  asRecord,
  signTimestamped,
  verifyTimestamped,
  type TimestampedSignature,
  type VerifyResult,
} from "./timestamped.js";

/** The hello frame fields its signature covers, plus the signature (field names as on the wire). */
export interface HelloSignatureFields {
  meshId: string;
  memberId: string;
  pubkey: string;
  timestamp: number;
  signature: string;
}

/** Signs a hello for `pubkey` (whose secret key is `secretKey`, 128 hex) at `now` (Unix ms). */
export function signHello(
  meshId: string,
  memberId: string,
  pubkey: string,
  secretKey: string,
  now: number = Date.now(),
): TimestampedSignature {
  requireCanonicalField(meshId, "meshId");
  requireCanonicalField(memberId, "memberId");
  requirePubkeyHex(pubkey, "pubkey");
  return signTimestamped(
    (timestamp) => canonicalHello(meshId, memberId, pubkey, timestamp),
    { secretKey, signers: [pubkey], mismatch: "is not the secret key of pubkey" },
    now,
  );
}

/**
 * Checks a hello in the seed's order: timestamp within ±HELLO_SKEW_MS of `now`, then shape
 * (pubkey 64 lowercase hex, signature 128 lowercase hex, integer timestamp, ids without `|`),
 * then the signature. Membership (check 4) and replay are the broker's job.
 */
export function verifyHelloSignature(
  fields: HelloSignatureFields,
  now: number = Date.now(),
  skewMs: number = HELLO_SKEW_MS,
): VerifyResult {
  const f = asRecord(fields);
  if (!f) return MALFORMED;
  return verifyTimestamped(
    {
      timestamp: f.timestamp,
      textFields: [f.meshId, f.memberId],
      pubkeyFields: [f.pubkey],
      signatures: [{ signature: f.signature, pubkey: f.pubkey }],
      canonical: (timestamp) =>
        canonicalHello(f.meshId as string, f.memberId as string, f.pubkey as string, timestamp),
    },
    now,
    skewMs,
  );
}
