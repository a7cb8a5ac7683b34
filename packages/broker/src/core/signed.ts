// The one pipeline every signed request runs, the hello and each signed HTTP route: window, shape, signature, replay.
import type { SignatureRejection, VerifyResult } from "@claudemesh/crypto";
import type { ReplayGuard } from "./replay.js";

/**
 * A signed request whose body already passed its schema. `verify` is the crypto package's verifier
 * for this payload; it judges, in this order and each exactly once, the timestamp window
 * (|now − timestamp| > skewMs → `timestamp_skew`), the shape of every signed field (→ `malformed`)
 * and every signature (→ `bad_signature`). That is SPEC §3 checks 1–3 for the hello and the order
 * docs/CONFIG.md documents for signed HTTP routes.
 */
export interface SignedRequest {
  /** Names the signed thing in messages: "hello", "mesh-create", "join", "agent-enroll", "status". */
  what: string;
  /** The signed timestamp (Unix ms). */
  timestamp: number;
  verify(now: number, skewMs: number): VerifyResult;
  /** What the replay guard remembers: the (first) signature. */
  replayKey: string;
}

export interface SignedDeps {
  replay: ReplayGuard;
  /** Broker clock at arrival (ms). */
  now: number;
  /** The configured window (helloSkewMs). */
  skewMs: number;
}

export type SignedRejectionCode = SignatureRejection | "replay";

export interface SignedRejection {
  ok: false;
  code: SignedRejectionCode;
  message: string;
}

/**
 * An accepted request: `value` is what `authorize` found (the hello's member row). It holds its replay
 * claim; `release` gives the claim back when the request then fails for a reason that is not the client's.
 */
export interface SignedClaim<T> {
  ok: true;
  value: T;
  release(): Promise<void>;
}

function seconds(ms: number): number {
  return Math.round(ms / 1000);
}

/** The wire message for a failed verification; the code comes from crypto's closed list. */
function signatureRejection(
  reason: SignatureRejection,
  request: SignedRequest,
  deps: Pick<SignedDeps, "now" | "skewMs">,
): SignedRejection {
  switch (reason) {
    case "timestamp_skew":
      return {
        ok: false,
        code: reason,
        message: `${request.what} timestamp is ${seconds(request.timestamp - deps.now)} s away from the broker clock (allowed ±${seconds(deps.skewMs)} s); check the system clock and sign again`,
      };
    case "malformed":
      return {
        ok: false,
        code: reason,
        message: `${request.what} signed fields are malformed: pubkeys must be 64 and signatures 128 lowercase hex chars, ids and names non-empty without "|"`,
      };
    case "bad_signature":
      return {
        ok: false,
        code: reason,
        message: `${request.what} signature does not verify against the given public key`,
      };
  }
}

/**
 * The pipeline's first three checks alone (window, shape, signature: pure CPU), for a request whose
 * membership and replay the store decides in one round trip (the hello, Store.admitHello).
 * Null when they pass.
 */
export function verifySigned(
  request: SignedRequest,
  deps: Pick<SignedDeps, "now" | "skewMs">,
): SignedRejection | null {
  const verdict = request.verify(deps.now, deps.skewMs);
  return verdict.ok ? null : signatureRejection(verdict.reason, request, deps);
}

/** The message of a `replay` refusal. */
export function replayMessage(what: string): string {
  return `this signed ${what} was already used; sign it again with a fresh timestamp`;
}

/**
 * Runs the pipeline: window, shape and signature (one crypto verification), then `authorize` (checks
 * the SPEC orders before replay: the hello's membership, SPEC §3 check 4), then the replay claim.
 * The first failure is the answer. A signature is remembered until `timestamp + skewMs`, when the
 * window check takes over. Signed HTTP routes pass no `authorize`: their own checks follow the claim.
 */
export async function checkSigned<T = undefined, R extends { ok: false } = never>(
  request: SignedRequest,
  deps: SignedDeps,
  authorize?: () => Promise<{ ok: true; value: T } | R>,
): Promise<SignedClaim<T> | SignedRejection | R> {
  const rejection = verifySigned(request, deps);
  if (rejection) return rejection;
  let value = undefined as T;
  if (authorize) {
    const authorized = await authorize();
    if (!authorized.ok) return authorized;
    value = authorized.value;
  }
  const key = request.replayKey;
  if (await deps.replay.seen(key, request.timestamp + deps.skewMs)) {
    return {
      ok: false,
      code: "replay",
      message: replayMessage(request.what),
    };
  }
  return { ok: true, value, release: async () => deps.replay.forget(key) };
}
