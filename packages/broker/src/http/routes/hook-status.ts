// POST /hook/set-status (SPEC §2, §3 status model): a signed status from Claude Code hooks, rate-limited per key.
import { HookStatusRequestSchema } from "@claudemesh/protocol";
import { cryptoLib } from "../../crypto.js";
import { HttpError } from "../errors.js";
import { handleSigned } from "../signed.js";
import { readValidBody } from "../validate.js";
import type { Route } from "../types.js";

export const hookStatusRoute: Route = {
  method: "POST",
  path: "/hook/set-status",
  rateLimited: true,
  async handle(request) {
    const { deps } = request;
    const { ctx } = deps;
    const body = await readValidBody(request, HookStatusRequestSchema, "hook status");
    const signed = {
      what: "status",
      timestamp: body.timestamp,
      verify: (at: number, skewMs: number) => cryptoLib().verifyStatus(body, at, skewMs),
      replayKey: body.signature,
    };
    return handleSigned(request, signed, async (claim) => {
      // After the signature, so nobody can spend another key's budget, and after the replay claim, so
      // a captured body replayed cannot spend it either. A rate-limited request gives its claim back:
      // the same signed body may be sent again after Retry-After (inside the window).
      if (!deps.hookLimiter.take(body.pubkey)) {
        await claim.release();
        const retryAfter = Math.max(1, Math.ceil(deps.hookLimiter.retryAfterMs(body.pubkey) / 1000));
        throw new HttpError(
          "rate_limited",
          `too many status updates for this key; retry in ${retryAfter} s`,
          {
            headers: { "retry-after": String(retryAfter) },
          },
        );
      }
      const member = await ctx.store.getMember(body.mesh_id, body.pubkey);
      if (!member) throw new HttpError("unauthorized", "this key is not a member or agent of the mesh");
      if (member.revokedAt !== null) throw new HttpError("revoked", "this key was revoked from the mesh");
      const result = await deps.hub.applyHookStatus(body);
      return { status: 200, json: { ok: true, result } };
    });
  },
};
