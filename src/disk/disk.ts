/**
 * A host's disk: named files of chunks behind an operating-system page cache. Writes land in the cache;
 * fsync makes a file durable after a sampled latency; Linux's flusher writes back data older than
 * dirty_expire on its periodic wake-ups (computed lazily, no events); a process crash loses nothing, a power
 * loss keeps the durable view plus a random, possibly torn, prefix of each file's unsynced writes, a machine
 * (kernel) crash the same without the tear.
 * The file system journals metadata as ext4 does (data=ordered): a truncation is durable once the journal
 * commits — at the file's own fsync or writeback, at any fsync on the disk issued after it (jbd2 commits the
 * whole running transaction), or at the periodic commit (`commit=5`).
 * Simplifications: namespace operations (create, delete, rename) are durable at once; the periodic commit
 * runs on a fixed grid of journalCommitIntervalUs; failed calls change nothing.
 */

import { assert } from "../sim/assert.ts";
import type { HostDisk } from "../sim/host.ts";
import type { EventTarget, Kernel } from "../sim/kernel.ts";
import type { Rng } from "../sim/rng.ts";
import type { Micros } from "../sim/time.ts";
import type { World } from "../sim/world.ts";
import type { Chunk, Damage, DiskError } from "./chunk.ts";
import { DEFAULT_DISK_CONFIG, type DiskConfig, type DiskFaults } from "./config.ts";
import { DiskFile, type FsyncTarget } from "./file.ts";

export { valid, type Chunk, type Damage, type DiskError } from "./chunk.ts";
export { DEFAULT_DISK_CONFIG, type DiskConfig, type DiskFaults } from "./config.ts";

export type ReadResult = { error: null; chunks: readonly Chunk[] } | { error: DiskError };

/** A file's page cache read in place: chunk `index`'s fields, for index in [0, count). */
export interface PageCacheView {
  readonly count: number;
  dataAt(index: number): unknown;
  sizeAt(index: number): number;
  damageAt(index: number): Damage;
  writtenAtUsAt(index: number): Micros;
}

export type FsyncCallback = (error: DiskError | null) => void;

/**
 * Who receives an I/O completion: a ProcessContext (of any disk type) — invoke() drops the callback if that
 * incarnation died and defers it while the host is paused.
 */
export interface IoContext {
  invoke(callback: () => void): void;
}

/** Where corrupt() flipped bits. */
export interface Corruption {
  file: string;
  chunk: number;
}

const EVENT_FSYNC_DONE = 1;

interface FsyncOp extends FsyncTarget {
  readonly file: DiskFile | null;
  /** The power epoch at the call: a power loss in between means nothing reached the medium. */
  readonly epoch: number;
  /** The disk's truncation sequence at the call: the journal commit this fsync forces covers those. */
  readonly truncationSeq: number;
  readonly error: DiskError | null;
  readonly context: IoContext | null;
  readonly callback: FsyncCallback | undefined;
}

export class Disk implements HostDisk, EventTarget {
  readonly config: Readonly<DiskConfig>;
  private readonly kernel: Kernel;
  private readonly rng: Rng;
  private readonly files = new Map<string, DiskFile>();
  private faults: DiskFaults;
  private used = 0;
  private powerEpoch = 0;
  /** Truncations below a file's synced length so far (each waits for the journal). */
  private truncationSeq = 0;
  /** Truncations up to this sequence number were committed by a completed fsync. */
  private committedTruncationSeq = 0;

  constructor(
    private readonly world: World,
    readonly hostName: string,
    config: Partial<DiskConfig> = {},
  ) {
    const merged = { ...DEFAULT_DISK_CONFIG, ...config };
    assert(Number.isInteger(merged.fsyncMinUs) && merged.fsyncMinUs >= 0, "disk fsyncMinUs must be a whole µs");
    assert(Number.isInteger(merged.fsyncMaxUs) && merged.fsyncMaxUs >= merged.fsyncMinUs, "disk fsyncMaxUs < min");
    assert(Number.isInteger(merged.writebackUs) && merged.writebackUs >= 0, "disk writebackUs must be a whole µs");
    assert(Number.isInteger(merged.writebackIntervalUs) && merged.writebackIntervalUs > 0, "bad writebackIntervalUs");
    assert(Number.isInteger(merged.journalCommitIntervalUs) && merged.journalCommitIntervalUs > 0, "bad journalCommitIntervalUs");
    assert(merged.capacityBytes >= 0, "disk capacityBytes must not be negative");
    this.config = Object.freeze(merged);
    this.kernel = world.kernel;
    this.rng = world.rng.fork(`disk/${hostName}`);
    this.faults = this.noFaults();
  }

