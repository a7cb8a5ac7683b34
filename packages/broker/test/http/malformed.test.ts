// HTTP edge cases - 413 before parsing on every route, non-JSON, wrong types, 404/405/415, per-IP 429, 500/503 mapping (SPEC §2).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { StoreUnavailableError } from "../../src/index.js";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { get, postJson, rawRequest } from "../helpers/http.js";
import { createMesh, makeIdentity, meshCreateBody, uniqueSlug } from "../helpers/identity.js";

const ROUTES: ReadonlyArray<[string, string]> = [
  ["POST", "/meshes"],
  ["POST", "/join"],
  ["POST", "/agents"],
  ["POST", "/hook/set-status"],
  ["GET", "/health"],
  ["GET", "/metrics"],
  ["POST", "/nope"],
];
const CAP = 4096;

function errorBody(res: { json: unknown }): { code?: string; message?: string } {
  return (res.json as { ok?: boolean; error?: { code?: string; message?: string } } | undefined)?.error ?? {};
}

describe("HTTP malformed input", () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker({ maxHttpBodyBytes: CAP });
  });
  afterAll(async () => {
    await broker?.stop();
  });
  afterEach(async () => {
    // the broker stays healthy after every abuse
    expect((await get(broker.url, "/health")).status).toBe(200);
  });

  it.each(
    ROUTES.flatMap(([method, path]) => [CAP + 1, 50 * 1024 * 1024].map((length) => [method, path, length])),
  )(
    "%s %s: a declared Content-Length of %i (over the cap) gets 413 without the body being read",
    async (method, path, length) => {
      const res = await rawRequest(broker.url, {
        method: String(method),
        path: String(path),
        // Only the header is sent: if the broker waited for the body this would time out.
        headers: { "content-type": "application/json", "content-length": String(length) },
        chunks: [Buffer.from("{")],
        timeoutMs: 5_000,
      });
      expect(res.status).toBe(413);
      expect(errorBody(res).code).toBe("too_large");
      expect(res.headers.connection).toBe("close");
    },
  );

  it.each(ROUTES.filter(([, p]) => p !== "/nope"))(
    "%s %s: a chunked body streaming past the cap gets 413 and reading stops",
    async (method, path) => {
      let sent = 0;
      function* endless(): Generator<Buffer> {
        // bounded: 64 MiB at most, far more than the broker may read
        for (let i = 0; i < 1024; i++) {
          sent += 65536;
          yield Buffer.alloc(65536, 0x20);
        }
      }
      const res = await rawRequest(broker.url, {
        method,
        path,
        headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
        chunks: endless(),
      });
      expect(res.status).toBe(413);
      expect(errorBody(res).code).toBe("too_large");
      expect(sent).toBeLessThan(64 * 1024 * 1024);
    },
  );

  it("a body of exactly the cap is parsed (and judged on its content)", async () => {
    const body = meshCreateBody(makeIdentity("a"), uniqueSlug());
    const text = JSON.stringify(body);
    const padded = text.slice(0, -1) + " ".repeat(CAP - Buffer.byteLength(text)) + "}";
    expect(Buffer.byteLength(padded)).toBe(CAP);
    const res = await rawRequest(broker.url, {
      method: "POST",
      path: "/meshes",
      headers: { "content-type": "application/json" },
      body: padded,
    });
    expect(res.status).toBe(200);
    const over = await rawRequest(broker.url, {
      method: "POST",
      path: "/meshes",
      headers: { "content-type": "application/json" },
      body: padded + " ",
    });
    expect(over.status).toBe(413);
  });

  it.each(["/meshes", "/join", "/agents", "/hook/set-status"])(
    "POST %s: non-JSON, empty, invalid UTF-8, non-object and wrong types get 400 malformed",
    async (path) => {
      for (const body of [
        "{not json",
        "",
        "\xff\xfe",
        Buffer.from([0x7b, 0xff, 0x7d]),
        "[]",
        "null",
        "42",
        '"x"',
        '{"slug":1}',
        "{}",
      ]) {
        const res = await rawRequest(broker.url, {
          method: "POST",
          path,
          headers: { "content-type": "application/json" },
          body,
        });
        expect(res.status, JSON.stringify(String(body))).toBe(400);
        expect(errorBody(res).code).toBe("malformed");
        expect(res.json).toMatchObject({ ok: false });
      }
    },
  );

  it.each(["/meshes", "/join", "/agents", "/hook/set-status"])(
    "POST %s: a non-JSON content type gets 415",
    async (path) => {
      for (const type of [
        undefined,
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin1",
      ]) {
        const res = await rawRequest(broker.url, {
          method: "POST",
          path,
          headers: type ? { "content-type": type } : {},
          body: "{}",
        });
        expect(res.status, String(type)).toBe(415);
        expect(errorBody(res).code).toBe("unsupported_media_type");
      }
    },
  );

  it("unknown paths get 404 not_found; wrong methods get 405 with Allow", async () => {
    for (const [method, path] of [
      ["GET", "/"],
      ["GET", "/admin"],
      ["POST", "/health/"],
      ["GET", "/meshes/x"],
    ] as const) {
      const res = await rawRequest(broker.url, { method, path });
      expect(res.status).toBe(404);
      expect(errorBody(res).code).toBe("not_found");
    }
    for (const [method, path, allow] of [
      ["GET", "/meshes", "POST"],
      ["PUT", "/join", "POST"],
      ["DELETE", "/agents", "POST"],
      ["POST", "/health", "GET, HEAD"],
      ["PATCH", "/metrics", "GET, HEAD"],
    ] as const) {
      const res = await rawRequest(broker.url, {
        method,
        path,
        headers: { "content-type": "application/json", "content-length": "2" },
        body: "{}",
      });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(errorBody(res).code).toBe("method_not_allowed");
      expect(res.headers.allow).toBe(allow);
    }
    expect((await rawRequest(broker.url, { method: "HEAD", path: "/health" })).status).toBe(200);
  });

  it("a plain GET to /ws (no upgrade) is 404, and an upgrade on another path is refused with 404", async () => {
    expect((await get(broker.url, "/ws")).status).toBe(404);
    const res = await rawRequest(broker.url, {
      method: "GET",
      path: "/socket",
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
    }).catch((error: Error) => ({ status: -1, error }));
    expect(res.status).toBe(404);
  });

  it("a query string does not change routing", async () => {
    const res = await get(broker.url, "/health?verbose=1");
    expect(res.status).toBe(200);
  });
});

