/**
 * The partition log (UnifiedLog + LocalLog): segments, log start offset, log end offset, high watermark,
 * recovery point and the leader-epoch cache; leader and follower appends, reads bounded by the caller (the
 * high watermark for consumers, the log end for followers), truncation, segment rolls, the flush policy and
 * time/size/start-offset retention (retention.ts). Compaction is in log-cleaning.ts, loading and recovery in
 * log-loader.ts.
 * Simplifications: no LogAppendTime, no message-format conversion, no tiered storage, the cleaner's and the
 * retention thread's locking is the event loop; a flush is an fsync whose completion arrives later, so the
 * flush an append triggers (flush.messages), which Kafka runs inside the append, is waited for by the caller
 * (whenAppendsFlushed) before going on (the fetcher's next fetch, the produce's response): flush.ts.
 */

import type { DiskError } from "../../disk/disk.ts";
import { assert } from "../../sim/assert.ts";
import { TRACE_RECORDS, type TraceFields } from "../../sim/trace.ts";
import type { LogConfig } from "./config.ts";
import { nowMs, type LogContext, type LogError } from "./context.ts";
import { LogFlushes, type FlushCallback } from "./flush.ts";
import { UNDEFINED_EPOCH, type LeaderEpochFileCache } from "./leader-epoch-cache.ts";
import { compactLog, type CompactionOutcome } from "./log-cleaning.ts";
import { NO_PRODUCER_STATE, type ProducerStateHooks } from "./producer-state.ts";
import {
  deleteLogStartOffsetBreachedSegments,
  deleteOldSegments,
  deleteRetentionMsBreachedSegments,
  deleteRetentionSizeBreachedSegments,
} from "./retention.ts";
import { lastOffset, nextOffset, stamped, type RecordBatch } from "./records.ts";
import { CORRUPT_FIRST_BATCH, LogSegment, segmentFileName, type RollReason } from "./segment.ts";

/**
 * `flushing`: the append reached flush.messages and started a flush (whenAppendsFlushed waits for it). Kafka
 * flushes inside UnifiedLog.append, so its caller goes on only after the fsync.
 */
export type AppendResult =
  | { error: null; firstOffset: number; lastOffset: number; batch: RecordBatch; flushing: boolean }
  | { error: LogError };

export type LogReadResult = { error: null; batches: RecordBatch[]; sizeBytes: number } | { error: LogError };

export type TruncateResult = { error: null; truncated: boolean } | { error: "KAFKA_STORAGE_ERROR" };

export type IncrementResult = { error: null; updated: boolean } | { error: "OFFSET_OUT_OF_RANGE" | "KAFKA_STORAGE_ERROR" };

/** What a loaded (or newly created) log starts from: log-loader.ts builds it. */
export interface LogState {
  topic: string;
  partition: number;
  dir: string;
  config: LogConfig;
  segments: LogSegment[];
  logStartOffset: number;
  logEndOffset: number;
  recoveryPoint: number;
  leaderEpochCache: LeaderEpochFileCache;
  /** Cleaner checkpoint: offsets below it were compacted before. */
  firstDirtyOffset: number;
}

/** Called on a disk error: Kafka marks the log dir offline (LogDirFailureChannel). */
export type LogFailureHandler = (log: Log, what: string, error: DiskError) => void;

const EMPTY: RecordBatch[] = [];

/**
 * The reads that find nothing, shared (a caught-up follower's or consumer's fetch reads at the bound on almost
 * every request). Read-only: callers take `batches` into a response and never change it.
 */
const EMPTY_READ: LogReadResult = Object.freeze({ error: null, batches: EMPTY, sizeBytes: 0 });
const STORAGE_ERROR_READ: LogReadResult = Object.freeze({ error: "KAFKA_STORAGE_ERROR" });
const OUT_OF_RANGE_READ: LogReadResult = Object.freeze({ error: "OFFSET_OUT_OF_RANGE" });

