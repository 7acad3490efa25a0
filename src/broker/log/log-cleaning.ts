/**
 * The log's side of compaction (LogCleanerManager's choice of the filthiest log and Cleaner's segment swap):
 * how dirty a compacted log is, and one cleaning round that hands the log's segments to the cleaner
 * (cleaner.ts, a pure function) and swaps the rewritten segments in — written to `<segment>.log.cleaned`,
 * fsynced, then renamed over the segment, as Kafka's .cleaned/.swap dance leaves old or new after a crash.
 * Simplifications: the last stable offset is the high watermark (no open transactions are known here), the
 * round is abandoned if the log changed under it (Kafka pauses cleaning around truncation instead), and a
 * batch failing its CRC makes the log uncleanable until restart (Kafka marks the partition uncleanable).
 */

import { assert } from "../../sim/assert.ts";
import { compactSegments, segmentsOverlapping, type CleanableSegment } from "./cleaner.ts";
import type { Log } from "./log.ts";
import type { RecordBatch } from "./records.ts";
import { LogSegment, segmentFileName } from "./segment.ts";

export interface CleanableState {
  firstDirtyOffset: number;
  /** Base offset of the first segment the cleaner must not touch. */
  firstUncleanableOffset: number;
  cleanableBytes: number;
  totalBytes: number;
  /** cleanableBytes / totalBytes (0 for an empty log). */
  ratio: number;
}

export interface CompactionOutcome {
  /** The new first dirty offset. */
  cleanedUpTo: number;
  recordsRemoved: number;
  tombstonesRemoved: number;
  segmentsRewritten: number;
  /** Offsets of the records removed (only when the trace is on). */
  removedOffsets?: number[];
}

/**
 * LogCleanerManager.cleanableOffsets + LogToClean: the dirty range [firstDirty, firstUncleanable) ends at the
 * active segment, the last stable offset (min(first unstable offset, HW): an open transaction is never cleaned)
 * and the first segment younger than
 * min.compaction.lag.ms, rounded down to a segment base; the ratio is its bytes over clean plus dirty bytes.
 */
export function cleanableState(log: Log, nowMs: number): CleanableState {
  const segments = log.segments;
  const active = log.activeSegment;
  const firstDirty = log.firstDirtyOffset;
  let bound = Math.min(active.baseOffset, log.lastStableOffset);
  const lag = log.config["min.compaction.lag.ms"];
  if (lag > 0) {
    for (const i of segmentsOverlapping(log.segments, firstDirty, active.baseOffset)) {
      if (segments[i].largestTimestamp > nowMs - lag) {
        bound = Math.min(bound, segments[i].baseOffset);
        break;
      }
    }
  }
  const uncleanableOffset = Math.max(firstDirty, bound);
  const holding = segmentsOverlapping(log.segments, uncleanableOffset, active.baseOffset);
  const firstUncleanable = holding.length > 0 ? segments[holding[0]].baseOffset : active.baseOffset;
  let cleanBytes = 0;
  for (const i of segmentsOverlapping(log.segments, -1, firstDirty)) cleanBytes += segments[i].sizeBytes;
  let cleanableBytes = 0;
  for (const i of segmentsOverlapping(log.segments, Math.min(firstDirty, firstUncleanable), firstUncleanable)) cleanableBytes += segments[i].sizeBytes;
  const totalBytes = cleanBytes + cleanableBytes;
  return {
    firstDirtyOffset: firstDirty,
    firstUncleanableOffset: firstUncleanable,
    cleanableBytes,
    totalBytes,
    ratio: totalBytes === 0 ? 0 : cleanableBytes / totalBytes,
  };
}

/** Whether the cleaner would pick this log now (grabFilthiestCompactedLog: ratio strictly above the minimum). */
export function needsCleaning(log: Log, state: CleanableState): boolean {
  if (log.uncleanable || log.compacting || log.offline || log.closed) return false;
  return state.totalBytes > 0 && state.cleanableBytes > 0 && state.ratio > log.config["min.cleanable.dirty.ratio"];
}

/**
 * One cleaning round over `log`. Returns false when nothing was started (a round in flight, the log offline,
 * a corrupt batch). `done` gets the outcome once the cleaned segments are swapped in, or null when the round was
 * abandoned because the log changed meanwhile. Runs whether or not the log is dirty enough (compact on demand).
 */
