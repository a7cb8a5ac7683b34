// Hello checks 1–5 of SPEC §3 that need no connection registry, run through the signed-request pipeline.
import type { HandshakeRejection, Hello } from "@claudemesh/protocol";
import { cryptoLib } from "../crypto.js";
import type { MemberRow, Store } from "../store/types.js";
import type { ReplayGuard } from "../core/replay.js";
import { checkSigned } from "../core/signed.js";

export type HandshakeResult =
  { ok: true; member: MemberRow } | { ok: false; code: HandshakeRejection; message: string };

type Membership =
  { ok: true; value: MemberRow } | { ok: false; code: "unauthorized" | "revoked"; message: string };

/**
 * Runs the checks in the SPEC §3 order; the first failure is the answer: 1 timestamp window,
 * 2 pubkey/signature shape, 3 signature (one crypto verification), 4 membership, 5 replay.
 * `capacity` is the hub's, because it must be decided atomically with registering the connection.
 */
export async function checkHello(
  hello: Hello,
  deps: { store: Store; replay: ReplayGuard; now: number; skewMs: number },
): Promise<HandshakeResult> {
  // 4: an active member row for (mesh, pubkey) with this member id. Before replay, so only a
  // member's verified hello is ever remembered.
  const membership = async (): Promise<Membership> => {
    const member = await deps.store.getMember(hello.meshId, hello.pubkey);
    if (!member || member.id !== hello.memberId)
      return {
        ok: false,
        code: "unauthorized",
        message: "this key is not a member of that mesh (join it first)",
      };
    if (member.revokedAt !== null)
      return { ok: false, code: "revoked", message: "this member was revoked from the mesh" };
    return { ok: true, value: member };
  };
  const verdict = await checkSigned(
    {
      what: "hello",
      timestamp: hello.timestamp,
      verify: (now, skewMs) => cryptoLib().verifyHelloSignature(hello, now, skewMs),
      replayKey: hello.signature,
    },
    deps,
    membership,
  );
  return verdict.ok ? { ok: true, member: verdict.value } : verdict;
}
