// The stateless first two hello checks of SPEC §3, in the seed's order: timestamp window, then key/signature shape.
import type { Hello } from "@claudemesh/protocol";

const PUBKEY_RE = /^[0-9a-f]{64}$/;
const SIGNATURE_RE = /^[0-9a-f]{128}$/;

export type HelloPrecheck =
  { ok: true } | { ok: false; code: "timestamp_skew" | "malformed"; message: string };

/**
 * Check 1: `timestamp` within ±skew of the broker clock. Check 2: `pubkey` is 64 lowercase hex and
 * `signature` 128 lowercase hex. The order matters (SPEC §3: "checks, in order").
 */
export function precheckHello(hello: Hello, now: number, skewMs: number): HelloPrecheck {
  if (Math.abs(now - hello.timestamp) > skewMs) {
    return {
      ok: false,
      code: "timestamp_skew",
      message: `hello timestamp is ${Math.round((hello.timestamp - now) / 1000)} s off the broker clock (allowed ±${Math.round(skewMs / 1000)} s); fix the system clock`,
    };
  }
  if (!PUBKEY_RE.test(hello.pubkey)) {
    return { ok: false, code: "malformed", message: "pubkey must be 64 lowercase hex chars" };
  }
  if (!SIGNATURE_RE.test(hello.signature)) {
    return { ok: false, code: "malformed", message: "signature must be 128 lowercase hex chars" };
  }
  return { ok: true };
}