export class Log {
  readonly topic: string;
  readonly partition: number;
  readonly dir: string;
  /** "topic-partition", built once: the traces and the error messages name it on every append. */
  readonly topicPartition: string;
  config: LogConfig;
  readonly leaderEpochCache: LeaderEpochFileCache;
  /** Offsets below it are gone (retention, DeleteRecords, a leader's start offset). */
  logStartOffset: number;
  /** Offsets below it are durable: recovery re-scans from here. */
  recoveryPoint: number;
  /** The last time the log was fully flushed (Kafka initializes it to the load time). */
  lastFlushTimeMs: number;
  /** No operation succeeds once a disk error took the log dir offline. */
  offline = false;
  closed = false;
  producerState: ProducerStateHooks = NO_PRODUCER_STATE;
  /** A compaction is in flight (one at a time per log). */
  compacting = false;
  /** A batch failed its CRC while cleaning: not cleaned again until restart (Kafka's uncleanable partitions). */
  uncleanable = false;
  private segmentList: LogSegment[];
  private endOffset: number;
  private hw: number;
  private dirtyOffset: number;
  private readonly flushes: LogFlushes;

  constructor(
    state: LogState,
    readonly context: LogContext,
    private readonly onFailure: LogFailureHandler,
  ) {
    assert(state.segments.length > 0, "a log has at least one segment");
    this.topic = state.topic;
    this.partition = state.partition;
    this.dir = state.dir;
    this.topicPartition = `${state.topic}-${state.partition}`;
    this.config = state.config;
    this.segmentList = state.segments;
    this.logStartOffset = state.logStartOffset;
    this.endOffset = state.logEndOffset;
    this.recoveryPoint = state.recoveryPoint;
    this.leaderEpochCache = state.leaderEpochCache;
    this.dirtyOffset = state.firstDirtyOffset;
    this.hw = state.logStartOffset;
    this.flushes = new LogFlushes(this);
    this.lastFlushTimeMs = nowMs(context);
    this.checkOffsets();
  }

  /** The offset of the next record appended (LEO). */
  get logEndOffset(): number {
    return this.endOffset;
  }

  get highWatermark(): number {
    return this.hw;
  }

  /**
   * UnifiedLog.lastStableOffset: the first unstable offset (ProducerStateManager.firstUnstableOffset: the earliest
   * ongoing transaction, or a completed one whose marker the high watermark has not passed) when below the high
   * watermark, else the high watermark. read_committed consumers read up to it.
   */
  get lastStableOffset(): number {
    const firstUnstable = this.producerState.firstUnstableOffset(this.hw);
    return firstUnstable !== null && firstUnstable < this.hw ? firstUnstable : this.hw;
  }

  /** The segments, oldest first; the last one is the active segment. */
  get segments(): readonly LogSegment[] {
    return this.segmentList;
  }

  get activeSegment(): LogSegment {
    return this.segmentList[this.segmentList.length - 1];
  }

  get sizeInBytes(): number {
    let size = 0;
    for (const segment of this.segmentList) size += segment.sizeBytes;
    return size;
  }

  /** LEO − recovery point: messages not known to be on disk. */
  get unflushedMessages(): number {
    return this.endOffset - this.recoveryPoint;
  }

  /** The cleaner's first dirty offset, clamped into the log as LogCleanerManager.cleanableOffsets does. */
  get firstDirtyOffset(): number {
    if (this.dirtyOffset < this.logStartOffset || this.dirtyOffset > this.endOffset) return this.logStartOffset;
    return this.dirtyOffset;
  }

  set firstDirtyOffset(offset: number) {
    this.dirtyOffset = offset;
  }

  /** Attaches producer state and rebuilds it from the log's batches. */
  setProducerStateHooks(hooks: ProducerStateHooks): void {
    this.producerState = hooks;
    hooks.rebuild(this.batchesFrom(this.logStartOffset));
  }

  // ---- Appends ----

