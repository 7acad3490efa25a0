/**
 * Kafka's checkpoint files (CheckpointFile.java, OffsetCheckpointFile, LeaderEpochCheckpointFile) and the
 * clean-shutdown marker (CleanShutdownFileHandler). A checkpoint is a small text file — a version line, a count
 * line, then one line per entry — written to `<name>.tmp`, fsynced and renamed over `<name>`, so a power loss
 * leaves the old content or the new, never half. The file is one chunk holding its lines; a chunk that fails its
 * CRC stands for text a bit-flip garbled (Kafka's files have no checksum: it fails to parse). Simplification:
 * Kafka writes checkpoints synchronously on the calling thread; here a write is asynchronous (the fsync takes
 * its latency) and writes to one file are serialized, a newer content superseding a pending one.
 */

import { valid, type Disk, type DiskError, type IoContext } from "../../disk/disk.ts";
import { assert } from "../../sim/assert.ts";

export const RECOVERY_POINT_CHECKPOINT = "recovery-point-offset-checkpoint";
export const REPLICATION_OFFSET_CHECKPOINT = "replication-offset-checkpoint";
export const LOG_START_OFFSET_CHECKPOINT = "log-start-offset-checkpoint";
export const CLEANER_OFFSET_CHECKPOINT = "cleaner-offset-checkpoint";
export const LEADER_EPOCH_CHECKPOINT = "leader-epoch-checkpoint";
export const CLEAN_SHUTDOWN_FILE = ".kafka_cleanshutdown";

/** Both offset and leader-epoch checkpoints are at version 0. */
export const CHECKPOINT_VERSION = 0;

/** EntryFormatter: one entry per line. fromLine returns null for a malformed line. */
export interface EntryFormatter<T> {
  toLine(entry: T): string;
  fromLine(line: string): T | null;
}

export type CheckpointRead<T> = { error: null; entries: T[] } | { error: "missing" | "malformed" };

/** Reports a failed disk operation (Kafka: an IOException that takes the log dir offline). */
export type StorageErrorHandler = (what: string, error: DiskError) => void;

export class CheckpointFile<T> {
  private writing = false;
  private pending: readonly T[] | null = null;
  private waiters: (() => void)[] = [];
  private pendingWaiters: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly disk: Disk,
    private readonly context: IoContext,
    readonly name: string,
    private readonly formatter: EntryFormatter<T>,
    private readonly onError: StorageErrorHandler,
  ) {}

  /**
   * Writes `entries` atomically (tmp, fsync, rename) and calls `done` once they — or a newer content — are
   * durable under the real name. A write while another is in flight waits for it; only the newest waits.
   */
  write(entries: readonly T[], done?: () => void): void {
    assert(!this.closed, `checkpoint ${this.name} written after close`);
    if (this.writing) {
      this.pending = entries;
      if (done !== undefined) this.pendingWaiters.push(done);
      return;
    }
    if (done !== undefined) this.waiters.push(done);
    this.start(entries);
  }

  /**
   * Writes and renames at once, without waiting for the fsync (a clean shutdown, which then makes the whole
   * disk durable before the process exits). Supersedes any write in flight.
   */
  writeNow(entries: readonly T[]): DiskError | null {
    const tmp = `${this.name}.tmp`;
    const lines = this.lines(entries);
    const error = this.disk.writeFile(tmp, lines, sizeOf(lines)) ?? this.disk.rename(tmp, this.name);
    this.close();
    return error;
  }

  /** Stops: callbacks of writes in flight do nothing (the process is going away). */
  close(): void {
    this.closed = true;
    this.pending = null;
    this.waiters = [];
    this.pendingWaiters = [];
  }

  read(): CheckpointRead<T> {
    return readCheckpoint(this.disk, this.name, this.formatter);
  }

  private lines(entries: readonly T[]): string[] {
    const lines = [String(CHECKPOINT_VERSION), String(entries.length)];
    for (const entry of entries) lines.push(this.formatter.toLine(entry));
    return lines;
  }

  private start(entries: readonly T[]): void {
    this.writing = true;
    const tmp = `${this.name}.tmp`;
    const lines = this.lines(entries);
    const error = this.disk.writeFile(tmp, lines, sizeOf(lines));
    if (error !== null) {
      this.fail("write", error);
      return;
    }
    this.disk.fsync(tmp, this.context, (syncError) => {
      if (this.closed) return;
      if (syncError !== null) {
        this.fail("fsync", syncError);
        return;
      }
      const renameError = this.disk.rename(tmp, this.name);
      if (renameError !== null) {
        this.fail("rename", renameError);
        return;
      }
      this.writing = false;
      const waiters = this.waiters;
      this.waiters = [];
      for (const waiter of waiters) waiter();
      if (this.pending !== null && !this.closed) {
        const next = this.pending;
        this.pending = null;
        this.waiters = this.pendingWaiters;
        this.pendingWaiters = [];
        this.start(next);
      }
    });
  }

  private fail(step: string, error: DiskError): void {
    this.writing = false;
    this.pending = null;
    this.waiters = [];
    this.pendingWaiters = [];
    this.onError(`checkpoint ${this.name} ${step}`, error);
  }
}

