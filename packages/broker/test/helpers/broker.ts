// Starts an in-process broker on a fresh store for a test, and stops it (and removes the store) afterwards.
import { startBroker, type RunningBroker, type StartBrokerOptions } from "../../src/index.js";
import { storeTarget, type StoreKind, type StoreTarget } from "./stores.js";

export interface TestBroker extends RunningBroker {
  store: StoreTarget;
  /** Closes the broker and removes its store; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * A broker on 127.0.0.1, port 0, logging only errors, on a fresh store of `kind` (default SQLite).
 * Pass `store` to reuse a target (e.g. restart on the same file).
 */
export async function startTestBroker(
  options: { kind?: StoreKind; store?: StoreTarget } & Omit<StartBrokerOptions, "db"> = {},
): Promise<TestBroker> {
  const { kind = "sqlite", store: given, ...rest } = options;
  const store = given ?? (await storeTarget(kind));
  let broker: RunningBroker;
  try {
    broker = await startBroker({ host: "127.0.0.1", port: 0, logLevel: "error", ...rest, db: store.target });
  } catch (error) {
    if (!given) await store.cleanup();
    throw error;
  }
  let stopped = false;
  return {
    ...broker,
    store,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await broker.close();
      } finally {
        if (!given) await store.cleanup();
      }
    },
  };
}