  /**
   * A produce to the leader: the batch gets offsets from the log end and the leader's epoch
   * (LogValidator), and the epoch is assigned in the cache on its first batch.
   */
  appendAsLeader(batch: RecordBatch, leaderEpoch: number): AppendResult {
    assert(Number.isInteger(leaderEpoch) && leaderEpoch >= 0, "leader epoch must be a non-negative integer");
    assert(batch.recordCount > 0, "a produced batch has records");
    const rejected = this.checkAppend(batch);
    if (rejected !== null) return { error: rejected };
    return this.append(stamped(batch, this.endOffset, leaderEpoch), true);
  }

  /**
   * A follower copying the leader's batch with its offsets and epoch. Offsets may jump forward (a compacted
   * leader sends batches with gaps); a batch starting below the log end is Kafka's
   * UnexpectedAppendOffsetException, left to the fetcher.
   */
  appendAsFollower(batch: RecordBatch): AppendResult {
    const rejected = this.checkAppend(batch);
    if (rejected !== null) return { error: rejected };
    if (batch.baseOffset < this.endOffset) return { error: "UNEXPECTED_APPEND_OFFSET" };
    return this.append(batch, false);
  }

  /** Records that `epoch` starts at `startOffset` (Partition.makeLeader does this for a new leader epoch). */
  maybeAssignEpochStartOffset(epoch: number, startOffset: number): void {
    this.leaderEpochCache.assign(epoch, startOffset);
  }

  private checkAppend(batch: RecordBatch): LogError | null {
    // The message is built only on failure (checkAppend and read run on every append and fetch).
    if (this.closed) assert(false, `append to closed log ${this.topicPartition}`);
    if (this.offline) return "KAFKA_STORAGE_ERROR";
    if (batch.sizeBytes > this.config["max.message.bytes"]) return "MESSAGE_TOO_LARGE";
    if (batch.sizeBytes > this.config["segment.bytes"]) return "RECORD_LIST_TOO_LARGE";
    return null;
  }

  private append(batch: RecordBatch, asLeader: boolean): AppendResult {
    const now = nowMs(this.context);
    let segment = this.activeSegment;
    const reason = segment.shouldRoll(this.config["segment.ms"], this.config["segment.bytes"], batch.maxTimestamp, lastOffset(batch), batch.sizeBytes, now);
    if (reason !== null) {
      const rolled = this.roll(batch.baseOffset, reason);
      if (typeof rolled === "string") return { error: "KAFKA_STORAGE_ERROR" };
      segment = rolled;
    }
    const error = segment.append(batch, now);
    if (error !== null) return { error: this.fail("append", error) };
    this.endOffset = nextOffset(batch);
    if (batch.partitionLeaderEpoch >= 0) this.leaderEpochCache.assign(batch.partitionLeaderEpoch, batch.baseOffset);
    this.producerState.onBatchAppended(batch);
    // UnifiedLog.append: `if (localLog.unflushedMessages >= config.flushInterval) flush(false)`, under the log's
    // lock and before the append returns. A flush already in flight counts as done here (Kafka's would be).
    const unflushed = this.endOffset - Math.max(this.recoveryPoint, this.flushes.requestedUpTo);
    const flushing = unflushed >= this.config["flush.messages"];
    if (flushing) {
      const started = this.flushes.flush(this.endOffset, true);
      if (!started) assert(false, `${this.topicPartition}: an append's flush has the active segment to fsync`);
    }
    if (this.context.tracing) this.traceAppend(batch, asLeader);
    return { error: null, firstOffset: batch.baseOffset, lastOffset: lastOffset(batch), batch, flushing };
  }

