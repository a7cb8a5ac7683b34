// Reads request bodies with the size cap enforced before parsing (SPEC §2: bodies over the cap get 413 before parsing).
import type { IncomingMessage } from "node:http";
import { HttpError } from "./errors.js";

/** True for `application/json` with optional parameters (charset=utf-8); anything else gets 415. */
function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [type, ...params] = header.split(";").map((part) => part.trim().toLowerCase());
  if (type !== "application/json") return false;
  const charset = params.find((p) => p.startsWith("charset="));
  return charset === undefined || charset === "charset=utf-8" || charset === 'charset="utf-8"';
}

function tooLarge(maxBytes: number): HttpError {
  // Connection: close — the rest of the body is never read, so the connection cannot be reused.
  return new HttpError("too_large", `request body is larger than ${maxBytes} bytes`, {
    headers: { connection: "close" },
  });
}

/**
 * Refuses a declared Content-Length over the cap before a single body byte is read. Runs for
 * every request, whatever its route or method.
 */
export function assertDeclaredLength(req: IncomingMessage, maxBytes: number): void {
  const declared = req.headers["content-length"];
  if (declared === undefined) return;
  if (!/^\d+$/.test(declared)) throw new HttpError("malformed", "invalid Content-Length header");
  if (Number(declared) > maxBytes) throw tooLarge(maxBytes);
}

/** True when the request carries a body (declared length > 0, or chunked). */
export function hasBody(req: IncomingMessage): boolean {
  const declared = req.headers["content-length"];
  return (declared !== undefined && declared !== "0") || req.headers["transfer-encoding"] !== undefined;
}

/** Reads the raw body, counting bytes as they stream and stopping at the first one past `maxBytes` (413). */
export function readBodyCapped(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  assertDeclaredLength(req, maxBytes);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("aborted", onAborted);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        req.pause(); // stop reading: the caller answers 413 and the connection is closed
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(new HttpError("malformed", `request body could not be read: ${error.message}`));
    };
    const onAborted = (): void => {
      cleanup();
      reject(new HttpError("malformed", "request aborted by the client"));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("aborted", onAborted);
  });
}

/**
 * Reads and parses a JSON body. Order: content type (415), declared Content-Length over the cap
 * (413, nothing read), streamed bytes over the cap (413), then UTF-8 and JSON (400 malformed).
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  if (!isJsonContentType(req.headers["content-type"]))
    throw new HttpError("unsupported_media_type", "send the body as Content-Type: application/json");
  const raw = await readBodyCapped(req, maxBytes);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch {
    throw new HttpError("malformed", "request body is not valid UTF-8");
  }
  if (text.trim() === "") throw new HttpError("malformed", "request body is empty; send a JSON object");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError("malformed", "request body is not valid JSON");
  }
}
