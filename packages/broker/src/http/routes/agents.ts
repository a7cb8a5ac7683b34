// POST /agents (SPEC §1, §2): enroll an agent peer under an active member; both keys sign, idempotent.
import { AgentEnrollRequestSchema } from "@claudemesh/protocol";
import { cryptoLib } from "../../crypto.js";
import { AgentLimitError } from "../../store/types.js";
import { HttpError } from "../errors.js";
import { handleSigned } from "../signed.js";
import { readValidBody } from "../validate.js";
import type { Route } from "../types.js";

export const agentsRoute: Route = {
  method: "POST",
  path: "/agents",
  rateLimited: true,
  async handle(request) {
    const { deps, now } = request;
    const { ctx } = deps;
    const body = await readValidBody(request, AgentEnrollRequestSchema, "agent-enroll");
    if (body.agent_pubkey === body.parent_pubkey)
      throw new HttpError(
        "malformed",
        "agent_pubkey must differ from parent_pubkey: an agent peer has its own key",
      );
    // Parent first, then agent (crypto's verifyEnrollRequest order); both must verify.
    const signed = {
      what: "agent-enroll",
      timestamp: body.timestamp,
      verify: (at: number, skewMs: number) => cryptoLib().verifyEnrollRequest(body, at, skewMs),
      replayKey: body.parent_signature,
    };
    return handleSigned(request, signed, async () => {
      const parent = await ctx.store.getMember(body.mesh_id, body.parent_pubkey);
      if (!parent)
        throw new HttpError("unauthorized", "parent_pubkey is not a member of this mesh; join it first");
      if (parent.revokedAt !== null)
        throw new HttpError(
          "revoked",
          "the parent member was revoked from this mesh; it cannot enroll agents",
        );
      if (parent.parentMemberId !== null)
        throw new HttpError(
          "forbidden",
          "an agent peer cannot enroll agents; sign with the member's own key",
        );

      const existing = await ctx.store.getMember(body.mesh_id, body.agent_pubkey);
      if (existing) {
        if (existing.revokedAt !== null)
          throw new HttpError("revoked", "this agent key was revoked from the mesh; enroll a new key");
        if (existing.parentMemberId !== parent.id)
          throw new HttpError("forbidden", "this agent key already belongs to another identity in the mesh");
      }
      const agent = await ctx.store
        .enrollAgent({
          meshId: body.mesh_id,
          parentMemberId: parent.id,
          memberId: cryptoLib().randomId(),
          agentPubkey: body.agent_pubkey,
          agentName: body.agent_name,
          now,
          maxAgents: deps.options.maxAgentsPerMember,
        })
        .catch((error: unknown) => {
          if (!(error instanceof AgentLimitError)) throw error;
          throw new HttpError(
            "limit_reached",
            `this member already has ${error.active} active agents (limit ${error.maxAgents}); retire one with \`claudemesh agents retire <name>\` first`,
          );
        });
      if (!existing) {
        await ctx.store.appendAudit({
          meshId: body.mesh_id,
          action: "agent.enroll",
          actorPubkey: body.parent_pubkey,
          detail: {
            memberId: agent.id,
            parentMemberId: parent.id,
            agentPubkey: agent.pubkey,
            name: agent.displayName,
          },
          at: now,
        });
        ctx.log.info("agent.enroll", { meshId: body.mesh_id, memberId: agent.id, parentMemberId: parent.id });
      }
      return { status: 200, json: { ok: true, member_id: agent.id, display_name: agent.displayName } };
    });
  },
};
