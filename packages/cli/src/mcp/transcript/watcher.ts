// Polls the tail of this session's Claude Code transcript and reports working/idle on change (SPEC §3 `jsonl` source).
import { open, stat } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import { STATUS_FRESH_MS } from "@claudemesh/protocol";
import { inferStatus, lastReading, type EntrySignal, type TranscriptReading } from "./infer.js";
import { newestTranscript, type TranscriptLocation } from "./path.js";

/** How often the transcript is polled by default. A stat per tick; bytes are read only when the file grew. */
export const TRANSCRIPT_POLL_MS = 3_000;
/** On first sight of a transcript only its last bytes are read: the latest entries are all that matter. */
export const TRANSCRIPT_TAIL_BYTES = 64 * 1024;
/** The most bytes one tick reads. */
export const TRANSCRIPT_READ_CHUNK_BYTES = 4 * 1024 * 1024;
/** A single line longer than this (a huge tool result) is skipped rather than buffered. */
export const TRANSCRIPT_MAX_LINE_BYTES = 8 * 1024 * 1024;

export interface TranscriptWatcherOptions {
  location: TranscriptLocation;
  /** When this server started; older transcripts are not ours (newest-file fallback only). */
  startedAtMs: number;
  /** Called with the inferred status, only when it differs from the last one reported. */
  onStatus: (status: EntrySignal) => void;
  /** Called with every complete line appended to the transcript (delivery confirmation reads them). */
  onLines?: (lines: string[]) => void;
  /**
   * Read a newly seen transcript from its first byte instead of its last 64 KiB: delivery
   * confirmation must see every entry, and Claude Code writes large request blobs between them.
   */
  fromStart?: boolean;
  intervalMs?: number;
  freshMs?: number;
  now?: () => number;
}

/** Tails one transcript at a time, remembering the byte offset so each tick reads only appended bytes. */
export class TranscriptWatcher {
  private file: string | null = null;
  private offset = 0;
  private partial = "";
  /** Keeps a UTF-8 character split across two reads intact. */
  private decoder = new StringDecoder("utf8");
  /** True while discarding the rest of an over-long line. */
  private skippingLine = false;
  private reading: TranscriptReading | null = null;
  private reported: EntrySignal | null = null;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | null = null;
  private readonly now: () => number;
  private readonly freshMs: number;

  constructor(private options: TranscriptWatcherOptions) {
    this.now = options.now ?? Date.now;
    this.freshMs = options.freshMs ?? STATUS_FRESH_MS;
  }

  /** Starts polling; the timer never keeps the process alive. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs ?? TRANSCRIPT_POLL_MS);
    this.timer.unref();
    void this.tick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One poll. Overlapping calls share the running one. Never throws: a missing file just means no reading. */
  tick(): Promise<void> {
    this.ticking ??= this.poll().finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  /** Follows another transcript from now on (a new session id after /clear, a path a hook reported). */
  relocate(location: TranscriptLocation): void {
    this.options.location = location;
  }

  /** The last status reported (null before the first reading). */
  get lastReported(): EntrySignal | null {
    return this.reported;
  }

  private async poll(): Promise<void> {
    try {
      await this.readAppended();
    } catch {
      // An unreadable transcript (permissions, raced deletion) yields no new reading this tick.
    }
    // Re-evaluated every tick even without new bytes: `working` expires after the fresh window.
    const status = inferStatus(this.reading, this.now(), this.freshMs);
    if (status && status !== this.reported) {
      this.reported = status;
      this.options.onStatus(status);
    }
  }

  private async currentFile(): Promise<string | null> {
    const { sessionFile, projectDir } = this.options.location;
    if (sessionFile) return sessionFile;
    return newestTranscript(projectDir, this.options.startedAtMs - this.freshMs);
  }

  private async readAppended(): Promise<void> {
    const file = await this.currentFile();
    if (!file) return;
    const info = await stat(file);
    if (file !== this.file || info.size < this.offset) {
      // A new transcript, or this one was truncated/replaced: start again from its tail.
      this.file = file;
      this.offset = this.options.fromStart ? 0 : Math.max(0, info.size - TRANSCRIPT_TAIL_BYTES);
      this.partial = "";
      this.decoder = new StringDecoder("utf8");
      // Starting mid-file lands mid-line: drop everything up to the first newline.
      this.skippingLine = this.offset > 0;
      this.reading = null;
    }
    if (info.size === this.offset) return;
    // At most 4 MiB a tick: a long transcript read from its start is caught up over a few ticks.
    const length = Math.min(info.size - this.offset, TRANSCRIPT_READ_CHUNK_BYTES);
    const buffer = Buffer.alloc(length);
    const handle = await open(file, "r");
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(buffer, 0, length, this.offset));
    } finally {
      await handle.close();
    }
    this.offset += bytesRead;
    const lines = this.splitLines(this.decoder.write(buffer.subarray(0, bytesRead)));
    if (lines.length > 0) this.options.onLines?.(lines);
    const reading = lastReading(lines, info.mtimeMs);
    if (reading) this.reading = reading;
  }

  /** Complete lines from the carried-over partial line plus `chunk`; keeps the new partial tail. */
  private splitLines(chunk: string): string[] {
    const pieces = (this.partial + chunk).split("\n");
    this.partial = pieces.pop() ?? "";
    if (this.skippingLine && pieces.length > 0) {
      // The first complete piece is the tail of the line being skipped.
      pieces.shift();
      this.skippingLine = false;
    }
    if (this.partial.length > TRANSCRIPT_MAX_LINE_BYTES) {
      this.partial = "";
      this.skippingLine = true;
    }
    return pieces;
  }
}
