/**
 * LogLoader: a partition log rebuilt from its directory at startup. After a clean shutdown (the marker present)
 * the segments and checkpoints are trusted and the recovery point is the log end; otherwise every segment from
 * the one holding the checkpointed recovery point on is re-read, each batch validated (CRC, increasing offsets),
 * the log truncated at the first invalid batch and the later segments deleted; the leader-epoch cache gets the
 * epochs of the batches re-read, then is trimmed to [log start, log end). Simplifications: indexes are always
 * rebuilt (their files are not modelled), there are no .swap or producer-snapshot files, and an unreadable
 * leader-epoch checkpoint is rebuilt from every batch (Kafka would take the log dir offline).
 */

import type { DiskError } from "../../disk/disk.ts";
import { CheckpointFile, EPOCH_FORMATTER, LEADER_EPOCH_CHECKPOINT, type EpochEntry, type StorageErrorHandler } from "./checkpoint.ts";
import type { LogConfig } from "./config.ts";
import { nowMs, type LogContext } from "./context.ts";
import { LeaderEpochFileCache } from "./leader-epoch-cache.ts";
import { Log, type LogFailureHandler } from "./log.ts";
import { baseOffsetOfFile, LogSegment, type InvalidBatchReason } from "./segment.ts";

export interface LoadParams {
  context: LogContext;
  topic: string;
  partition: number;
  /** The partition directory, `<log dir>/<topic>-<partition>`. */
  dir: string;
  config: LogConfig;
  hadCleanShutdown: boolean;
  /** From recovery-point-offset-checkpoint (0 when absent). */
  recoveryPointCheckpoint: number;
  /** From log-start-offset-checkpoint (0 when absent). */
  logStartOffsetCheckpoint: number;
  /** From cleaner-offset-checkpoint (0 when absent). */
  firstDirtyOffset: number;
  onFailure: LogFailureHandler;
  onCheckpointError: StorageErrorHandler;
}

/** What recovery did, for the trace and for tests. */
export interface RecoveryReport {
  topicPartition: string;
  clean: boolean;
  recoveryPoint: number;
  logStartOffset: number;
  logEndOffset: number;
  /** Segments re-read and validated. */
  segmentsRecovered: number;
  /** The first invalid batch (where the log now ends) and why; null when nothing was cut. */
  truncated: { segment: number; offset: number; reason: InvalidBatchReason; bytes: number } | null;
  /** Segment files deleted: after the invalid batch, or all of them when the log start passed the log end. */
  segmentsDeleted: number;
  /** The leader-epoch checkpoint could not be read and was rebuilt from the batches. */
  epochCacheRebuilt: boolean;
}

export type LoadResult = { error: null; log: Log; report: RecoveryReport } | { error: "KAFKA_STORAGE_ERROR"; what: string; cause: DiskError };

/** A new, empty log (LogManager.getOrCreateLog): its directory is its first, empty segment file. */
export function createLog(params: Omit<LoadParams, "hadCleanShutdown" | "recoveryPointCheckpoint" | "logStartOffsetCheckpoint">): LoadResult {
  const { context, dir, config } = params;
  const segment = LogSegment.create(context.disk, dir, 0, config, nowMs(context));
  if (typeof segment === "string") return { error: "KAFKA_STORAGE_ERROR", what: "create log", cause: segment };
  const checkpoint = new CheckpointFile<EpochEntry>(context.disk, context, `${dir}/${LEADER_EPOCH_CHECKPOINT}`, EPOCH_FORMATTER, params.onCheckpointError);
  const log = new Log(
    {
      topic: params.topic,
      partition: params.partition,
      dir,
      config,
      segments: [segment],
      logStartOffset: 0,
      logEndOffset: 0,
      recoveryPoint: 0,
      leaderEpochCache: new LeaderEpochFileCache(checkpoint),
      firstDirtyOffset: 0,
    },
    context,
    params.onFailure,
  );
  return {
    error: null,
    log,
    report: emptyReport(log, true),
  };
}