  /**
   * The log-append event: the replication checkers mirror every replica's log from it (record identity = value).
   * The checkers read the records from the batch itself, under TRACE_RECORDS (no trace line carries it); the
   * `offsets` and `values` arrays are built only when a trace line or an event-object observer reads them, or the
   * transaction checkers (a transactional batch) — one pair of arrays per append per replica was the largest
   * allocation of a checked run. The key order, and so the trace line, is the object literal's it replaced.
   */
  private traceAppend(batch: RecordBatch, asLeader: boolean): void {
    const fields: TraceFields = {
      topicPartition: this.topicPartition,
      baseOffset: batch.baseOffset,
      lastOffset: lastOffset(batch),
      partitionLeaderEpoch: batch.partitionLeaderEpoch,
      asLeader,
      [TRACE_RECORDS]: batch,
    };
    if (batch.isTransactional || this.context.wantsAllFields?.("log-append") !== false) {
      const count = batch.recordCount;
      const offsets = new Array<number>(count);
      const values = new Array<string | null>(count);
      for (let i = 0; i < count; i++) {
        offsets[i] = batch.baseOffset + batch.offsetDeltaAt(i);
        values[i] = batch.valueAt(i);
      }
      fields.offsets = offsets;
      fields.values = values;
    }
    // Only a transactional batch says so (the viewer's control records and aborted shading): every other
    // batch's line, and so every non-transactional trace, is as before.
    if (batch.isTransactional) {
      fields.isTransactional = true;
      fields.producerId = batch.producerId;
      fields.producerEpoch = batch.producerEpoch;
    }
    if (batch.isControl) {
      fields.isControl = true;
      fields.controlType = batch.controlType ?? null;
    }
    this.context.trace("log-append", fields);
  }

  // ---- Reads ----

  /**
   * Batches from the one holding `fetchOffset`, up to `maxBytes` (at least one batch when `minOneBatch`), ending
   * before `maxOffset` (the high watermark for consumers, the log end for followers), from a single segment as
   * Kafka reads. OFFSET_OUT_OF_RANGE below the log start or beyond the log end; empty at or past `maxOffset`.
   */
  read(fetchOffset: number, maxBytes: number, maxOffset: number = this.endOffset, minOneBatch = true): LogReadResult {
    if (this.closed) assert(false, `read from closed log ${this.topicPartition}`);
    assert(maxOffset <= this.endOffset, "a read bound beyond the log end offset");
    if (this.offline) return STORAGE_ERROR_READ;
    if (fetchOffset < this.logStartOffset || fetchOffset > this.endOffset) return OUT_OF_RANGE_READ;
    if (fetchOffset >= maxOffset) return EMPTY_READ;
    for (let i = this.floorSegmentIndex(fetchOffset); i < this.segmentList.length; i++) {
      const read = this.segmentList[i].read(fetchOffset, maxBytes, maxOffset, minOneBatch);
      if (read !== null) return read;
    }
    return EMPTY_READ;
  }

  /**
   * read(...).sizeBytes without building the read, or null where read answers an error (a parked fetch checks on
   * every append to its partitions how many bytes it could read now: no batches array, no result per check).
   */
  readableBytes(fetchOffset: number, maxBytes: number, maxOffset: number, minOneBatch: boolean): number | null {
    if (this.closed) assert(false, `read from closed log ${this.topicPartition}`);
    assert(maxOffset <= this.endOffset, "a read bound beyond the log end offset");
    if (this.offline) return null;
    if (fetchOffset < this.logStartOffset || fetchOffset > this.endOffset) return null;
    if (fetchOffset >= maxOffset) return 0;
    for (let i = this.floorSegmentIndex(fetchOffset); i < this.segmentList.length; i++) {
      const bytes = this.segmentList[i].readSizeBytes(fetchOffset, maxBytes, maxOffset, minOneBatch);
      if (bytes !== null) return bytes === CORRUPT_FIRST_BATCH ? null : bytes;
    }
    return 0;
  }

  /** Every batch from the one holding `offset` to the end, read lazily from the disk. */
  *batchesFrom(offset: number): Generator<RecordBatch> {
    for (let i = Math.max(0, this.floorSegmentIndex(offset)); i < this.segmentList.length; i++) {
      for (const batch of this.segmentList[i].batches()) if (lastOffset(batch) >= offset) yield batch;
    }
  }

  // ---- High watermark and log start offset ----

  /** Sets the high watermark, clamped into [log start, log end] (UnifiedLog.updateHighWatermark); returns it. */
  updateHighWatermark(highWatermark: number): number {
    this.hw = Math.min(Math.max(highWatermark, this.logStartOffset), this.endOffset);
    return this.hw;
  }

