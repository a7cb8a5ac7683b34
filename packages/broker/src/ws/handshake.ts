// Hello checks 1–3 of SPEC §3 (timestamp window, shape, signature): pure CPU, run before the one
// store round trip that decides checks 4–6 (ws/admission.ts, Store.admitHello).
import type { HandshakeRejection, Hello } from "@claudemesh/protocol";
import { cryptoLib } from "../crypto.js";
import { verifySigned } from "../core/signed.js";

/**
 * The first failing check among 1 timestamp window, 2 pubkey/signature shape and 3 signature (one
 * crypto verification), through the signed-request pipeline; null when all three pass.
 */
export function verifyHello(
  hello: Hello,
  deps: { now: number; skewMs: number },
): { code: HandshakeRejection; message: string } | null {
  return verifySigned(
    {
      what: "hello",
      timestamp: hello.timestamp,
      verify: (now, skewMs) => cryptoLib().verifyHelloSignature(hello, now, skewMs),
      replayKey: hello.signature,
    },
    deps,
  );
}