  // ---- Writes (hot path: O(1), no copies) ----

  /** Appends one chunk, creating the file when missing. */
  append(name: string, data: unknown, sizeBytes: number): DiskError | null {
    if (this.faults.writeError) return "EIO";
    assert(sizeBytes >= 0 && Number.isFinite(sizeBytes), "chunk size must be a non-negative number");
    if (this.used + sizeBytes > this.faults.capacityBytes) return "ENOSPC";
    let file = this.files.get(name);
    if (file === undefined) {
      file = new DiskFile();
      this.files.set(name, file);
    }
    file.append(data, sizeBytes, this.kernel.now);
    this.used += sizeBytes;
    return null;
  }

  /** Replaces the file's content with one chunk (truncate to 0, then append); creates it when missing. */
  writeFile(name: string, data: unknown, sizeBytes: number): DiskError | null {
    if (this.faults.writeError) return "EIO";
    assert(sizeBytes >= 0 && Number.isFinite(sizeBytes), "chunk size must be a non-negative number");
    const file = this.files.get(name);
    const freed = file === undefined ? 0 : file.bytes;
    if (this.used - freed + sizeBytes > this.faults.capacityBytes) return "ENOSPC";
    if (file !== undefined) this.truncateFile(file, 0);
    return this.append(name, data, sizeBytes);
  }

  /** Keeps the first `chunkCount` chunks (at most the current count). */
  truncate(name: string, chunkCount: number): DiskError | null {
    if (this.faults.writeError) return "EIO";
    const file = this.files.get(name);
    if (file === undefined) return "ENOENT";
    this.truncateFile(file, chunkCount);
    return null;
  }

  /** Creates an empty file unless it exists (durable at once). */
  create(name: string): DiskError | null {
    if (this.faults.writeError) return "EIO";
    if (!this.files.has(name)) this.files.set(name, new DiskFile());
    return null;
  }

  /** Removes the file (durable at once). */
  delete(name: string): DiskError | null {
    if (this.faults.writeError) return "EIO";
    const file = this.files.get(name);
    if (file === undefined) return "ENOENT";
    this.used -= file.bytes;
    this.files.delete(name);
    return null;
  }

  /**
   * Atomically renames `from` to `to`, replacing `to` (durable at once). The file keeps its own durable
   * state: renaming an unsynced file over a synced one and losing power leaves `to` with what `from` had
   * made durable — which is why Kafka and ZooKeeper fsync before renaming.
   */
  rename(from: string, to: string): DiskError | null {
    if (this.faults.writeError) return "EIO";
    const file = this.files.get(from);
    if (file === undefined) return "ENOENT";
    if (from === to) return null;
    const replaced = this.files.get(to);
    if (replaced !== undefined) {
      this.used -= replaced.bytes;
      this.files.delete(to);
    }
    this.files.delete(from);
    this.files.set(to, file);
    return null;
  }

  // ---- Reads (the page-cache view) ----

  /** Chunks [fromChunk, toChunk) as the page cache holds them; callers check valid(chunk). */
  read(name: string, fromChunk = 0, toChunk?: number): ReadResult {
    const file = this.files.get(name);
    if (file === undefined) return { error: "ENOENT" };
    const end = toChunk ?? file.count;
    assert(Number.isInteger(fromChunk) && Number.isInteger(end), "read range must be whole chunk indexes");
    assert(0 <= fromChunk && fromChunk <= end && end <= file.count, "read range outside the file");
    return { error: null, chunks: file.chunks(fromChunk, end) };
  }

