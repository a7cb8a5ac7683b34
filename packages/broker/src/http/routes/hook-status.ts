// POST /hook/set-status (SPEC §2, §3 status model): a signed status from Claude Code hooks, rate-limited per key.
import { HookStatusRequestSchema } from "@claudemesh/protocol";
import { verifyStatus } from "@claudemesh/crypto";
import { assertVerified } from "../auth.js";
import { HttpError } from "../errors.js";
import { assertFreshTimestamp, claimSignature } from "../signed.js";
import { readValidBody } from "../validate.js";
import { withReplayClaim } from "./signed-route.js";
import type { Route } from "../types.js";

export const hookStatusRoute: Route = {
  method: "POST",
  path: "/hook/set-status",
  rateLimited: true,
  async handle(request) {
    const { deps, now } = request;
    const { ctx, options } = deps;
    const body = await readValidBody(request, HookStatusRequestSchema, "hook status");
    assertFreshTimestamp(body.timestamp, now, options.helloSkewMs);
    assertVerified(verifyStatus(body, now, options.helloSkewMs), "status");
    // Only after the signature verified, so nobody can spend another key's budget.
    if (!deps.hookLimiter.take(body.pubkey)) {
      const retryAfter = Math.max(1, Math.ceil(deps.hookLimiter.retryAfterMs(body.pubkey) / 1000));
      throw new HttpError("rate_limited", `too many status updates for this key; retry in ${retryAfter} s`, {
        headers: { "retry-after": String(retryAfter) },
      });
    }
    const release = claimSignature(deps.replay, body.signature, body.timestamp, now);
    return withReplayClaim(release, async () => {
      const member = await ctx.store.getMember(body.mesh_id, body.pubkey);
      if (!member) throw new HttpError("unauthorized", "this key is not a member or agent of the mesh");
      if (member.revokedAt !== null) throw new HttpError("revoked", "this key was revoked from the mesh");
      const result = await deps.hub.applyHookStatus(body);
      return { status: 200, json: { ok: true, result } };
    });
  },
};
