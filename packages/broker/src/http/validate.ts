// Reads a route's JSON body and validates it with its protocol zod schema (SPEC §2: every body has one schema).
import type { z } from "zod";
import { parseWith } from "@claudemesh/protocol";
import { readJsonBody } from "./body.js";
import { HttpError } from "./errors.js";
import type { RouteRequest } from "./types.js";

/** Body → typed value, or HttpError 413/415/400 (`malformed` names the failing fields). */
export async function readValidBody<T>(
  request: RouteRequest,
  schema: z.ZodType<T>,
  what: string,
): Promise<T> {
  const value = await readJsonBody(request.req, request.deps.options.maxHttpBodyBytes);
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new HttpError("malformed", `${what} body must be a JSON object`);
  const parsed = parseWith(schema, value, `${what} body`);
  if (!parsed.ok) throw new HttpError("malformed", parsed.message);
  return parsed.value;
}
