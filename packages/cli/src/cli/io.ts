// The CLI's view of the outside world (stdout, stderr, stdin, cwd, interrupts), injectable so commands run in-process in tests.

/** Everything a command may touch besides env and the filesystem (ARCHITECTURE.md practice 7). */
export interface Io {
  /** Writes `text` to stdout as is (callers add the newline). */
  stdout(text: string): void;
  /** Writes `text` to stderr as is. */
  stderr(text: string): void;
  /**
   * All of stdin as text when it is piped, undefined when it is a terminal or absent. Gives up
   * after `timeoutMs` (returning what arrived) so a never-closed pipe cannot hang a hook.
   */
  readStdin(timeoutMs: number): Promise<string | undefined>;
  /** The working directory. */
  cwd(): string;
  /** A signal aborted on SIGINT/SIGTERM; handlers are installed on first use only. */
  interrupted(): AbortSignal;
  /** Epoch ms the process started, for time budgets that include start-up (undefined in-process). */
  startedAt?: number;
}

/** Writes one line (adds "\n") to stdout. */
export function println(io: Io, line = ""): void {
  io.stdout(`${line}\n`);
}

/** Writes one line (adds "\n") to stderr. */
export function eprintln(io: Io, line: string): void {
  io.stderr(`${line}\n`);
}

/** The real process: stdout/stderr/stdin of this process and its signals. */
export function processIo(): Io {
  let controller: AbortController | undefined;
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    readStdin: (timeoutMs) => readProcessStdin(timeoutMs),
    cwd: () => process.cwd(),
    startedAt: performance.timeOrigin,
    interrupted() {
      if (!controller) {
        const c = new AbortController();
        controller = c;
        const onSignal = (signal: NodeJS.Signals): void => {
          if (c.signal.aborted) process.exit(130); // a second Ctrl-C: stop waiting for a clean shutdown
          c.abort(signal);
        };
        process.on("SIGINT", onSignal);
        process.on("SIGTERM", onSignal);
      }
      return controller.signal;
    },
  };
}

function readProcessStdin(timeoutMs: number): Promise<string | undefined> {
  const stdin = process.stdin;
  if (stdin.isTTY) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stdin.off("data", onData);
      stdin.off("end", finish);
      stdin.off("error", finish);
      stdin.pause();
      // Let the process exit even though stdin is still open.
      (stdin as { unref?: () => void }).unref?.();
      resolve(chunks.length === 0 ? undefined : Buffer.concat(chunks).toString("utf8"));
    };
    const onData = (chunk: Buffer): void => void chunks.push(chunk);
    const timer = setTimeout(finish, timeoutMs);
    stdin.on("data", onData);
    stdin.once("end", finish);
    stdin.once("error", finish);
  });
}

/** An in-memory Io for tests: captures output, serves a fixed stdin, and exposes its interrupt controller. */
export interface MemoryIo extends Io {
  out: string[];
  err: string[];
  /** Aborts io.interrupted(), as a Ctrl-C would. */
  interrupt(): void;
  readonly stdoutText: string;
  readonly stderrText: string;
}

export function memoryIo(options: { stdin?: string; cwd?: string } = {}): MemoryIo {
  const controller = new AbortController();
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (text) => void out.push(text),
    stderr: (text) => void err.push(text),
    readStdin: () => Promise.resolve(options.stdin),
    cwd: () => options.cwd ?? process.cwd(),
    interrupted: () => controller.signal,
    interrupt: () => controller.abort("SIGINT"),
    get stdoutText() {
      return out.join("");
    },
    get stderrText() {
      return err.join("");
    },
  };
}