  /** Raises the high watermark (a leader); never lowers it. Returns whether it moved. */
  maybeIncrementHighWatermark(highWatermark: number): boolean {
    assert(highWatermark <= this.endOffset, "high watermark beyond the log end offset");
    if (highWatermark <= this.hw) return false;
    this.hw = highWatermark;
    return true;
  }

  /** Moves the log start offset up (retention, DeleteRecords, the leader's start offset); never past the HW. */
  maybeIncrementLogStartOffset(offset: number): IncrementResult {
    if (this.offline) return { error: "KAFKA_STORAGE_ERROR" };
    if (offset > this.hw) return { error: "OFFSET_OUT_OF_RANGE" };
    if (offset <= this.logStartOffset) return { error: null, updated: false };
    this.logStartOffset = offset;
    if (this.recoveryPoint < offset) this.recoveryPoint = offset;
    this.leaderEpochCache.truncateFromStart(offset);
    this.checkOffsets();
    return { error: null, updated: true };
  }

  // ---- Truncation ----

  /**
   * Removes every batch at or after `targetOffset` (the batch holding it goes whole) and sets the log end to
   * `targetOffset`, as UnifiedLog.truncateTo does; also truncates the epoch cache, clamps the high watermark
   * and the recovery point. Below the first segment, truncates fully.
   */
  truncateTo(targetOffset: number): TruncateResult {
    assert(Number.isInteger(targetOffset) && targetOffset >= 0, "truncation offset must be a non-negative integer");
    assert(!this.closed, `truncate of closed log ${this.topicPartition}`);
    if (this.offline) return { error: "KAFKA_STORAGE_ERROR" };
    if (targetOffset >= this.endOffset) {
      // A conflicting epoch entry may sit at the end (a leader that assigned an epoch and appended nothing).
      this.leaderEpochCache.truncateFromEnd(this.endOffset);
      return { error: null, truncated: false };
    }
    if (this.segmentList[0].baseOffset > targetOffset) {
      const error = this.truncateFullyAndStartAt(targetOffset);
      return error === null ? { error: null, truncated: true } : { error };
    }
    const before = this.endOffset;
    let keep = this.segmentList.length;
    while (this.segmentList[keep - 1].baseOffset > targetOffset) keep--;
    const deleted = this.segmentList.slice(keep);
    this.segmentList.length = keep;
    for (const segment of deleted) {
      const error = segment.delete();
      if (error !== null) return { error: this.fail("truncate", error) };
    }
    const result = this.activeSegment.truncateTo(targetOffset, nowMs(this.context));
    if (typeof result === "string") return { error: this.fail("truncate", result) };
    this.endOffset = targetOffset;
    this.flushes.onTruncate(targetOffset);
    this.leaderEpochCache.truncateFromEnd(targetOffset);
    this.logStartOffset = Math.min(targetOffset, this.logStartOffset);
    this.producerState.onTruncate(targetOffset);
    if (this.hw >= this.endOffset) this.hw = this.endOffset;
    if (this.recoveryPoint > this.endOffset) this.recoveryPoint = this.endOffset;
    this.dirtyOffset = Math.min(this.dirtyOffset, this.activeSegment.baseOffset);
    this.checkOffsets();
    if (this.context.tracing) {
      this.context.trace("log-truncate", {
        topicPartition: this.topicPartition,
        offset: targetOffset,
        previousLogEndOffset: before,
        segmentsDeleted: deleted.length,
        bytesTruncated: result.bytesTruncated,
        highWatermark: this.hw,
      });
    }
    return { error: null, truncated: true };
  }

