// The signed-request pipeline for HTTP routes (SPEC §2): core/signed.ts's checks answered as HttpErrors, work under the replay claim.
import { checkSigned, type SignedClaim, type SignedRequest } from "../core/signed.js";
import { HttpError } from "./errors.js";
import type { RouteReply, RouteRequest } from "./types.js";

/**
 * For a body that passed its schema (the shape step): the timestamp window, the signature, then the
 * replay claim (docs/CONFIG.md "HTTP responses"); then `work`, the route's own checks and effects.
 * The claim stays once the client caused the answer (success or an HttpError); when anything else
 * fails (storage down, a bug) it is released so the client can retry the very same signed body.
 */
export async function handleSigned(
  request: RouteRequest,
  signed: SignedRequest,
  work: (claim: SignedClaim<undefined>) => Promise<RouteReply>,
): Promise<RouteReply> {
  const { deps, now } = request;
  const verdict = await checkSigned(signed, { replay: deps.replay, now, skewMs: deps.options.helloSkewMs });
  if (!verdict.ok) throw new HttpError(verdict.code, verdict.message);
  try {
    return await work(verdict);
  } catch (error) {
    if (!(error instanceof HttpError)) await verdict.release();
    throw error;
  }
}
