/**
 * LogSegment: one `<20-digit base offset>.log` file of a partition's log on the host's virtual disk, one chunk
 * per record batch, with its sparse offset and time indexes (indexes.ts), size, next offset, largest timestamp
 * and creation time (for segment.ms). Reads go through the disk (the page cache), so a bit-flipped batch is
 * seen; recovery validates each batch (the chunk's CRC) and truncates at the first invalid one. Simplifications:
 * the index files are not modelled (rebuilt on load), segment.jitter.ms is 0, the transaction index is absent,
 * and a segment's mtime is the virtual time of its last write. Beside Kafka's indexes the segment keeps every
 * batch's last offset in a typed column, so that a read finds its first batch by binary search (the batch
 * Kafka's index lookup plus file scan finds) and reads the page cache in place (Disk.pageCache).
 */

import type { Damage, Disk, DiskError, IoContext, PageCacheView } from "../../disk/disk.ts";
import { Float64Column } from "../../sim/column.ts";
import { assert } from "../../sim/assert.ts";
import type { LogConfig } from "./config.ts";
import { OFFSET_INDEX_ENTRY_BYTES, OffsetIndex, TIME_INDEX_ENTRY_BYTES, TimeIndex } from "./indexes.ts";
import type { LeaderEpochFileCache } from "./leader-epoch-cache.ts";
import { lastOffset, nextOffset, type RecordBatch } from "./records.ts";

/** RecordBatch.NO_TIMESTAMP. */
export const NO_TIMESTAMP = -1;
/** Offsets in a segment are stored relative to its base as 32-bit integers. */
const MAX_RELATIVE_OFFSET = 2147483647;

/** `<dir>/<base offset, 20 digits>.log` (LogFileUtils.logFile). */
export function segmentFileName(dir: string, baseOffset: number): string {
  return `${dir}/${String(baseOffset).padStart(20, "0")}.log`;
}

const SEGMENT_FILE = /\/(\d{20})\.log$/;

/** The base offset a segment file name encodes, or null when the name is not a segment file. */
export function baseOffsetOfFile(name: string): number | null {
  const match = SEGMENT_FILE.exec(name);
  return match === null ? null : Number(match[1]);
}

export type RollReason = "segment.bytes" | "segment.ms" | "index-full" | "offset-overflow";

/** A segment read: whole batches (a partial trailing batch is useless to any reader and not returned). */
export type SegmentRead = { error: null; batches: RecordBatch[]; sizeBytes: number } | { error: "CORRUPT_MESSAGE" };

/** readSizeBytes: the first batch of the read fails its CRC (read's CORRUPT_MESSAGE). */
export const CORRUPT_FIRST_BATCH = -1;

/** Why recovery stopped reading a segment. */
export type InvalidBatchReason = "torn" | "crc" | "offset-order" | "offset-overflow";

export interface SegmentRecovery {
  /** Bytes cut from the end of the file. */
  truncatedBytes: number;
  /** The first invalid batch: where it starts (its claimed base offset) and why it failed, or null. */
  invalid: { baseOffset: number; reason: InvalidBatchReason } | null;
}


export class LogSegment {
  readonly fileName: string;
  /** Bytes in the file (the page cache view). */
  sizeBytes = 0;
  /** Batches (= chunks) in the file. */
  batchCount = 0;
  /** The offset after the last batch, or the base offset when empty (readNextOffset). */
  nextOffset: number;
  /** Largest batch max timestamp so far, NO_TIMESTAMP if none, and the last offset of that batch. */
  maxTimestamp = NO_TIMESTAMP;
  offsetOfMaxTimestamp: number;
  /** When the segment was opened or emptied (the local clock), for segment.ms without timestamps. */
  createdMs: number;
  /** The file's mtime: the last append or truncation. */
  lastModifiedMs: number;
  /** Bumped by every change of the file: lets an asynchronous job (the cleaner) see it raced with one. */
  generation = 0;
  readonly offsetIndex: OffsetIndex;
  readonly timeIndex: TimeIndex;
  /** The first batch's max timestamp (segment.ms is measured from it), null when empty. */
  private rollingBasedTimestamp: number | null = null;
  private bytesSinceLastIndexEntry = 0;
  /**
   * Per batch (chunk) of the file, for [0, batchCount): its last offset. A lookup structure of the simulator, not
   * of Kafka: translateOffset binary-searches it instead of scanning the file from the sparse index entry, with
   * the same answer (the offset index still decides rolls, as in Kafka). A typed column: no object per batch.
   */
  private readonly batchLastOffsets = new Float64Column();

