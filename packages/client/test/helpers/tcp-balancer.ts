// A minimal TCP load balancer for failover tests: on 127.0.0.1, each new connection goes to the first backend
// that accepts it (in list order), bytes are piped both ways, and a backend's close closes the client side.
// It knows nothing of HTTP or WebSocket — a WebSocket upgrade passes through like any other bytes.
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";

export interface TcpBalancer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Which backend port each accepted connection went to, in order. */
  routed: number[];
  /** New connections wait (accepted, not yet routed) until resume(): a front that holds clients during a switch-over. */
  hold(): void;
  resume(): void;
  close(): Promise<void>;
}

/** Connects to `port`, or resolves null when it refuses (the backend is down). */
function tryBackend(port: number): Promise<Socket | null> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", () => {
      socket.destroy();
      resolve(null);
    });
  });
}

export async function startTcpBalancer(backendPorts: readonly number[]): Promise<TcpBalancer> {
  const open = new Set<Socket>();
  const routed: number[] = [];
  let gate: { promise: Promise<void>; open: () => void } | null = null;
  const server: Server = createServer((client) => {
    open.add(client);
    client.pause();
    client.on("error", () => client.destroy());
    client.once("close", () => open.delete(client));
    void (async () => {
      await gate?.promise;
      for (const port of backendPorts) {
        if (client.destroyed) return;
        const backend = await tryBackend(port);
        if (!backend) continue;
        if (client.destroyed) {
          backend.destroy();
          return;
        }
        routed.push(port);
        open.add(backend);
        backend.on("error", () => backend.destroy());
        backend.once("close", () => {
          open.delete(backend);
          client.destroy();
        });
        client.once("close", () => backend.destroy());
        client.pipe(backend);
        backend.pipe(client);
        client.resume();
        return;
      }
      client.destroy(); // no backend accepts
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    routed,
    hold() {
      let release = (): void => undefined;
      const promise = new Promise<void>((resolve) => (release = resolve));
      gate ??= { promise, open: release };
    },
    resume() {
      gate?.open();
      gate = null;
    },
    close: () =>
      new Promise<void>((resolve) => {
        gate?.open();
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
