// POST /meshes (SPEC §2): create a mesh whose signed owner becomes its first admin member.
import { MeshCreateRequestSchema } from "@claudemesh/protocol";
import { cryptoLib } from "../../crypto.js";
import { assertCreationToken } from "../auth.js";
import { HttpError } from "../errors.js";
import { handleSigned } from "../signed.js";
import { readValidBody } from "../validate.js";
import type { Route } from "../types.js";

export const meshesRoute: Route = {
  method: "POST",
  path: "/meshes",
  rateLimited: true,
  async handle(request) {
    const { deps, now, req } = request;
    const { ctx, options } = deps;
    // The token gates who may create meshes at all, so it is checked before any body work.
    assertCreationToken(req, options.creationToken);
    const body = await readValidBody(request, MeshCreateRequestSchema, "mesh-create");
    const signed = {
      what: "mesh-create",
      timestamp: body.timestamp,
      verify: (at: number, skewMs: number) => cryptoLib().verifyMeshCreate(body, at, skewMs),
      replayKey: body.signature,
    };
    return handleSigned(request, signed, async () => {
      const created = await ctx.store.createMesh({
        meshId: cryptoLib().randomId(),
        slug: body.slug,
        name: body.name,
        ownerMemberId: cryptoLib().randomId(),
        ownerPubkey: body.owner_pubkey,
        ownerName: body.owner_name,
        now,
      });
      if (!created)
        throw new HttpError(
          "slug_taken",
          `the slug "${body.slug}" is already used on this broker; pick another`,
        );
      await ctx.store.appendAudit({
        meshId: created.mesh.id,
        action: "mesh.create",
        actorPubkey: body.owner_pubkey,
        detail: { slug: created.mesh.slug, memberId: created.owner.id },
        at: now,
      });
      ctx.log.info("mesh.create", {
        meshId: created.mesh.id,
        slug: created.mesh.slug,
        memberId: created.owner.id,
      });
      return { status: 200, json: { ok: true, mesh_id: created.mesh.id, member_id: created.owner.id } };
    });
  },
};