  private constructor(
    private readonly disk: Disk,
    dir: string,
    readonly baseOffset: number,
    private readonly indexIntervalBytes: number,
    maxIndexBytes: number,
    nowMs: number,
  ) {
    assert(Number.isInteger(baseOffset) && baseOffset >= 0, "segment base offset must be a non-negative integer");
    this.fileName = segmentFileName(dir, baseOffset);
    this.nextOffset = baseOffset;
    this.offsetOfMaxTimestamp = baseOffset;
    this.createdMs = nowMs;
    this.lastModifiedMs = nowMs;
    this.offsetIndex = new OffsetIndex(Math.floor(maxIndexBytes / OFFSET_INDEX_ENTRY_BYTES));
    this.timeIndex = new TimeIndex(Math.floor(maxIndexBytes / TIME_INDEX_ENTRY_BYTES));
  }

  /** A new empty segment file (LogSegment.open for a new base offset). */
  static create(disk: Disk, dir: string, baseOffset: number, config: Readonly<LogConfig>, nowMs: number): LogSegment | DiskError {
    const segment = new LogSegment(disk, dir, baseOffset, config["index.interval.bytes"], config["segment.index.bytes"], nowMs);
    assert(!disk.exists(segment.fileName), `segment file ${segment.fileName} already exists`);
    return disk.create(segment.fileName) ?? segment;
  }

  /**
   * An existing segment file, its indexes rebuilt by reading every batch. With `recover`, each batch is validated
   * first (LogSegment.recover: CRC, offsets increasing and within the segment's relative range) and the file is
   * truncated at the first invalid one; epochs of the batches read are assigned in `epochCache` (only increasing).
   * Without it the batches are trusted, as Kafka trusts segments below the recovery point.
   */
  static load(
    disk: Disk,
    dir: string,
    baseOffset: number,
    config: Readonly<LogConfig>,
    nowMs: number,
    recover: boolean,
    epochCache: LeaderEpochFileCache | null,
  ): { segment: LogSegment; recovery: SegmentRecovery } | DiskError {
    const segment = new LogSegment(disk, dir, baseOffset, config["index.interval.bytes"], config["segment.index.bytes"], nowMs);
    const recovery = segment.scan(recover, epochCache);
    if (recovery.truncatedBytes > 0 || recovery.invalid !== null) {
      const error = disk.truncate(segment.fileName, segment.batchCount);
      if (error !== null) return error;
    }
    return { segment, recovery };
  }

  /** A segment rebuilt from batches already written to its file (the cleaner's output, after the swap). */
  static fromBatches(
    disk: Disk,
    dir: string,
    baseOffset: number,
    config: Readonly<LogConfig>,
    batches: readonly RecordBatch[],
    createdMs: number,
    lastModifiedMs: number,
  ): LogSegment {
    const segment = new LogSegment(disk, dir, baseOffset, config["index.interval.bytes"], config["segment.index.bytes"], createdMs);
    for (const batch of batches) segment.indexBatch(batch, batch.sizeBytes);
    segment.lastModifiedMs = lastModifiedMs;
    segment.timeIndex.maybeAppend(segment.maxTimestamp, segment.offsetOfMaxTimestamp);
    return segment;
  }

  get isEmpty(): boolean {
    return this.batchCount === 0;
  }

  /** LogSegment.largestTimestamp: the largest record timestamp, or the mtime when there is none. */
  get largestTimestamp(): number {
    return this.maxTimestamp >= 0 ? this.maxTimestamp : this.lastModifiedMs;
  }

