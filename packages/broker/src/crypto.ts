// @claudemesh/crypto loaded on demand: libsodium's start-up runs after the port is bound, and every
// request and WebSocket upgrade waits for loadCrypto() before it reaches a handler (http/listener.ts).
import type * as Crypto from "@claudemesh/crypto";

let loaded: typeof Crypto | undefined;
let loading: Promise<typeof Crypto> | undefined;

/** Starts loading @claudemesh/crypto (once); resolves when its functions can be called. */
export function loadCrypto(): Promise<typeof Crypto> {
  loading ??= import("@claudemesh/crypto").then((module) => {
    loaded = module;
    return module;
  });
  return loading;
}

/** True once loadCrypto() has resolved. */
export function cryptoLoaded(): boolean {
  return loaded !== undefined;
}

/** The loaded @claudemesh/crypto; throws when called before loadCrypto() resolved (a bug: a handler ran ungated). */
export function cryptoLib(): typeof Crypto {
  if (loaded === undefined) throw new Error("@claudemesh/crypto used before loadCrypto() resolved");
  return loaded;
}