/** Reads a checkpoint as CheckpointReadBuffer does: version, count, exactly count well-formed lines. */
export function readCheckpoint<T>(disk: Disk, name: string, formatter: EntryFormatter<T>): CheckpointRead<T> {
  if (!disk.exists(name)) return { error: "missing" };
  const read = disk.read(name);
  if (read.error !== null) return { error: "missing" };
  if (read.chunks.length !== 1 || !valid(read.chunks[0])) return { error: "malformed" };
  const lines = read.chunks[0].data as readonly string[];
  if (!Array.isArray(lines) || lines.length < 2 || lines[0] !== String(CHECKPOINT_VERSION)) return { error: "malformed" };
  const count = Number(lines[1]);
  if (!Number.isInteger(count) || count !== lines.length - 2) return { error: "malformed" };
  const entries: T[] = [];
  for (let i = 2; i < lines.length; i++) {
    const entry = formatter.fromLine(lines[i]);
    if (entry === null) return { error: "malformed" };
    entries.push(entry);
  }
  return { error: null, entries };
}

function sizeOf(lines: readonly string[]): number {
  let size = 0;
  for (const line of lines) size += line.length + 1;
  return size;
}

/** An entry of an offset checkpoint: "topic partition offset" (OffsetCheckpointFile.Formatter). */
export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

const OFFSET_LINE = /^(\S+) (\d+) (-?\d+)$/;

export const OFFSET_FORMATTER: EntryFormatter<TopicPartitionOffset> = {
  toLine: (entry) => `${entry.topic} ${entry.partition} ${entry.offset}`,
  fromLine: (line) => {
    const match = OFFSET_LINE.exec(line);
    return match === null ? null : { topic: match[1], partition: Number(match[2]), offset: Number(match[3]) };
  },
};

/** An entry of the leader-epoch checkpoint: "epoch startOffset" (LeaderEpochCheckpointFile.Formatter). */
export interface EpochEntry {
  readonly epoch: number;
  readonly startOffset: number;
}

const EPOCH_LINE = /^(\d+) (\d+)$/;

export const EPOCH_FORMATTER: EntryFormatter<EpochEntry> = {
  toLine: (entry) => `${entry.epoch} ${entry.startOffset}`,
  fromLine: (line) => {
    const match = EPOCH_LINE.exec(line);
    return match === null ? null : { epoch: Number(match[1]), startOffset: Number(match[2]) };
  },
};

/** Offset checkpoint content as a map keyed by "topic-partition". */
export function offsetsByPartition(read: CheckpointRead<TopicPartitionOffset>): Map<string, number> {
  const map = new Map<string, number>();
  if (read.error === null) for (const e of read.entries) map.set(`${e.topic}-${e.partition}`, e.offset);
  return map;
}

// ---- The clean-shutdown marker (CleanShutdownFileHandler): {"version":0,"brokerEpoch":N} ----

export function hasCleanShutdownMarker(disk: Disk, logDir: string): boolean {
  return disk.exists(`${logDir}/${CLEAN_SHUTDOWN_FILE}`);
}

/** Written last in a clean shutdown; created at once (namespace operations are durable in the disk model). */
export function writeCleanShutdownMarker(disk: Disk, logDir: string, brokerEpoch: number): DiskError | null {
  const content = { version: 0, brokerEpoch };
  return disk.writeFile(`${logDir}/${CLEAN_SHUTDOWN_FILE}`, content, JSON.stringify(content).length);
}

/** Deleted once every log is loaded, so a crash from then on means recovery. */
export function deleteCleanShutdownMarker(disk: Disk, logDir: string): DiskError | null {
  const name = `${logDir}/${CLEAN_SHUTDOWN_FILE}`;
  return disk.exists(name) ? disk.delete(name) : null;
}
