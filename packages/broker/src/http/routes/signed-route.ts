// Runs the work of a signed request while holding its replay claim (SPEC §2 replay rejection).
import { HttpError } from "../errors.js";
import type { RouteReply } from "../types.js";

/**
 * A signature stays claimed once the request got an answer the client caused (success or a 4xx
 * HttpError); when anything else fails (storage down, a bug) the claim is released so the client
 * can retry the very same signed body.
 */
export async function withReplayClaim(
  release: () => void,
  work: () => Promise<RouteReply>,
): Promise<RouteReply> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof HttpError)) release();
    throw error;
  }
}