  /** Deletes everything and starts empty at `newOffset` (a follower far behind the leader's log start). */
  truncateFullyAndStartAt(newOffset: number): "KAFKA_STORAGE_ERROR" | null {
    assert(Number.isInteger(newOffset) && newOffset >= 0, "new log start must be a non-negative integer");
    if (this.offline) return "KAFKA_STORAGE_ERROR";
    const before = this.endOffset;
    const deleted = this.segmentList;
    for (const segment of deleted) {
      const error = segment.delete();
      if (error !== null) return this.fail("truncate", error);
    }
    const segment = LogSegment.create(this.context.disk, this.dir, newOffset, this.config, nowMs(this.context));
    if (typeof segment === "string") return this.fail("truncate", segment);
    this.segmentList = [segment];
    this.endOffset = newOffset;
    this.flushes.onTruncate(newOffset);
    this.leaderEpochCache.clearAndFlush();
    this.producerState.onTruncate(newOffset);
    this.logStartOffset = newOffset;
    this.hw = newOffset;
    this.recoveryPoint = Math.min(this.recoveryPoint, newOffset);
    this.dirtyOffset = Math.min(this.dirtyOffset, newOffset);
    this.checkOffsets();
    if (this.context.tracing) {
      this.context.trace("log-truncate", {
        topicPartition: this.topicPartition,
        offset: newOffset,
        previousLogEndOffset: before,
        segmentsDeleted: deleted.length,
        fully: true,
      });
    }
    return null;
  }

  // ---- Rolling and flushing ----

  /**
   * Starts a new active segment at max(expectedNextOffset, log end) (LocalLog.roll) and flushes the old ones
   * asynchronously, as Kafka schedules flush-log on a roll.
   */
  roll(expectedNextOffset = 0, reason: RollReason | "retention" | "requested" = "requested"): LogSegment | "KAFKA_STORAGE_ERROR" {
    const newOffset = Math.max(expectedNextOffset, this.endOffset);
    const active = this.activeSegment;
    if (active.baseOffset === newOffset) {
      // Kafka deletes and recreates an empty active segment here (KAFKA-6388): the same thing.
      assert(active.isEmpty, "rolling onto the base offset of a non-empty segment");
      return active;
    }
    assert(newOffset > active.baseOffset, "a rolled segment must start after the active one");
    active.onBecomeInactiveSegment();
    const stale = segmentFileName(this.dir, newOffset);
    if (this.context.disk.exists(stale)) {
      const error = this.context.disk.delete(stale);
      if (error !== null) return this.fail("roll", error);
    }
    const segment = LogSegment.create(this.context.disk, this.dir, newOffset, this.config, nowMs(this.context));
    if (typeof segment === "string") return this.fail("roll", segment);
    this.segmentList.push(segment);
    if (this.context.tracing) {
      this.context.trace("log-roll", {
        topicPartition: this.topicPartition,
        baseOffset: newOffset,
        previousBaseOffset: active.baseOffset,
        previousSizeBytes: active.sizeBytes,
        reason,
      });
    }
    this.flush(newOffset);
    return segment;
  }

  /**
   * fsyncs the segments holding offsets [recovery point, upTo) and, once all are durable (and no truncation
   * intervened), moves the recovery point to `upTo` (flush.ts). Returns whether fsyncs were started.
   */
  flush(upTo: number = this.endOffset): boolean {
    return this.flushes.flush(upTo, false);
  }

  /**
   * Whether an append's flush (flush.messages) is still running: Kafka's append, and with it the thread that
   * appended (holding the fetcher's partitionMapLock), has not returned yet.
   */
  get appendFlushing(): boolean {
    return this.flushes.appendFlushing;
  }

  /** How many appends started a flush so far: what `whenAppendsFlushed` counts from. */
  get appendFlushCount(): number {
    return this.flushes.appendFlushCount;
  }

  /**
   * Runs `callback` once the flushes of the appends made since appendFlushCount was `after` have returned, with
   * KAFKA_STORAGE_ERROR if one failed (even when the log was closed meanwhile); without `after`, once no
   * append's flush runs. At once (null) if there is nothing to wait for; a callback waiting already is not
   * added twice. Whole-log waiters run before the appenders'.
   */
  whenAppendsFlushed(callback: FlushCallback, after: number | null = null): void {
    this.flushes.whenAppendsFlushed(callback, after);
  }