describe("HTTP per-IP rate limit", () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker({ httpRequestsPerSec: 1, httpRequestBurst: 3 });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it("answers 429 rate_limited with Retry-After past the burst, while /health and /metrics stay exempt", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await postJson(broker.url, "/nope", {})).status);
    expect(statuses.slice(0, 3)).toEqual([404, 404, 404]);
    expect(statuses.slice(3)).toEqual([429, 429]);
    const limited = await postJson(broker.url, "/meshes", meshCreateBody(makeIdentity("a"), uniqueSlug()));
    expect(limited.status).toBe(429);
    expect(errorBody(limited).code).toBe("rate_limited");
    expect(Number(limited.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 10; i++) expect((await get(broker.url, "/health")).status).toBe(200);
    const metrics = await get(broker.url, "/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/http_rate_limited_total\{route="\/meshes"\} 1/);
  });
});

describe("HTTP failure mapping", () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker({ logLevel: "silent" });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  // Fault injection on one store method: the only way to reach these branches in-process.
  // The real outage (PostgreSQL stopped) is covered by test/process/pg-outage.test.ts.
  it("maps StoreUnavailableError to 503 storage_unavailable, and lets the same signed request be retried", async () => {
    const store = broker.ctx.store;
    const original = store.createMesh.bind(store);
    store.createMesh = () => Promise.reject(new StoreUnavailableError("connection refused"));
    const body = meshCreateBody(makeIdentity("a"), uniqueSlug());
    try {
      const res = await postJson(broker.url, "/meshes", body);
      expect(res.status).toBe(503);
      expect(errorBody(res).code).toBe("storage_unavailable");
      expect(res.headers["retry-after"]).toBe("1");
    } finally {
      store.createMesh = original;
    }
    // the replay claim was released: the identical body now succeeds
    expect((await postJson(broker.url, "/meshes", body)).status).toBe(200);
    expect((await get(broker.url, "/metrics")).text).toMatch(/store_errors_total\{op="\/meshes"\} 1/);
  });

  it("answers an unexpected error with 500 internal and no detail", async () => {
    const store = broker.ctx.store;
    const original = store.createMesh.bind(store);
    store.createMesh = () => Promise.reject(new Error("SECRET-INTERNAL-DETAIL at /src/x.ts:1"));
    try {
      const res = await postJson(broker.url, "/meshes", meshCreateBody(makeIdentity("a"), uniqueSlug()));
      expect(res.status).toBe(500);
      expect(res.json).toEqual({ ok: false, error: { code: "internal", message: "internal broker error" } });
    } finally {
      store.createMesh = original;
    }
  });

  it("exposes request metrics by route, method and status", async () => {
    await createMesh(broker.url, makeIdentity("m"));
    await get(broker.url, "/nowhere");
    const text = (await get(broker.url, "/metrics")).text;
    expect(text).toMatch(/http_requests_total\{method="POST",route="\/meshes",status="200"\} \d+/);
    expect(text).toMatch(/http_requests_total\{method="GET",route="unmatched",status="404"\} 1/);
    expect(text).toMatch(/# TYPE connections_rejected_total counter/);
    expect(text).toMatch(/http_request_duration_seconds_bucket\{route="\/meshes",le="\+Inf"\} \d+/);
  });
});