  /**
   * The page cache of `name` itself, chunk by chunk without Chunk objects (null for a missing file): for a
   * reader that looks at once and keeps nothing (a segment's reads, per fetch, and its scans).
   */
  pageCache(name: string): PageCacheView | null {
    return this.files.get(name) ?? null;
  }

  exists(name: string): boolean {
    return this.files.has(name);
  }

  /** Names starting with `prefix`, sorted. */
  list(prefix = ""): string[] {
    const names: string[] = [];
    for (const name of this.files.keys()) if (name.startsWith(prefix)) names.push(name);
    return names.sort();
  }

  /** Chunks in the page-cache view (0 for a missing file). */
  chunkCount(name: string): number {
    return this.files.get(name)?.count ?? 0;
  }

  /** Bytes in the page-cache view (0 for a missing file). */
  sizeBytes(name: string): number {
    return this.files.get(name)?.bytes ?? 0;
  }

  usedBytes(): number {
    return this.used;
  }

  // ---- Durability ----

  /**
   * Makes the file's content as of this call durable after the fsync latency (plus any slow-disk fault),
   * then runs `callback` through `context` — dropped if that incarnation died, deferred while it is paused.
   * A truncation during the latency clamps what the fsync persists; a power loss voids it (EIO).
   * With a null context the callback runs directly (tests, tools).
   */
  fsync(name: string, context: IoContext | null, callback?: FsyncCallback): void {
    const file = this.files.get(name) ?? null;
    let error: DiskError | null = null;
    if (file === null) error = "ENOENT";
    else if (this.faults.fsyncError) error = "EIO";
    const op: FsyncOp = {
      file,
      count: file === null ? 0 : file.count,
      epoch: this.powerEpoch,
      truncationSeq: this.truncationSeq,
      error,
      context,
      callback,
    };
    if (file !== null && error === null) file.inFlight.push(op);
    const latency = this.rng.int(this.config.fsyncMinUs, this.config.fsyncMaxUs) + this.faults.fsyncExtraUs;
    this.kernel.after(latency, this, EVENT_FSYNC_DONE, op);
  }

  describeEvent(): string {
    return `${this.hostName} disk fsync completes`;
  }

  handleEvent(kind: number, a: unknown): void {
    assert(kind === EVENT_FSYNC_DONE, `unknown disk event kind ${kind}`);
    const op = a as FsyncOp;
    let error = op.error;
    if (op.file !== null && error === null) {
      const index = op.file.inFlight.indexOf(op);
      if (index >= 0) op.file.inFlight.splice(index, 1);
      if (op.epoch !== this.powerEpoch) {
        error = "EIO";
      } else {
        op.file.makeDurable(op.count);
        // The journal commit this fsync forced holds every truncation made before the call, on any file.
        if (op.truncationSeq > this.committedTruncationSeq) this.committedTruncationSeq = op.truncationSeq;
      }
    }
    const callback = op.callback;
    if (callback === undefined) return;
    if (op.context === null) callback(error);
    else op.context.invoke(() => callback(error));
  }

  /** Makes every file durable at once (tests, a clean operating-system shutdown). */
  syncAll(): void {
    for (const file of this.files.values()) file.makeDurable(file.count);
    this.committedTruncationSeq = this.truncationSeq;
  }

  /** What a power loss right now would leave of the file at least: its durable view ([] when missing). */
  durableView(name: string): readonly Chunk[] {
    const file = this.files.get(name);
    if (file === undefined) return [];
    this.materialize(file, this.writebackCutoffUs());
    return file.durableView();
  }

  /** Bytes in the page cache not yet durable. */
  dirtyBytes(): number {
    const cutoff = this.writebackCutoffUs();
    let dirty = 0;
    for (const file of this.files.values()) {
      file.materializeWriteback(cutoff);
      dirty += file.bytes - file.syncedBytes;
    }
    return dirty;
  }

  // ---- Host failures ----

  /** kill -9: the page cache survives and in-flight fsyncs still complete (their callbacks die with the process). */
  onCrash(): void {}

  /** Each file keeps its durable view plus a random prefix of its unsynced chunks, the last one maybe torn. */
  onPowerLoss(rng: Rng): void {
    this.loseCache(rng, true, "disk-power-loss");
  }

