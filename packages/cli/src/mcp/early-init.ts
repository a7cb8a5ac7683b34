// Answers Claude Code's `initialize` the moment it arrives, before the MCP SDK, the mesh client and crypto are loaded (start-up time), then hands the stream to the real server.
import { PassThrough, Writable, type Readable } from "node:stream";

/** The MCP revisions the SDK's server negotiates, newest first, capped at the last one on which Claude Code registers channels (a test compares them with the SDK's list). */
export const EARLY_PROTOCOL_VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2024-10-07"];
/** The id under which the client's initialize is passed on to the real server, whose answer is then dropped. */
export const EARLY_INIT_ID = "claudemesh-early-initialize";

export interface EarlyInitInfo {
  name: string;
  version: string;
  instructions: string;
  capabilities: Record<string, unknown>;
}

export interface EarlyInit {
  /** The real server's input: every line read so far (initialize renumbered), then the rest of stdin. */
  readonly input: Readable;
  /** Wraps the real server's output: its answer to the renumbered initialize is dropped, everything else passes. */
  output(out: Writable): Writable;
  /** Whether the client's initialize was answered early. */
  readonly answered: boolean;
  /** Resolves with the signal name if SIGTERM/SIGINT arrives while the real server is still loading. */
  readonly signalled: Promise<string>;
  /** Stops reading stdin and listening for signals, so the process can exit once the server is done. */
  close(): void;
}

/** The revision to answer with: the client's when it is one we speak, else our newest (as the SDK does). */
export function negotiateVersion(requested: unknown): string {
  return typeof requested === "string" && EARLY_PROTOCOL_VERSIONS.includes(requested)
    ? requested
    : (EARLY_PROTOCOL_VERSIONS[0] as string);
}

/**
 * Reads `stdin` line by line. The first `initialize` request is answered on `stdout` at once and
 * passed on as `EARLY_INIT_ID`, so the real server still initializes (client capabilities,
 * `notifications/initialized`); every other line passes unchanged and in order.
 */
export function startEarlyInit(stdin: Readable, stdout: Writable, info: EarlyInitInfo): EarlyInit {
  const input = new PassThrough();
  let buffer = "";
  let answered = false;
  const write = stdout.write.bind(stdout) as (chunk: string) => boolean;
  const onLine = (line: string): void => {
    if (!answered && line.includes('"initialize"')) {
      try {
        const request = JSON.parse(line) as {
          id?: unknown;
          method?: unknown;
          params?: { protocolVersion?: unknown };
        };
        if (request.method === "initialize" && request.id !== undefined) {
          answered = true;
          write(
            `${JSON.stringify({
              jsonrpc: "2.0",
              id: request.id,
              result: {
                protocolVersion: negotiateVersion(request.params?.protocolVersion),
                capabilities: info.capabilities,
                serverInfo: { name: info.name, version: info.version },
                instructions: info.instructions,
              },
            })}\n`,
          );
          input.write(`${JSON.stringify({ ...request, id: EARLY_INIT_ID })}\n`);
          return;
        }
      } catch {
        // not JSON: the real server answers it
      }
    }
    input.write(`${line}\n`);
  };
  stdin.setEncoding("utf8");
  const onData = (chunk: string): void => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf("\n")) !== -1) {
      onLine(buffer.slice(0, end));
      buffer = buffer.slice(end + 1);
    }
  };
  stdin.on("data", onData);
  stdin.once("end", () => {
    if (buffer !== "") onLine(buffer);
    input.end();
  });
  stdin.once("close", () => input.end());
  // Claude Code may stop a server it has an answer from before the real server is loaded: exit cleanly then too.
  let releaseSignals = (): void => undefined;
  const signalled = new Promise<string>((resolve) => {
    const onTerm = (): void => resolve("SIGTERM");
    const onInt = (): void => resolve("SIGINT");
    process.once("SIGTERM", onTerm);
    process.once("SIGINT", onInt);
    releaseSignals = () => {
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
    };
  });
  return {
    input,
    signalled,
    close: () => {
      releaseSignals();
      stdin.off("data", onData);
      stdin.pause();
      input.end();
    },
    get answered() {
      return answered;
    },
    output(out: Writable): Writable {
      let pending = "";
      return new Writable({
        write(chunk: Buffer, _encoding, callback) {
          pending += chunk.toString("utf8");
          const lines: string[] = [];
          let end: number;
          while ((end = pending.indexOf("\n")) !== -1) {
            const line = pending.slice(0, end);
            pending = pending.slice(end + 1);
            if (!line.includes(EARLY_INIT_ID)) lines.push(line);
            else {
              try {
                if ((JSON.parse(line) as { id?: unknown }).id !== EARLY_INIT_ID) lines.push(line);
              } catch {
                lines.push(line);
              }
            }
          }
          if (lines.length === 0) return callback();
          out.write(`${lines.join("\n")}\n`, (err) => callback(err ?? null));
        },
      });
    },
  };
}