  canConvertToRelativeOffset(offset: number): boolean {
    const relative = offset - this.baseOffset;
    return relative >= 0 && relative <= MAX_RELATIVE_OFFSET;
  }

  /** Appends one batch (hot path: one disk append, O(1) index upkeep). Offsets must increase. */
  append(batch: RecordBatch, nowMs: number): DiskError | null {
    assert(batch.baseOffset >= this.nextOffset, "segment appends must have increasing offsets");
    assert(this.canConvertToRelativeOffset(lastOffset(batch)), "batch offset beyond the segment's relative range");
    const error = this.disk.append(this.fileName, batch, batch.sizeBytes);
    if (error !== null) return error;
    this.indexBatch(batch, batch.sizeBytes);
    this.lastModifiedMs = nowMs;
    this.generation++;
    return null;
  }

  /** Whether the segment must be rolled before appending (LogSegment.shouldRoll), and why. */
  shouldRoll(
    maxSegmentMs: number,
    maxSegmentBytes: number,
    maxTimestampInMessages: number,
    maxOffsetInMessages: number,
    messagesSize: number,
    nowMs: number,
  ): RollReason | null {
    // Kafka's RollParams, as arguments: asked on every append, so no object per append.
    if (this.sizeBytes > maxSegmentBytes - messagesSize) return "segment.bytes";
    if (this.sizeBytes > 0 && this.timeWaitedForRoll(nowMs, maxTimestampInMessages) > maxSegmentMs) {
      return "segment.ms";
    }
    if (this.offsetIndex.isFull() || this.timeIndex.isFull()) return "index-full";
    if (!this.canConvertToRelativeOffset(maxOffsetInMessages)) return "offset-overflow";
    return null;
  }

  /** Time since the first batch's timestamp (by the new batch's timestamp), or since creation (by the clock). */
  timeWaitedForRoll(nowMs: number, messageTimestamp: number): number {
    const first = this.rollingBasedTimestamp ?? NO_TIMESTAMP;
    return first >= 0 ? messageTimestamp - first : nowMs - this.createdMs;
  }

  /**
   * Batches from the one holding `startOffset` (the first whose last offset >= it), whole, up to `maxBytes`
   * (the first batch regardless when `minOneBatch`, KIP-74), and only batches ending before `maxOffset`.
   * Null when no batch of this segment reaches `startOffset`. A batch that fails its CRC ends the read; as the
   * first batch it is CORRUPT_MESSAGE (what the fetching follower's or consumer's CRC check reports).
   */
  read(startOffset: number, maxBytes: number, maxOffset: number, minOneBatch: boolean): SegmentRead | null {
    const start = this.translateOffset(startOffset);
    if (start < 0) return null;
    const batches: RecordBatch[] = [];
    const bytes = this.scanRead(start, maxBytes, maxOffset, minOneBatch, batches);
    return bytes === CORRUPT_FIRST_BATCH ? { error: "CORRUPT_MESSAGE" } : { error: null, batches, sizeBytes: bytes };
  }

  /**
   * read's sizeBytes without the batches (a parked fetch's check of what it could read now, Kafka's
   * DelayedFetch byte count): null when no batch of this segment reaches `startOffset`, CORRUPT_FIRST_BATCH
   * where read is CORRUPT_MESSAGE.
   */
  readSizeBytes(startOffset: number, maxBytes: number, maxOffset: number, minOneBatch: boolean): number | null {
    const start = this.translateOffset(startOffset);
    if (start < 0) return null;
    return this.scanRead(start, maxBytes, maxOffset, minOneBatch, null);
  }