export function compactLog(log: Log, now: number, done?: (outcome: CompactionOutcome | null) => void): boolean {
  if (log.compacting || log.offline || log.closed || log.uncleanable) return false;
  const originals = log.segments.slice();
  const generations = originals.map((s) => s.generation);
  const input: CleanableSegment[] = [];
  for (const segment of originals) {
    const batches = segment.readAllBatches();
    if (batches === "CORRUPT_MESSAGE") {
      log.uncleanable = true;
      return false;
    }
    input.push({ baseOffset: segment.baseOffset, batches, lastModifiedMs: segment.lastModifiedMs });
  }
  const result = compactSegments(input, {
    nowMs: now,
    deleteRetentionMs: log.config["delete.retention.ms"],
    minCompactionLagMs: log.config["min.compaction.lag.ms"],
    firstDirtyOffset: log.firstDirtyOffset,
    activeSegmentBaseOffset: log.activeSegment.baseOffset,
    lastStableOffset: log.lastStableOffset,
    segmentBytes: log.config["segment.bytes"],
  });
  const rewrites = planRewrites(originals, input, result.segments);
  const outcome: CompactionOutcome = {
    cleanedUpTo: result.cleanedUpTo,
    recordsRemoved: result.recordsRemoved,
    tombstonesRemoved: result.tombstonesRemoved,
    segmentsRewritten: rewrites.length,
  };
  if (log.context.tracing) outcome.removedOffsets = removedOffsets(input, result.segments);
  if (rewrites.length === 0) {
    finish(log, outcome);
    done?.(outcome);
    return true;
  }
  const disk = log.context.disk;
  for (const rewrite of rewrites) {
    const cleaned = cleanedFileName(log, rewrite.baseOffset);
    if (disk.exists(cleaned)) disk.delete(cleaned);
    let error = disk.create(cleaned);
    for (let i = 0; error === null && i < rewrite.batches.length; i++) {
      error = disk.append(cleaned, rewrite.batches[i], rewrite.batches[i].sizeBytes);
    }
    if (error !== null) {
      log.fail("cleaner write", error);
      return false;
    }
  }
  log.compacting = true;
  let pending = rewrites.length;
  for (const rewrite of rewrites) {
    disk.fsync(cleanedFileName(log, rewrite.baseOffset), log.context, (error) => {
      if (error !== null) {
        log.compacting = false;
        log.fail("cleaner fsync", error);
        return;
      }
      if (--pending > 0) return;
      log.compacting = false;
      const unchanged = originals.every((s, i) => s.generation === generations[i] && log.segments.includes(s));
      if (!unchanged || log.offline || log.closed) {
        for (const r of rewrites) disk.delete(cleanedFileName(log, r.baseOffset));
        done?.(null);
        return;
      }
      if (!swap(log, rewrites)) return;
      finish(log, outcome);
      done?.(outcome);
    });
  }
  return true;
}

interface Rewrite {
  baseOffset: number;
  batches: RecordBatch[];
  lastModifiedMs: number;
  /** The segments the rewritten one replaces (more than one when the cleaner merged a group). */
  replaces: LogSegment[];
}

/** Which result segments differ from the originals they cover (a result base covers originals up to the next). */
function planRewrites(
  originals: readonly LogSegment[],
  input: readonly CleanableSegment[],
  output: readonly { baseOffset: number; batches: RecordBatch[]; lastModifiedMs: number }[],
): Rewrite[] {
  const rewrites: Rewrite[] = [];
  let next = 0;
  for (let k = 0; k < output.length; k++) {
    const upTo = k + 1 < output.length ? output[k + 1].baseOffset : Infinity;
    assert(originals[next]?.baseOffset === output[k].baseOffset, "a cleaned segment keeps its base offset");
    const covered: number[] = [];
    while (next < originals.length && originals[next].baseOffset < upTo) covered.push(next++);
    const same = covered.length === 1 && sameBatches(input[covered[0]].batches, output[k].batches);
    if (same) continue;
    assert(covered[covered.length - 1] < originals.length - 1, "the cleaner must not rewrite the active segment");
    rewrites.push({
      baseOffset: output[k].baseOffset,
      batches: output[k].batches,
      lastModifiedMs: output[k].lastModifiedMs,
      replaces: covered.map((i) => originals[i]),
    });
  }
  assert(next === originals.length, "the cleaner's output covers every segment");
  return rewrites;
}

function sameBatches(a: readonly RecordBatch[], b: readonly RecordBatch[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Renames each cleaned file over its segment, deletes merged-away files, and swaps the segment objects. */
function swap(log: Log, rewrites: readonly Rewrite[]): boolean {
  const disk = log.context.disk;
  for (const rewrite of rewrites) {
    const error = disk.rename(cleanedFileName(log, rewrite.baseOffset), segmentFileName(log.dir, rewrite.baseOffset));
    if (error !== null) {
      log.fail("cleaner swap", error);
      return false;
    }
    for (const merged of rewrite.replaces.slice(1)) {
      const deleteError = merged.delete();
      if (deleteError !== null) {
        log.fail("cleaner swap", deleteError);
        return false;
      }
    }
    const first = rewrite.replaces[0];
    const segment = LogSegment.fromBatches(disk, log.dir, rewrite.baseOffset, log.config, rewrite.batches, first.createdMs, rewrite.lastModifiedMs);
    log.replaceSegments(rewrite.replaces, segment);
  }
  return true;
}

function finish(log: Log, outcome: CompactionOutcome): void {
  if (outcome.cleanedUpTo > log.firstDirtyOffset) log.firstDirtyOffset = outcome.cleanedUpTo;
  if (log.context.tracing) {
    log.context.trace("log-compaction", {
      topicPartition: log.topicPartition,
      cleanedUpTo: outcome.cleanedUpTo,
      recordsRemoved: outcome.recordsRemoved,
      tombstonesRemoved: outcome.tombstonesRemoved,
      segmentsRewritten: outcome.segmentsRewritten,
      removedOffsets: outcome.removedOffsets ?? [],
    });
  }
}

/** The offsets of records in `before` that `after` no longer holds (for the trace: the viewer removes them). */
function removedOffsets(before: readonly { batches: readonly RecordBatch[] }[], after: readonly { batches: readonly RecordBatch[] }[]): number[] {
  const kept = new Set<number>();
  for (const segment of after) for (const batch of segment.batches) for (const record of batch.records) kept.add(batch.baseOffset + record.offsetDelta);
  const removed: number[] = [];
  for (const segment of before) {
    for (const batch of segment.batches) {
      for (const record of batch.records) {
        const offset = batch.baseOffset + record.offsetDelta;
        if (!kept.has(offset)) removed.push(offset);
      }
    }
  }
  return removed;
}

function cleanedFileName(log: Log, baseOffset: number): string {
  return `${segmentFileName(log.dir, baseOffset)}.cleaned`;
}