  /** The flusher's check (LogManager.flushDirtyLogs): flush when the last flush is older than flush.ms. */
  maybeFlushByTime(now: number): void {
    if (now - this.lastFlushTimeMs >= this.config["flush.ms"]) this.flush();
  }

  // ---- Retention (retention.ts) ----

  /**
   * LogManager's retention pass for this log (UnifiedLog.deleteOldSegments): with cleanup.policy delete, segments
   * before the log start offset, beyond retention.bytes and older than retention.ms; otherwise only the first.
   * Only whole segments wholly below the high watermark go; when every segment would go, a new active segment is
   * rolled first, so the active segment itself is never deleted. Returns the number of segments deleted.
   */
  deleteOldSegments(now: number): number {
    return deleteOldSegments(this, now);
  }

  deleteRetentionMsBreachedSegments(now: number): number {
    return deleteRetentionMsBreachedSegments(this, now);
  }

  deleteRetentionSizeBreachedSegments(): number {
    return deleteRetentionSizeBreachedSegments(this);
  }

  deleteLogStartOffsetBreachedSegments(): number {
    return deleteLogStartOffsetBreachedSegments(this);
  }

  /** Drops the first `count` segments (retention, which already moved the log start past them). */
  removeOldestSegments(count: number): LogSegment[] {
    assert(count < this.segmentList.length, "retention must never delete the active segment");
    assert(this.segmentList[count].baseOffset <= this.logStartOffset, "segments removed must lie below the log start");
    const removed = this.segmentList.slice(0, count);
    this.segmentList = this.segmentList.slice(count);
    return removed;
  }

  // ---- Compaction ----

  /**
   * One cleaning round (log-cleaning.ts): the segments go to the cleaner and the rewritten closed segments are
   * swapped in once durable. Returns false when no round started; `done` gets the outcome, or null if the log
   * changed under the round and it was abandoned.
   */
  compact(now: number, done?: (outcome: CompactionOutcome | null) => void): boolean {
    return compactLog(this, now, done);
  }

  // ---- Internals shared with log-cleaning.ts and log-manager.ts ----

  /** Replaces `old` (consecutive segments of this log) by `replacement` (the cleaner's swap). */
  replaceSegments(old: readonly LogSegment[], replacement: LogSegment): void {
    const first = this.segmentList.indexOf(old[0]);
    assert(first >= 0, "replaced segments must belong to the log");
    for (let i = 0; i < old.length; i++) assert(this.segmentList[first + i] === old[i], "replaced segments must be consecutive");
    assert(old[old.length - 1] !== this.activeSegment, "the active segment is never replaced");
    this.segmentList.splice(first, old.length, replacement);
  }

  /** Reports a disk error and takes the log offline; returns the error code for the caller. */
  fail(what: string, error: DiskError): "KAFKA_STORAGE_ERROR" {
    this.offline = true;
    this.onFailure(this, what, error);
    return "KAFKA_STORAGE_ERROR";
  }

  /** Index of the segment holding `offset` (the last with base <= offset), or -1 before the first. */
  floorSegmentIndex(offset: number): number {
    const segments = this.segmentList;
    let lo = 0;
    let hi = segments.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (segments[mid].baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** The latest epoch in the cache, UNDEFINED_EPOCH when none (the follower's OffsetsForLeaderEpoch request). */
  latestEpoch(): number {
    return this.leaderEpochCache.latestEntry()?.epoch ?? UNDEFINED_EPOCH;
  }

  close(): void {
    this.closed = true;
  }

  private checkOffsets(): void {
    // Messages built only on failure.
    if (this.logStartOffset > this.hw) assert(false, `${this.topicPartition}: log start offset above the high watermark`);
    if (this.hw > this.endOffset) assert(false, `${this.topicPartition}: high watermark above the log end offset`);
    if (this.recoveryPoint > this.endOffset) assert(false, `${this.topicPartition}: recovery point above the log end offset`);
  }
}