  /** read's scan from chunk `start`: the bytes read (the batches pushed onto `batches` unless null), or CORRUPT_FIRST_BATCH. */
  private scanRead(start: number, maxBytes: number, maxOffset: number, minOneBatch: boolean, batches: RecordBatch[] | null): number {
    assert(maxBytes >= 0, "read max bytes must not be negative");
    const file = this.pageCache();
    const limit = minOneBatch ? Math.max(maxBytes, file.sizeAt(start)) : maxBytes;
    let bytes = 0;
    let count = 0;
    for (let index = start; index < this.batchCount; index++) {
      const batch = file.dataAt(index) as RecordBatch;
      const sizeBytes = file.sizeAt(index);
      if (lastOffset(batch) >= maxOffset) break;
      if (bytes + sizeBytes > limit) break;
      if (file.damageAt(index) !== "none") {
        if (count === 0) return CORRUPT_FIRST_BATCH;
        break;
      }
      if (batches !== null) batches.push(batch);
      count++;
      bytes += sizeBytes;
    }
    return bytes;
  }

  /**
   * Removes the batch holding `offset` and everything after it (LogSegment.truncateTo): truncation is at batch
   * boundaries. Returns the first removed batch (null when nothing was removed) and the bytes cut.
   */
  truncateTo(offset: number, nowMs: number): { removed: RecordBatch | null; bytesTruncated: number } | DiskError {
    const chunk = this.translateOffset(offset);
    this.offsetIndex.truncateTo(offset);
    this.timeIndex.truncateTo(offset);
    this.bytesSinceLastIndexEntry = 0;
    if (chunk < 0) return { removed: null, bytesTruncated: 0 };
    const file = this.pageCache();
    const removed = file.dataAt(chunk) as RecordBatch;
    let bytesTruncated = 0;
    for (let index = chunk; index < this.batchCount; index++) bytesTruncated += file.sizeAt(index);
    const error = this.disk.truncate(this.fileName, chunk);
    if (error !== null) return error;
    this.sizeBytes -= bytesTruncated;
    this.batchCount = chunk;
    this.batchLastOffsets.truncate(chunk);
    this.nextOffset = chunk === 0 ? this.baseOffset : this.batchLastOffsets.at(chunk - 1) + 1;
    this.lastModifiedMs = nowMs;
    this.generation++;
    if (this.batchCount === 0) {
      this.createdMs = nowMs;
      this.rollingBasedTimestamp = null;
    }
    if (this.maxTimestamp >= 0) this.readLargestTimestamp();
    return { removed, bytesTruncated };
  }

  /** The segment stops being the active one: the time index gets its final entry (onBecomeInactiveSegment). */
  onBecomeInactiveSegment(): void {
    this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
  }

  /** fsync of the segment file (and, in Kafka, its indexes). */
  flush(context: IoContext, callback: (error: DiskError | null) => void): void {
    this.disk.fsync(this.fileName, context, callback);
  }

  /** Removes the file. */
  delete(): DiskError | null {
    return this.disk.exists(this.fileName) ? this.disk.delete(this.fileName) : null;
  }

  /** Every batch of the segment, read from the disk lazily (the cleaner, producer-state rebuilds). */
  *batches(): Generator<RecordBatch> {
    const end = this.batchCount;
    for (let index = 0; index < end; index++) yield this.pageCache().dataAt(index) as RecordBatch;
  }

  /** Every batch, or CORRUPT_MESSAGE if one fails its CRC (the cleaner validates what it reads). */
  readAllBatches(): RecordBatch[] | "CORRUPT_MESSAGE" {
    const batches: RecordBatch[] = [];
    const file = this.pageCache();
    for (let index = 0; index < this.batchCount; index++) {
      if (file.damageAt(index) !== "none") return "CORRUPT_MESSAGE";
      batches.push(file.dataAt(index) as RecordBatch);
    }
    return batches;
  }

