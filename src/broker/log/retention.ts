/**
 * Retention of a partition log (UnifiedLog.deleteOldSegments and its three predicates): segments before the
 * log start offset always; with cleanup.policy delete also beyond retention.bytes and older than retention.ms
 * (by each segment's largest record timestamp, or its mtime without timestamps). Only whole segments wholly
 * below the high watermark go, oldest first; the log start offset moves to the next segment's base. When every
 * segment would go, a new active segment is rolled first (Kafka's deleteSegments), so the active segment itself
 * is never deleted. Simplification: segment files are deleted at once (no `.deleted` rename, file.delete.delay.ms).
 */

import { assert } from "../../sim/assert.ts";
import { isDelete } from "./config.ts";
import type { Log } from "./log.ts";
import type { LogSegment } from "./segment.ts";

/** Why retention deleted segments (SegmentDeletionReason). */
export type RetentionReason = "retention.ms" | "retention.bytes" | "log-start-offset";

export function deleteOldSegments(log: Log, now: number): number {
  if (log.offline || log.closed) return 0;
  let deleted = deleteLogStartOffsetBreachedSegments(log);
  if (!isDelete(log.config)) return deleted;
  deleted += deleteRetentionSizeBreachedSegments(log);
  deleted += deleteRetentionMsBreachedSegments(log, now);
  return deleted;
}

export function deleteRetentionMsBreachedSegments(log: Log, now: number): number {
  const retentionMs = log.config["retention.ms"];
  if (retentionMs < 0) return 0;
  return deleteWhile(log, (segment) => now - segment.largestTimestamp > retentionMs, "retention.ms");
}

export function deleteRetentionSizeBreachedSegments(log: Log): number {
  const retentionBytes = log.config["retention.bytes"];
  const size = log.sizeInBytes;
  if (retentionBytes < 0 || size < retentionBytes) return 0;
  let diff = size - retentionBytes;
  return deleteWhile(
    log,
    (segment) => {
      if (diff - segment.sizeBytes < 0) return false;
      diff -= segment.sizeBytes;
      return true;
    },
    "retention.bytes",
  );
}

export function deleteLogStartOffsetBreachedSegments(log: Log): number {
  return deleteWhile(log, (_, next) => next !== null && next.baseOffset <= log.logStartOffset, "log-start-offset");
}

/** deletableSegments + deleteSegments: the oldest segments while the predicate holds and they are below the HW. */
function deleteWhile(log: Log, predicate: (segment: LogSegment, next: LogSegment | null) => boolean, reason: RetentionReason): number {
  const deletable: LogSegment[] = [];
  const segments = log.segments;
  for (let i = 0; i < segments.length; i++) {
    const next = i + 1 < segments.length ? segments[i + 1] : null;
    const upperBound = next === null ? log.logEndOffset : next.baseOffset;
    const isLastAndEmpty = next === null && segments[i].isEmpty;
    if (log.highWatermark >= upperBound && predicate(segments[i], next) && !isLastAndEmpty) deletable.push(segments[i]);
    else break;
  }
  if (deletable.length === 0) return 0;
  let toDelete = deletable;
  if (deletable.length === log.segments.length) {
    // "We must always have at least one segment": roll first; an empty active segment is recreated, not deleted.
    const rolled = log.roll(0, "retention");
    if (typeof rolled === "string") return 0;
    if (deletable[deletable.length - 1].baseOffset === rolled.baseOffset) toDelete = deletable.slice(0, -1);
  }
  if (toDelete.length === 0) return deletable.length;
  assert(toDelete[toDelete.length - 1] !== log.activeSegment, "retention must never delete the active segment");
  const increment = log.maybeIncrementLogStartOffset(log.segments[toDelete.length].baseOffset);
  if (increment.error !== null) return 0;
  for (const segment of log.removeOldestSegments(toDelete.length)) {
    const error = segment.delete();
    if (error !== null) {
      log.fail("retention delete", error);
      return 0;
    }
  }
  if (log.context.tracing) {
    log.context.trace("log-retention-delete", {
      topicPartition: log.topicPartition,
      reason,
      baseOffsets: toDelete.map((s) => s.baseOffset),
      bytes: toDelete.reduce((sum, s) => sum + s.sizeBytes, 0),
      logStartOffset: log.logStartOffset,
    });
  }
  return deletable.length;
}
