// Where log lines go by default: stderr, written asynchronously and in batches so a slow reader of a stderr pipe
// (synchronous in Node on Linux) never stalls the event loop; bounded, with the count of dropped lines reported.
import { write as fsWrite, writeSync } from "node:fs";

/** Lines waiting beyond this many bytes are dropped (and counted) until the writer catches up. */
export const MAX_PENDING_LOG_BYTES = 1024 * 1024;

export interface LineSink {
  (line: string): void;
  /** Lines dropped so far because the reader was too slow. */
  readonly dropped: number;
  /** Writes whatever is pending synchronously (process exit). */
  flushSync(): void;
}

/**
 * A sink for file descriptor `fd` (default 2): lines queue in memory, one write of everything
 * queued runs on the libuv thread pool at a time, and the queue is capped at `maxPendingBytes`
 * — past it new lines are dropped and a `log.dropped` line says how many, once writing resumes.
 */
export function createLineSink(fd = 2, maxPendingBytes = MAX_PENDING_LOG_BYTES): LineSink {
  let pending: string[] = [];
  let pendingBytes = 0;
  let dropped = 0;
  let droppedUnreported = 0;
  let writing = false;

  const take = (): Buffer | null => {
    if (droppedUnreported > 0) {
      pending.push(
        `${JSON.stringify({ ts: new Date().toISOString(), level: "warn", event: "log.dropped", lines: droppedUnreported })}\n`,
      );
      droppedUnreported = 0;
    }
    if (pending.length === 0) return null;
    const buffer = Buffer.from(pending.join(""));
    pending = [];
    pendingBytes = 0;
    return buffer;
  };

  const pump = (): void => {
    const buffer = take();
    if (!buffer) {
      writing = false;
      return;
    }
    writing = true;
    const writeFrom = (offset: number): void => {
      fsWrite(fd, buffer, offset, buffer.length - offset, null, (error, written) => {
        // A closed or broken stderr (EPIPE, EAGAIN storms) must never take the broker down: drop and go on.
        if (!error && offset + written < buffer.length) writeFrom(offset + written);
        else pump();
      });
    };
    writeFrom(0);
  };

  const sink = ((line: string): void => {
    const text = `${line}\n`;
    if (pendingBytes + text.length > maxPendingBytes) {
      dropped++;
      droppedUnreported++;
      return;
    }
    pending.push(text);
    pendingBytes += text.length;
    if (!writing) {
      writing = true;
      setImmediate(pump);
    }
  }) as LineSink;
  Object.defineProperty(sink, "dropped", { get: () => dropped });
  sink.flushSync = () => {
    const buffer = take();
    if (!buffer) return;
    try {
      writeSync(fd, buffer);
    } catch {
      // nothing left to report to
    }
  };
  return sink;
}

let stderrSink: LineSink | undefined;

/** The process-wide stderr sink, flushed synchronously on exit so the last lines are not lost. */
export function stderrLineSink(): LineSink {
  if (!stderrSink) {
    const sink = createLineSink(2);
    stderrSink = sink;
    process.once("exit", () => sink.flushSync());
  }
  return stderrSink;
}
