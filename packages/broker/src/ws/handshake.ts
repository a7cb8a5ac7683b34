// Hello checks 1–5 of SPEC §3 that need no connection registry: skew, shape, signature, membership, replay.
import type { HandshakeRejection, Hello } from "@claudemesh/protocol";
import { verifyHelloSignature } from "@claudemesh/crypto";
import type { MemberRow, Store } from "../store/types.js";
import { precheckHello } from "../core/hello.js";
import type { ReplayGuard } from "../core/replay.js";

export type HandshakeResult =
  { ok: true; member: MemberRow } | { ok: false; code: HandshakeRejection; message: string };

/**
 * Runs the checks in the SPEC §3 order; the first failure is the answer. `capacity` is the hub's,
 * because it must be decided atomically with registering the connection.
 */
export async function checkHello(
  hello: Hello,
  deps: { store: Store; replay: ReplayGuard; now: number; skewMs: number },
): Promise<HandshakeResult> {
  // 1–2: timestamp window (the configured one) and key/signature shape.
  const pre = precheckHello(hello, deps.now, deps.skewMs);
  if (!pre.ok) return pre;
  // 3: the signature. The window was judged above with the configured skew, so the crypto
  // package's own window is neutralised by verifying "as of" the hello's timestamp.
  const verdict = verifyHelloSignature(hello, hello.timestamp);
  if (!verdict.ok) {
    return verdict.reason === "bad_signature"
      ? { ok: false, code: "bad_signature", message: "hello signature does not verify for this pubkey" }
      : {
          ok: false,
          code: "malformed",
          message: "hello fields are not well formed (ids, pubkey, signature)",
        };
  }
  // 4: an active member row for (mesh, pubkey) with this member id.
  const member = await deps.store.getMember(hello.meshId, hello.pubkey);
  if (!member || member.id !== hello.memberId) {
    return {
      ok: false,
      code: "unauthorized",
      message: "this key is not a member of that mesh (join it first)",
    };
  }
  if (member.revokedAt !== null) {
    return { ok: false, code: "revoked", message: "this member was revoked from the mesh" };
  }
  // 5: the same signed hello seen before within the window. Recorded only now, after it verified.
  if (!deps.replay.checkAndRecord(hello.signature, hello.timestamp + deps.skewMs, deps.now)) {
    return { ok: false, code: "replay", message: "this signed hello was already used; sign a fresh one" };
  }
  return { ok: true, member };
}