  /**
   * A kernel panic or hard reset: the page cache is lost as on a power loss — each file keeps its durable view
   * plus a random prefix of its unsynced chunks (what writeback had handed to the device) — but the device keeps
   * power and completes every write it was given, so no chunk is torn.
   */
  onMachineCrash(rng: Rng): void {
    this.loseCache(rng, false, "disk-machine-crash");
  }

  private loseCache(rng: Rng, tear: boolean, kind: string): void {
    this.powerEpoch++;
    const cutoff = this.writebackCutoffUs();
    const trace = this.world.trace;
    for (const name of this.list()) {
      const file = this.files.get(name)!;
      this.materialize(file, cutoff);
      const before = file.bytes;
      const outcome = file.powerLoss(rng, tear);
      if (outcome === null) continue;
      this.used += file.bytes - before;
      if (trace.on) trace.emit(this.hostName, kind, { file: name, ...outcome });
    }
  }

  // ---- Faults ----

  setFaults(faults: Partial<DiskFaults>): void {
    const next = { ...this.faults, ...faults };
    assert(Number.isInteger(next.fsyncExtraUs) && next.fsyncExtraUs >= 0, "fsyncExtraUs must be a whole µs");
    assert(next.capacityBytes >= 0, "capacityBytes must not be negative");
    this.faults = next;
  }

  /** The disk is full: the next write of any size above zero gets ENOSPC. */
  fill(): void {
    this.faults = { ...this.faults, capacityBytes: this.used };
  }

  /**
   * A silent bit-flip: one random chunk of `name` (or of a random non-empty file) is replaced by a flipped
   * copy, in the cache and (when synced) on the medium. Returns what was flipped, or null when there is
   * nothing to flip.
   */
  corrupt(rng: Rng, name?: string): Corruption | null {
    let target: string;
    if (name !== undefined) {
      if (this.chunkCount(name) === 0) return null;
      target = name;
    } else {
      const candidates = this.list().filter((candidate) => this.chunkCount(candidate) > 0);
      if (candidates.length === 0) return null;
      target = rng.pick(candidates);
    }
    const file = this.files.get(target)!;
    const index = rng.int(0, file.count - 1);
    file.flip(index);
    const trace = this.world.trace;
    if (trace.on) trace.emit(this.hostName, "disk-corrupt", { file: target, chunk: index });
    return { file: target, chunk: index };
  }

  clearFaults(): void {
    this.faults = this.noFaults();
  }

  get currentFaults(): Readonly<DiskFaults> {
    return this.faults;
  }

  // ---- Internals ----

  private noFaults(): DiskFaults {
    return { fsyncExtraUs: 0, writeError: false, fsyncError: false, capacityBytes: this.config.capacityBytes };
  }

  /**
   * Chunks written at or before this time have been written back: the flusher's last wake-up (a multiple of
   * writebackIntervalUs) wrote back everything older than writebackUs. Equivalently, a chunk written at w is
   * durable from ceil((w + writebackUs) / writebackIntervalUs) * writebackIntervalUs.
   */
  private writebackCutoffUs(): number {
    const interval = this.config.writebackIntervalUs;
    return Math.floor(this.kernel.now / interval) * interval - this.config.writebackUs;
  }

  /**
   * The journal's last periodic commit: commits run at every multiple of journalCommitIntervalUs, and one
   * covers the truncations made strictly before it.
   */
  private journalCommitCutoffUs(): number {
    const interval = this.config.journalCommitIntervalUs;
    return Math.floor(this.kernel.now / interval) * interval;
  }

  /** Applies writeback and journal commits to the file's durable view. */
  private materialize(file: DiskFile, writebackCutoffUs: number): void {
    file.materializeWriteback(writebackCutoffUs);
    if (file.hasPendingTruncation) file.materializeJournal(this.committedTruncationSeq, this.journalCommitCutoffUs());
  }

  private truncateFile(file: DiskFile, chunkCount: number): void {
    this.materialize(file, this.writebackCutoffUs());
    const willWait = chunkCount < file.syncedLen;
    if (willWait) this.truncationSeq++;
    this.used -= file.truncate(chunkCount, this.truncationSeq, this.kernel.now);
  }
}
