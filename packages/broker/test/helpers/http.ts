// HTTP helpers for tests: JSON requests through fetch, and raw requests through node:http for odd bodies and headers.
import { request as httpRequest } from "node:http";

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Parsed body when it is JSON, else undefined. */
  json: unknown;
}

function parseMaybeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** POSTs `body` as JSON and returns status + parsed body. */
export async function postJson(
  baseUrl: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const res = await fetch(new URL(path, baseUrl), {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: Object.fromEntries(res.headers), text, json: parseMaybeJson(text) };
}

/** GETs `path`. */
export async function get(baseUrl: string, path: string): Promise<HttpResult> {
  const res = await fetch(new URL(path, baseUrl));
  const text = await res.text();
  return { status: res.status, headers: Object.fromEntries(res.headers), text, json: parseMaybeJson(text) };
}

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** Written as-is; for streamed bodies pass `chunks`. */
  body?: string | Buffer;
  /** Written one after another (no Content-Length: chunked), stopping early if the server answers. */
  chunks?: Iterable<Buffer>;
  timeoutMs?: number;
}

/**
 * A request over node:http that tolerates the server answering before the body is sent and then
 * closing (413): write errors after a response are ignored, and the response is what counts.
 */
export function rawRequest(baseUrl: string, spec: RawRequest): Promise<HttpResult> {
  const url = new URL(spec.path, baseUrl);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: spec.method,
        headers: spec.headers,
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: parseMaybeJson(text) });
        });
        res.on("error", reject);
      },
    );
    req.setTimeout(spec.timeoutMs ?? 10_000, () => req.destroy(new Error("raw request timed out")));
    req.on("error", (error) => {
      if (!answered) reject(error);
    });
    if (spec.chunks) {
      const iterator = spec.chunks[Symbol.iterator]();
      const pump = (): void => {
        for (;;) {
          if (answered || req.destroyed) return;
          const next = iterator.next();
          if (next.done) {
            req.end();
            return;
          }
          if (!req.write(next.value)) {
            req.once("drain", pump);
            return;
          }
        }
      };
      pump();
    } else {
      req.end(spec.body);
    }
  });
}
