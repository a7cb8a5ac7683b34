// POST /join (SPEC §2 Invites): redeem a signed invite; the use counter is claimed atomically by the store.
import {
  InviteError,
  JoinRequestSchema,
  assertInviteNotExpired,
  decodeInviteLink,
  parseInvitePayload,
  type InvitePayload,
  type JoinRequest,
} from "@claudemesh/protocol";
import { cryptoLib } from "../../crypto.js";
import { HttpError } from "../errors.js";
import { handleSigned } from "../signed.js";
import { readValidBody } from "../validate.js";
import type { MemberRow, MeshRow } from "../../store/types.js";
import type { Route, RouteReply } from "../types.js";

/** The invite as a payload: an `ic://join/…` link, its JSON text, or the object itself. */
function invitePayload(invite: JoinRequest["invite"]): InvitePayload {
  if (typeof invite !== "string") return invite;
  try {
    if (invite.trimStart().startsWith("{")) return parseInvitePayload(JSON.parse(invite) as unknown);
    // Expiry is judged below, after the signatures, so an expired invite gets invite_expired.
    return decodeInviteLink(invite, { allowExpired: true });
  } catch (error) {
    if (error instanceof InviteError) throw new HttpError("invite_invalid", error.message);
    throw new HttpError("invite_invalid", "invite is neither an ic://join/ link nor a JSON invite payload");
  }
}

function invalid(message: string): HttpError {
  return new HttpError("invite_invalid", `${message}; ask an admin of the mesh for a new invite`);
}

/** The inviter must be a current (not revoked) admin member — not an agent peer — of the invite's mesh. */
function assertInviterAuthority(inviter: MemberRow | null): void {
  if (!inviter) throw invalid("the invite was not signed by a member of this mesh");
  if (inviter.revokedAt !== null) throw invalid("the invite's signer has been revoked");
  if (inviter.parentMemberId !== null) throw invalid("the invite was signed by an agent peer, not an admin");
  if (inviter.role !== "admin") throw invalid("the invite was signed by a member who is not an admin");
}

function joinReply(mesh: MeshRow, member: MemberRow): RouteReply {
  return {
    status: 200,
    json: {
      ok: true,
      mesh_id: mesh.id,
      member_id: member.id,
      role: member.role,
      mesh_slug: mesh.slug,
      // The name actually admitted (it differs from the asked-for one when that is taken), so the CLI can say so.
      display_name: member.displayName,
    },
  };
}

export const joinRoute: Route = {
  method: "POST",
  path: "/join",
  rateLimited: true,
  async handle(request) {
    const { deps, now } = request;
    const { ctx } = deps;
    const body = await readValidBody(request, JoinRequestSchema, "join");
    // Part of the shape step: the joiner's signature covers the invite's mesh_id and invite_id.
    const invite = invitePayload(body.invite);
    const signed = {
      what: "join",
      timestamp: body.timestamp,
      verify: (at: number, skewMs: number) =>
        cryptoLib().verifyJoin(
          {
            mesh_id: invite.mesh_id,
            invite_id: invite.invite_id,
            pubkey: body.pubkey,
            timestamp: body.timestamp,
            signature: body.signature,
          },
          at,
          skewMs,
        ),
      replayKey: body.signature,
    };
    return handleSigned(request, signed, async () => {
      // The route's own checks, after the pipeline: the invite's signature, then the inviter and the mesh.
      if (!cryptoLib().verifyInvite(invite).ok)
        throw invalid("the invite's signature does not verify (it was altered or forged)");
      const mesh = await ctx.store.getMesh(invite.mesh_id);
      if (!mesh) throw invalid("the invite's mesh does not exist on this broker");
      if (mesh.slug !== invite.mesh_slug) throw invalid("the invite's mesh slug does not match the mesh");
      assertInviterAuthority(await ctx.store.getMember(mesh.id, invite.inviter_pubkey));

      // Idempotent (SPEC §2): a key that is already an active member gets its membership back,
      // even when the invite has since expired or been used up, and no use is consumed.
      const existing = await ctx.store.getMember(mesh.id, body.pubkey);
      if (existing && existing.revokedAt === null) return joinReply(mesh, existing);
      if (existing) throw revokedError();

      try {
        assertInviteNotExpired(invite, now);
      } catch (error) {
        if (error instanceof InviteError) throw new HttpError("invite_expired", error.message);
        throw error;
      }
      const result = await ctx.store.redeemInvite({
        meshId: mesh.id,
        inviteId: invite.invite_id,
        maxUses: invite.max_uses,
        memberId: cryptoLib().randomId(),
        pubkey: body.pubkey,
        displayName: body.display_name,
        role: invite.role,
        now,
      });
      switch (result.kind) {
        case "exhausted":
          throw new HttpError(
            "invite_exhausted",
            `this invite has been used ${invite.max_uses} time(s), its limit; ask an admin of "${mesh.slug}" for a new one`,
          );
        case "revoked":
          throw revokedError();
        case "existing":
          return joinReply(mesh, result.member);
        case "joined":
          await ctx.store.appendAudit({
            meshId: mesh.id,
            action: "member.join",
            actorPubkey: body.pubkey,
            detail: {
              memberId: result.member.id,
              inviteId: invite.invite_id,
              inviterPubkey: invite.inviter_pubkey,
              role: result.member.role,
            },
            at: now,
          });
          ctx.log.info("member.join", {
            meshId: mesh.id,
            memberId: result.member.id,
            role: result.member.role,
          });
          return joinReply(mesh, result.member);
      }
    });
  },
};

function revokedError(): HttpError {
  return new HttpError("revoked", "this key was revoked from the mesh; join with a new identity");
}
