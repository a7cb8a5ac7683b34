// POST /members/revoke (SPEC §2): revoke a member (and its agents) or an agent; admin, self (leave) or parent; idempotent.
import { RevokeRequestSchema } from "@claudemesh/protocol";
import { cryptoLib } from "../../crypto.js";
import { HttpError } from "../errors.js";
import { handleSigned } from "../signed.js";
import { readValidBody } from "../validate.js";
import type { Route } from "../types.js";

export const revokeRoute: Route = {
  method: "POST",
  path: "/members/revoke",
  rateLimited: true,
  async handle(request) {
    const { deps, now } = request;
    const { ctx } = deps;
    const body = await readValidBody(request, RevokeRequestSchema, "revoke");
    const signed = {
      what: "revoke",
      timestamp: body.timestamp,
      verify: (at: number, skewMs: number) => cryptoLib().verifyRevoke(body, at, skewMs),
      replayKey: body.signature,
    };
    return handleSigned(request, signed, async () => {
      // One transaction: authorization, the last-admin rule and every effect. Local connections are
      // closed (4003) by the store's revocation listeners before this returns; other brokers get a notice.
      const result = await ctx.store.revoke({
        meshId: body.mesh_id,
        targetPubkey: body.target_pubkey,
        byPubkey: body.by_pubkey,
        now,
      });
      switch (result.kind) {
        case "not_found":
          throw new HttpError(
            "not_found",
            result.what === "mesh"
              ? "no such mesh on this broker"
              : "target_pubkey is not a member or agent of this mesh",
          );
        case "unauthorized":
          throw new HttpError("unauthorized", "by_pubkey is not a member of this mesh");
        case "by_revoked":
          throw new HttpError("revoked", "by_pubkey was itself revoked from this mesh");
        case "forbidden":
          throw new HttpError(
            "forbidden",
            "only an admin of the mesh, the target itself, or the member an agent is enrolled under may revoke it",
          );
        case "last_admin":
          throw new HttpError(
            "last_admin",
            `this is the mesh's last admin and ${result.otherMembers} other member(s) remain; invite or promote another admin first`,
          );
        case "revoked":
          if (result.newlyRevoked.length > 0) {
            await ctx.store.appendAudit({
              meshId: body.mesh_id,
              action: "member.revoke",
              actorPubkey: body.by_pubkey,
              detail: {
                targetPubkey: body.target_pubkey,
                revoked: result.newlyRevoked.length,
                deletedDeliveries: result.deletedDeliveries,
              },
              at: now,
            });
            ctx.log.info("member.revoke", {
              meshId: body.mesh_id,
              memberId: result.target.id,
              revoked: result.newlyRevoked.length,
            });
          }
          return { status: 200, json: { ok: true, revoked: result.revoked.map((m) => m.pubkey) } };
      }
    });
  },
};