/** LogLoader.load for one partition directory. */
export function loadLog(params: LoadParams): LoadResult {
  const { context, dir, config } = params;
  const disk = context.disk;
  const now = nowMs(context);
  const fail = (what: string, cause: DiskError): LoadResult => ({ error: "KAFKA_STORAGE_ERROR", what, cause });

  // Leftovers of a compaction interrupted before its swap.
  for (const name of disk.list(`${dir}/`)) {
    if (!name.endsWith(".cleaned")) continue;
    const error = disk.delete(name);
    if (error !== null) return fail("delete .cleaned", error);
  }

  const checkpoint = new CheckpointFile<EpochEntry>(disk, context, `${dir}/${LEADER_EPOCH_CHECKPOINT}`, EPOCH_FORMATTER, params.onCheckpointError);
  const stored = checkpoint.read();
  const epochsReadable = stored.error === null && increasing(stored.entries);
  const epochCacheRebuilt = stored.error === "malformed" || (stored.error === null && !epochsReadable);
  const cache = new LeaderEpochFileCache(checkpoint, stored.error === null && epochsReadable ? stored.entries : []);

  const bases: number[] = [];
  for (const name of disk.list(`${dir}/`)) {
    const base = baseOffsetOfFile(name);
    if (base !== null) bases.push(base);
  }
  // Segments from the one holding the recovery point on are re-read when the shutdown was not clean.
  let firstUnflushed = 0;
  for (let i = 0; i < bases.length; i++) if (bases[i] <= params.recoveryPointCheckpoint) firstUnflushed = i;

  const segments: LogSegment[] = [];
  let segmentsRecovered = 0;
  let segmentsDeleted = 0;
  let truncated: RecoveryReport["truncated"] = null;
  for (let i = 0; i < bases.length; i++) {
    const recover = !params.hadCleanShutdown && i >= firstUnflushed;
    const loaded = LogSegment.load(disk, dir, bases[i], config, now, recover, recover || epochCacheRebuilt ? cache : null);
    if (typeof loaded === "string") return fail("load segment", loaded);
    segments.push(loaded.segment);
    if (recover) segmentsRecovered++;
    const invalid = loaded.recovery.invalid;
    if (invalid === null) continue;
    truncated = { segment: bases[i], offset: invalid.baseOffset, reason: invalid.reason, bytes: loaded.recovery.truncatedBytes };
    // Everything after an invalid batch is suspect: the later segments go (removeAndDeleteSegmentsAsync).
    for (let j = i + 1; j < bases.length; j++) {
      const later = LogSegment.load(disk, dir, bases[j], config, now, false, null);
      if (typeof later === "string") return fail("load segment", later);
      const error = later.segment.delete();
      if (error !== null) return fail("delete segment", error);
      segmentsDeleted++;
    }
    break;
  }

  let logEndOffset = segments.length > 0 ? segments[segments.length - 1].nextOffset : params.logStartOffsetCheckpoint;
  if (segments.length > 0 && logEndOffset < params.logStartOffsetCheckpoint) {
    // deleteSegmentsIfLogStartGreaterThanLogEnd: the log was emptied past its end (DeleteRecords, a follower
    // that jumped ahead) and the data files lost what followed.
    for (const segment of segments) {
      const error = segment.delete();
      if (error !== null) return fail("delete segment", error);
      segmentsDeleted++;
    }
    segments.length = 0;
    cache.clearAndFlush();
    logEndOffset = params.logStartOffsetCheckpoint;
  }
  if (segments.length === 0) {
    const segment = LogSegment.create(disk, dir, params.logStartOffsetCheckpoint, config, now);
    if (typeof segment === "string") return fail("create segment", segment);
    segments.push(segment);
    logEndOffset = params.logStartOffsetCheckpoint;
  }

  cache.truncateFromEnd(logEndOffset);
  const logStartOffset = Math.max(params.logStartOffsetCheckpoint, segments[0].baseOffset);
  cache.truncateFromStart(params.logStartOffsetCheckpoint);
  const recoveryPoint = params.hadCleanShutdown ? logEndOffset : Math.min(params.recoveryPointCheckpoint, logEndOffset);

  const log = new Log(
    {
      topic: params.topic,
      partition: params.partition,
      dir,
      config,
      segments,
      logStartOffset,
      logEndOffset,
      // UnifiedLog's initialization raises the recovery point to the log start offset.
      recoveryPoint: Math.max(recoveryPoint, logStartOffset),
      leaderEpochCache: cache,
      firstDirtyOffset: params.firstDirtyOffset,
    },
    context,
    params.onFailure,
  );
  const report: RecoveryReport = {
    ...emptyReport(log, params.hadCleanShutdown),
    segmentsRecovered,
    truncated,
    segmentsDeleted,
    epochCacheRebuilt,
  };
  if (context.tracing) context.trace("log-recovery", { ...report });
  return { error: null, log, report };
}

function emptyReport(log: Log, clean: boolean): RecoveryReport {
  return {
    topicPartition: log.topicPartition,
    clean,
    recoveryPoint: log.recoveryPoint,
    logStartOffset: log.logStartOffset,
    logEndOffset: log.logEndOffset,
    segmentsRecovered: 0,
    truncated: null,
    segmentsDeleted: 0,
    epochCacheRebuilt: false,
  };
}

function increasing(entries: readonly EpochEntry[]): boolean {
  for (let i = 1; i < entries.length; i++) {
    if (entries[i].epoch <= entries[i - 1].epoch || entries[i].startOffset < entries[i - 1].startOffset) return false;
  }
  return true;
}
