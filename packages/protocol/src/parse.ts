// Frame and body parsing that turns any input into a typed value or a `malformed` error a person can act on.
import type { z } from "zod";
import { ClientFrameSchema, ServerFrameSchema, type ClientFrame, type ServerFrame } from "./schemas.js";

export type ParseResult<T> =
  { ok: true; value: T } | { ok: false; code: "malformed"; message: string; id?: string };

/** Renders zod issues as one line: `field: problem; field: problem`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(root)"}: ${issue.message}`)
    .join("; ");
}

/** Validates an already-decoded value against a schema; never throws. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): ParseResult<T> {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, code: "malformed", message: `invalid ${what}: ${describeIssues(result.error)}` };
}

function decodeJson(raw: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch {
    return { ok: false, message: "frame is not valid JSON" };
  }
}

/** Echo a request id back in the error when the broken frame still had a usable one. */
function salvageId(value: unknown): string | undefined {
  if (typeof value === "object" && value !== null && "id" in value) {
    const id = (value as { id: unknown }).id;
    if (typeof id === "string" && id.length > 0 && id.length <= 64) return id;
  }
  return undefined;
}

function parseFrame<T>(schema: z.ZodType<T>, raw: string, side: string): ParseResult<T> {
  const decoded = decodeJson(raw);
  if (!decoded.ok) return { ok: false, code: "malformed", message: decoded.message };
  const value = decoded.value;
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return { ok: false, code: "malformed", message: "frame must be a JSON object with a type" };
  const result = parseWith(schema, value, `${side} frame`);
  if (result.ok) return result;
  const id = salvageId(value);
  return id === undefined ? result : { ...result, id };
}

/** Parses one text frame sent by a client (SPEC §3). */
export function parseClientFrame(raw: string): ParseResult<ClientFrame> {
  return parseFrame(ClientFrameSchema, raw, "client");
}

/** Parses one text frame sent by the broker (SPEC §3). */
export function parseServerFrame(raw: string): ParseResult<ServerFrame> {
  return parseFrame(ServerFrameSchema, raw, "server");
}