  /**
   * The chunk of the first batch whose last offset is >= `offset`, or -1 (translateOffset). Kafka looks the
   * offset up in the sparse index and scans the file from there; the per-batch last offsets give the same
   * batch by binary search (fetches read here on every request, so this must not be a scan).
   */
  private translateOffset(offset: number): number {
    // Offsets increase batch by batch, so every batch ends below nextOffset: a caught-up fetcher's read at the
    // log end finds nothing without looking.
    if (offset >= this.nextOffset || this.batchCount === 0) return -1;
    const lastOffsets = this.batchLastOffsets;
    let lo = 0;
    let hi = this.batchCount - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (lastOffsets.at(mid) >= offset) hi = mid;
      else lo = mid + 1;
    }
    return lastOffsets.at(lo) >= offset ? lo : -1;
  }

  /** The file as the page cache holds it (not a copy: use at once, keep nothing). */
  private pageCache(): PageCacheView {
    const file = this.disk.pageCache(this.fileName);
    // The message is built only on failure: every read and append of the segment asks.
    if (file === null || file.count < this.batchCount) assert(false, `segment file ${this.fileName} is missing`);
    return file;
  }

  /** Per batch: timestamps, the sparse index entry every index.interval.bytes, size and next offset. */
  private indexBatch(batch: RecordBatch, sizeBytes: number): void {
    if (this.batchCount === 0) this.rollingBasedTimestamp = batch.maxTimestamp;
    if (batch.maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = batch.maxTimestamp;
      this.offsetOfMaxTimestamp = lastOffset(batch);
    }
    if (this.bytesSinceLastIndexEntry > this.indexIntervalBytes && !this.offsetIndex.isFull()) {
      this.offsetIndex.append(lastOffset(batch), this.batchCount, this.sizeBytes);
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += sizeBytes;
    this.batchLastOffsets.push(lastOffset(batch));
    this.sizeBytes += sizeBytes;
    this.batchCount++;
    this.nextOffset = nextOffset(batch);
  }

  /** Reads the file from the start, rebuilding everything; with `recover`, stops at the first invalid batch. */
  private scan(recover: boolean, epochCache: LeaderEpochFileCache | null): SegmentRecovery {
    const total = this.disk.sizeBytes(this.fileName);
    const file = this.disk.pageCache(this.fileName);
    assert(file !== null, `segment file ${this.fileName} is missing`);
    let invalid: SegmentRecovery["invalid"] = null;
    for (let index = 0; index < file.count; index++) {
      const batch = file.dataAt(index) as RecordBatch;
      const reason = recover ? invalidReason(file.damageAt(index), batch, this) : null;
      if (reason !== null) {
        invalid = { baseOffset: batch.baseOffset, reason };
        break;
      }
      assert(batch.baseOffset >= this.nextOffset, `segment ${this.fileName}: batch offsets must increase`);
      this.indexBatch(batch, file.sizeAt(index));
      if (epochCache !== null && batch.partitionLeaderEpoch >= 0 && batch.partitionLeaderEpoch > epochCache.latestEpoch()) {
        epochCache.assign(batch.partitionLeaderEpoch, batch.baseOffset);
      }
      this.lastModifiedMs = Math.floor(file.writtenAtUsAt(index) / 1000);
    }
    this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
    return { truncatedBytes: total - this.sizeBytes, invalid };
  }

  /** After a truncation: the last time-index entry, then a scan of the batches after it (readLargestTimestamp). */
  private readLargestTimestamp(): void {
    const last = this.timeIndex.lastEntry(this.baseOffset);
    this.maxTimestamp = last.timestamp;
    this.offsetOfMaxTimestamp = last.offset;
    const file = this.pageCache();
    for (let index = this.offsetIndex.lookup(last.offset).chunk; index < this.batchCount; index++) {
      const batch = file.dataAt(index) as RecordBatch;
      if (batch.maxTimestamp > this.maxTimestamp) {
        this.maxTimestamp = batch.maxTimestamp;
        this.offsetOfMaxTimestamp = lastOffset(batch);
      }
    }
  }
}

/** Why recovery rejects a batch (Kafka: CorruptRecordException, InvalidRecordException, offset overflow). */
function invalidReason(damage: Damage, batch: RecordBatch, segment: LogSegment): InvalidBatchReason | null {
  if (damage === "torn") return "torn";
  if (damage !== "none") return "crc";
  if (batch.baseOffset < segment.nextOffset) return "offset-order";
  if (!segment.canConvertToRelativeOffset(lastOffset(batch))) return "offset-overflow";
  return null;
}
