// PostgreSQL test isolation: every store gets its own throwaway schema, dropped on dispose.
import { randomBytes } from "node:crypto";
import net from "node:net";
import pg from "pg";
import { openStore, type OpenStoreOptions, type Store } from "../../src/store/index.js";
import type { StoreHarness } from "./contract.js";
import { presence } from "./fixtures.js";

export const DATABASE_URL = process.env.DATABASE_URL;

export function uniqueSchema(): string {
  return `cm_test_${randomBytes(6).toString("hex")}`;
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await admin.end();
  }
}

/** A fresh migrated store in a new schema; dispose closes it and drops the schema. */
export async function openIsolated(
  url: string,
  options: OpenStoreOptions = {},
): Promise<StoreHarness & { schema: string }> {
  const schema = options.schema ?? uniqueSchema();
  const store: Store = openStore(url, { poolSize: 24, ...options, schema });
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    await dropSchema(url, schema);
    throw err;
  }
  return {
    store,
    schema,
    dispose: async () => {
      await store.close();
      await dropSchema(url, schema);
    },
  };
}

/**
 * A loopback TCP proxy in front of PostgreSQL: stop() drops every connection and refuses new ones
 * (as if the server went down), start() listens on the same port again.
 */
export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(
    private readonly upstreamHost: string,
    private readonly upstreamPort: number,
  ) {}

  async start(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.upstreamPort, this.upstreamHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The database URL routed through this proxy. */
  url(databaseUrl: string): string {
    const u = new URL(databaseUrl);
    u.hostname = "127.0.0.1";
    u.port = String(this.port);
    return u.toString();
  }
}

/** Polls `check` every 20 ms until it is true or `ms` elapse (bounded). */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`waitFor: condition not met within ${ms} ms`);
}

/**
 * `store` serves broker `brokerId` and these members are online there (as that broker's hellos would
 * record): delivery and receipt wake-ups for them are sent to that broker's channel only.
 */
export async function holdOnline(
  store: Store,
  brokerId: string,
  memberIds: readonly string[],
): Promise<void> {
  store.attachBroker(brokerId);
  await store.upsertPresences(memberIds.map((memberId) => presence(memberId, { brokerId, online: true })));
}
