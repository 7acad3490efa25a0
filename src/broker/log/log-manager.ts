/**
 * LogManager for one broker: its log dir (`<log.dirs>/<topic>-<partition>/` per partition plus the per-dir
 * checkpoint files), loading and recovering every log at startup, creating and deleting logs, the periodic
 * tasks (flusher, recovery-point and log-start-offset checkpoints, retention, the cleaner) as timers of the
 * owning process, the ReplicaManager's high-watermark checkpoint, and clean shutdown. Timer tags start with
 * "log:"; the owning process routes them to onTimer. Simplifications: one log dir; a disk error takes the whole
 * dir offline (the broker decides what follows); deleted logs go at once (no `-delete` rename and
 * file.delete.delay.ms); clean shutdown's fsyncs complete instantly, since the model's onShutdown is synchronous.
 */

import type { DiskError } from "../../disk/disk.ts";
import { assert } from "../../sim/assert.ts";
import type { TimerId } from "../../sim/kernel.ts";
import type { LogLoadedBatch } from "../../sim/trace.ts";
import {
  CheckpointFile,
  CLEANER_OFFSET_CHECKPOINT,
  deleteCleanShutdownMarker,
  hasCleanShutdownMarker,
  LOG_START_OFFSET_CHECKPOINT,
  OFFSET_FORMATTER,
  offsetsByPartition,
  RECOVERY_POINT_CHECKPOINT,
  REPLICATION_OFFSET_CHECKPOINT,
  writeCleanShutdownMarker,
  type TopicPartitionOffset,
} from "./checkpoint.ts";
import {
  brokerTopicDefaults,
  isCompact,
  LONG_MAX,
  resolveLogConfig,
  resolveLogManagerConfig,
  type BrokerLogSettings,
  type LogConfig,
  type LogManagerConfig,
} from "./config.ts";
import { nowMs, type SchedulingContext } from "./context.ts";
import { cleanableState, needsCleaning } from "./log-cleaning.ts";
import { lastOffset } from "./records.ts";
import { createLog, loadLog, type LoadResult, type RecoveryReport } from "./log-loader.ts";
import type { Log, TruncateResult } from "./log.ts";
import { ProducerStateManager } from "../idempotence/producer-state-manager.ts";

export interface LogManagerOptions {
  /** Broker settings: LogManagerConfig keys and the `log.*` defaults of topic configs. */
  config?: BrokerLogSettings;
  /** A topic's config overrides (Kafka keeps them in ZooKeeper's /config/topics). */
  topicConfig?: (topic: string) => Partial<LogConfig>;
  /** Written into the clean-shutdown marker. */
  brokerEpoch?: number;
  /** A disk error took the log dir offline (LogDirFailureChannel): the broker reacts. */
  onLogDirFailure?: (what: string, error: DiskError) => void;
}

export const TIMER_PREFIX = "log:";
const TIMER_FLUSH = "log:flush";
const TIMER_RECOVERY_POINT = "log:recovery-point-checkpoint";
const TIMER_LOG_START = "log:log-start-offset-checkpoint";
const TIMER_RETENTION = "log:retention";
const TIMER_CLEANER = "log:cleaner";
const TIMER_HIGH_WATERMARK = "log:hw-checkpoint";

const TOPIC_PARTITION = /^(.+)-(\d+)$/;
/** Topic.validate: ASCII alphanumerics, '.', '_' and '-', at most 249 characters. */
const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

export function topicPartitionName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

export class LogManager {
  readonly config: LogManagerConfig;
  readonly logDir: string;
  /** The dir failed: no log serves anything until restart. */
  offline = false;
  /** Whether the last startup found the clean-shutdown marker. */
  hadCleanShutdown = false;
  /** What startup recovery did, per log. */
  readonly recoveryReports: RecoveryReport[] = [];
  private readonly topicDefaults: LogConfig;
  private readonly logs = new Map<string, Log>();
  private readonly recoveryPointFile: CheckpointFile<TopicPartitionOffset>;
  private readonly logStartFile: CheckpointFile<TopicPartitionOffset>;
  private readonly highWatermarkFile: CheckpointFile<TopicPartitionOffset>;
  private readonly cleanerFile: CheckpointFile<TopicPartitionOffset>;
  private readonly timers = new Map<string, TimerId>();
  private started = false;
  private stopped = false;
  /** ReplicaManager.hwThreadInitialized: the checkpoint task is started once per process. */
  private highWatermarkCheckpointsStarted = false;
  private cleaning = false;

  constructor(
    readonly context: SchedulingContext,
    private readonly options: LogManagerOptions = {},
  ) {
    this.config = resolveLogManagerConfig(options.config);
    this.topicDefaults = brokerTopicDefaults(options.config);
    this.logDir = this.config["log.dirs"];
    const file = (name: string) =>
      new CheckpointFile(context.disk, context, `${this.logDir}/${name}`, OFFSET_FORMATTER, (what, error) => this.failDir(what, error));
    this.recoveryPointFile = file(RECOVERY_POINT_CHECKPOINT);
    this.logStartFile = file(LOG_START_OFFSET_CHECKPOINT);
    this.highWatermarkFile = file(REPLICATION_OFFSET_CHECKPOINT);
    this.cleanerFile = file(CLEANER_OFFSET_CHECKPOINT);
  }

  // ---- Startup ----

  /**
   * Loads every log found in the log dir (LogManager.loadLogs): with the clean-shutdown marker the checkpoints
   * are trusted, without it each log is recovered from its recovery point. Each log's high watermark comes from
   * replication-offset-checkpoint (as Partition does when it creates the log). Then deletes the marker and arms
   * the periodic tasks.
   */
  startup(): void {
    assert(!this.started, "log manager started twice");
    this.started = true;
    const disk = this.context.disk;
    this.hadCleanShutdown = hasCleanShutdownMarker(disk, this.logDir);
    // An unreadable checkpoint resets its offsets (Kafka warns and starts from 0).
    const recoveryPoints = offsetsByPartition(this.recoveryPointFile.read());
    const logStarts = offsetsByPartition(this.logStartFile.read());
    const dirtyOffsets = offsetsByPartition(this.cleanerFile.read());
    const highWatermarks = this.readHighWatermarks();
    for (const name of this.partitionDirsOnDisk()) {
      const match = TOPIC_PARTITION.exec(name)!;
      const topic = match[1];
      const partition = Number(match[2]);
      const loaded = loadLog({
        ...this.logParams(topic, partition),
        hadCleanShutdown: this.hadCleanShutdown,
        recoveryPointCheckpoint: recoveryPoints.get(name) ?? 0,
        logStartOffsetCheckpoint: logStarts.get(name) ?? 0,
        firstDirtyOffset: dirtyOffsets.get(name) ?? 0,
      });
      if (!this.register(loaded)) return;
      loaded.log.updateHighWatermark(highWatermarks.get(name) ?? 0);
      if (this.context.tracing) this.traceLoaded(loaded.log);
      this.recoveryReports.push(loaded.report);
    }
    const error = deleteCleanShutdownMarker(disk, this.logDir);
    if (error !== null) {
      this.failDir("delete clean shutdown marker", error);
      return;
    }
    const initialMs = this.config["log.initial.task.delay.ms"];
    this.schedule(TIMER_RETENTION, initialMs);
    this.schedule(TIMER_FLUSH, initialMs);
    this.schedule(TIMER_RECOVERY_POINT, initialMs);
    this.schedule(TIMER_LOG_START, initialMs);
    if (this.config["log.cleaner.enable"]) this.schedule(TIMER_CLEANER, 0);
  }

  /**
   * The loaded log as the broker now holds it (its high watermark from the checkpoint). After an unclean
   * shutdown the content itself is listed too: a power loss may have dropped unsynced appends or brought
   * back records whose truncation never reached the disk, which no earlier event says (the viewer reads it, and
   * the replication checkers reload their mirror of the log from it).
   */
  private traceLoaded(log: Log): void {
    const fields: Record<string, unknown> = {
      topicPartition: log.topicPartition,
      logStartOffset: log.logStartOffset,
      logEndOffset: log.logEndOffset,
      highWatermark: log.highWatermark,
    };
    if (!this.hadCleanShutdown) {
      const batches: LogLoadedBatch[] = [];
      for (const segment of log.segments) {
        for (const batch of segment.batches()) {
          const offsets: number[] = [];
          const values: (string | null)[] = [];
          for (let i = 0; i < batch.recordCount; i++) {
            offsets.push(batch.baseOffset + batch.offsetDeltaAt(i));
            values.push(batch.valueAt(i));
          }
          batches.push([batch.partitionLeaderEpoch, offsets, values, lastOffset(batch)]);
        }
      }
      fields.batches = batches;
    }
    this.context.trace("log-loaded", fields);
  }

  // ---- Logs ----

  getLog(topic: string, partition: number): Log | undefined {
    return this.logs.get(topicPartitionName(topic, partition));
  }

  /** Every log, in creation (load) order. */
  allLogs(): IterableIterator<Log> {
    return this.logs.values();
  }

  /** The log of a partition, created empty when missing (LogManager.getOrCreateLog). */
  getOrCreateLog(topic: string, partition: number): Log | "KAFKA_STORAGE_ERROR" {
    assert(this.started && !this.stopped, "log manager is not running");
    assert(LEGAL_TOPIC.test(topic), `illegal topic name ${topic}`);
    assert(Number.isInteger(partition) && partition >= 0, `illegal partition ${partition}`);
    const existing = this.getLog(topic, partition);
    if (existing !== undefined) return existing;
    if (this.offline) return "KAFKA_STORAGE_ERROR";
    const created = createLog({ ...this.logParams(topic, partition), firstDirtyOffset: 0 });
    if (!this.register(created)) return "KAFKA_STORAGE_ERROR";
    if (this.context.tracing) this.context.trace("log-created", { topicPartition: created.log.topicPartition, logStartOffset: created.log.logStartOffset });
    return created.log;
  }

  /** Removes a log and its files (StopReplica with delete). */
  deleteLog(topic: string, partition: number): "KAFKA_STORAGE_ERROR" | null {
    const name = topicPartitionName(topic, partition);
    const log = this.logs.get(name);
    if (log === undefined) return null;
    if (this.offline) return "KAFKA_STORAGE_ERROR";
    log.close();
    log.leaderEpochCache.close();
    this.logs.delete(name);
    const disk = this.context.disk;
    for (const file of disk.list(`${log.dir}/`)) {
      const error = disk.delete(file);
      if (error !== null) {
        this.failDir(`delete log ${name}`, error);
        return "KAFKA_STORAGE_ERROR";
      }
    }
    if (this.context.tracing) this.context.trace("log-delete", { topicPartition: name });
    return null;
  }

  /** Re-reads a topic's overrides (a dynamic topic config change). */
  updateTopicConfig(topic: string): void {
    for (const log of this.logs.values()) if (log.topic === topic) log.config = this.logConfigFor(topic);
  }

  /** Truncates a log and checkpoints the recovery points, as LogManager.truncateTo does. */
  truncateTo(log: Log, offset: number): TruncateResult {
    const result = log.truncateTo(offset);
    if (result.error === null && result.truncated) this.checkpointRecoveryPoints();
    return result;
  }

  /** truncateFullyAndStartAt, then a recovery-point checkpoint. */
  truncateFullyAndStartAt(log: Log, offset: number): "KAFKA_STORAGE_ERROR" | null {
    const error = log.truncateFullyAndStartAt(offset);
    if (error === null) this.checkpointRecoveryPoints();
    return error;
  }

  // ---- Periodic tasks ----

  /** Routes a timer of the owning process; false when the tag is not the log manager's. */
  onTimer(tag: string, _data?: unknown): boolean {
    if (!tag.startsWith(TIMER_PREFIX)) return false;
    this.timers.delete(tag);
    if (this.stopped) return true;
    switch (tag) {
      case TIMER_FLUSH:
        this.flushDirtyLogs();
        this.reschedule(TIMER_FLUSH, this.config["log.flush.scheduler.interval.ms"]);
        return true;
      case TIMER_RECOVERY_POINT:
        this.checkpointRecoveryPoints();
        this.reschedule(TIMER_RECOVERY_POINT, this.config["log.flush.offset.checkpoint.interval.ms"]);
        return true;
      case TIMER_LOG_START:
        this.checkpointLogStartOffsets();
        this.reschedule(TIMER_LOG_START, this.config["log.flush.start.offset.checkpoint.interval.ms"]);
        return true;
      case TIMER_RETENTION:
        this.cleanupLogs();
        this.reschedule(TIMER_RETENTION, this.config["log.retention.check.interval.ms"]);
        return true;
      case TIMER_CLEANER:
        this.runCleaner();
        return true;
      case TIMER_HIGH_WATERMARK:
        this.checkpointHighWatermarks();
        this.reschedule(TIMER_HIGH_WATERMARK, this.config["replica.high.watermark.checkpoint.interval.ms"]);
        return true;
      default:
        assert(false, `unknown log manager timer ${tag}`);
    }
  }

  /** The flusher: each log whose last flush is older than its flush.ms is flushed. */
  flushDirtyLogs(): void {
    if (this.offline) return;
    const now = nowMs(this.context);
    for (const log of this.logs.values()) log.maybeFlushByTime(now);
  }

  /**
   * The retention thread (LogManager.cleanupLogs): deleteOldSegments on every log whose cleanup.policy has no
   * compact — compacted logs get theirs from the cleaner thread (or none, when the cleaner is disabled, as in
   * Kafka). Returns the number of segments deleted.
   */
  cleanupLogs(): number {
    if (this.offline) return 0;
    const now = nowMs(this.context);
    let deleted = 0;
    for (const log of this.logs.values()) if (!isCompact(log.config)) deleted += log.deleteOldSegments(now);
    return deleted;
  }

  /**
   * One pass of the cleaner thread: retention for compacted logs (the cleaner's deletableLogs), then the
   * filthiest log whose dirty ratio exceeds min.cleanable.dirty.ratio is compacted. Without work, sleeps
   * log.cleaner.backoff.ms; after a round that made progress it looks again at once.
   */
  runCleaner(): void {
    if (this.offline || this.stopped || this.cleaning) return;
    const now = nowMs(this.context);
    let filthiest: Log | null = null;
    let filthiestRatio = -1;
    for (const log of this.logs.values()) {
      if (!isCompact(log.config) || log.compacting) continue;
      log.deleteOldSegments(now);
      const state = cleanableState(log, now);
      if (needsCleaning(log, state) && state.ratio > filthiestRatio) {
        filthiest = log;
        filthiestRatio = state.ratio;
      }
    }
    const backoff = this.config["log.cleaner.backoff.ms"];
    if (filthiest === null) {
      this.schedule(TIMER_CLEANER, backoff);
      return;
    }
    const log = filthiest;
    const before = log.firstDirtyOffset;
    this.cleaning = true;
    const started = log.compact(now, (outcome) => {
      this.cleaning = false;
      if (this.stopped) return;
      if (outcome !== null) this.checkpointCleanerOffsets();
      this.schedule(TIMER_CLEANER, log.firstDirtyOffset > before ? 0 : backoff);
    });
    if (!started) {
      this.cleaning = false;
      this.schedule(TIMER_CLEANER, backoff);
    }
  }

  // ---- Checkpoints ----

  /** recovery-point-offset-checkpoint: every log's recovery point. */
  checkpointRecoveryPoints(done?: () => void): void {
    if (this.offline || this.stopped) return;
    this.recoveryPointFile.write(this.entries((log) => log.recoveryPoint), done);
  }

  /** log-start-offset-checkpoint: the logs whose start offset is above their first segment's base. */
  checkpointLogStartOffsets(done?: () => void): void {
    if (this.offline || this.stopped) return;
    this.logStartFile.write(this.logStartEntries(), done);
  }

  /**
   * replication-offset-checkpoint: every log's high watermark. The broker's ReplicaManager calls this every
   * replica.high.watermark.checkpoint.interval.ms (see scheduleHighWatermarkCheckpoints).
   */
  checkpointHighWatermarks(done?: () => void): void {
    if (this.offline || this.stopped) return;
    this.highWatermarkFile.write(this.entries((log) => log.highWatermark), done);
  }

  /** cleaner-offset-checkpoint: compacted logs' first dirty offsets. */
  checkpointCleanerOffsets(done?: () => void): void {
    if (this.offline || this.stopped) return;
    this.cleanerFile.write(this.cleanerEntries(), done);
  }

  /** The high watermarks on disk by "topic-partition" (empty when the file is missing or unreadable). */
  readHighWatermarks(): Map<string, number> {
    return offsetsByPartition(this.highWatermarkFile.read());
  }

  /**
   * Arms the high-watermark checkpoint now and every replica.high.watermark.checkpoint.interval.ms
   * (ReplicaManager.startHighWatermarkCheckPointThread, started on the first LeaderAndIsr). Idempotent.
   */
  scheduleHighWatermarkCheckpoints(): void {
    if (this.highWatermarkCheckpointsStarted || this.stopped) return;
    this.highWatermarkCheckpointsStarted = true;
    this.schedule(TIMER_HIGH_WATERMARK, 0);
  }

  // ---- Shutdown ----

  /**
   * Clean shutdown (LogManager.shutdown, with ReplicaManager's final HW checkpoint): every log flushed (recovery
   * point = log end), the checkpoints written, everything made durable, then the clean-shutdown marker. A dir
   * that failed, or a disk refusing fsync, gets no marker: the next start recovers.
   */
  shutdown(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const id of this.timers.values()) this.context.cancelTimer(id);
    this.timers.clear();
    const disk = this.context.disk;
    const faults = disk.currentFaults;
    if (!this.offline && (faults.fsyncError || faults.writeError)) this.failDir("shutdown flush", "EIO");
    if (!this.offline) {
      for (const log of this.logs.values()) log.recoveryPoint = log.logEndOffset;
      const errors = [
        this.recoveryPointFile.writeNow(this.entries((log) => log.recoveryPoint)),
        this.logStartFile.writeNow(this.logStartEntries()),
        this.highWatermarkFile.writeNow(this.entries((log) => log.highWatermark)),
        this.cleanerFile.writeNow(this.cleanerEntries()),
        ...[...this.logs.values()].map((log) => log.leaderEpochCache.writeNow()),
      ];
      const error = errors.find((e) => e !== null) ?? null;
      if (error !== null) this.failDir("shutdown checkpoints", error);
    }
    if (!this.offline) {
      // Kafka writes the marker once the flushes returned; the model's fsyncs all complete at this instant.
      const error = writeCleanShutdownMarker(disk, this.logDir, this.options.brokerEpoch ?? -1);
      if (error !== null) this.failDir("write clean shutdown marker", error);
      disk.syncAll();
    }
    for (const file of [this.recoveryPointFile, this.logStartFile, this.highWatermarkFile, this.cleanerFile]) file.close();
    for (const log of this.logs.values()) log.close();
  }

  // ---- Internals ----

  private logConfigFor(topic: string): LogConfig {
    return resolveLogConfig(this.topicDefaults, this.options.topicConfig?.(topic) ?? {});
  }

  private logParams(topic: string, partition: number) {
    return {
      context: this.context,
      topic,
      partition,
      dir: `${this.logDir}/${topicPartitionName(topic, partition)}`,
      config: this.logConfigFor(topic),
      onFailure: (_log: Log, what: string, error: DiskError) => this.failDir(what, error),
      onCheckpointError: (what: string, error: DiskError) => this.failDir(what, error),
    };
  }

  private register(loaded: LoadResult): loaded is LoadResult & { error: null } {
    if (loaded.error !== null) {
      this.failDir(loaded.what, loaded.cause);
      return false;
    }
    this.logs.set(loaded.log.topicPartition, loaded.log);
    // Producer state (idempotence), rebuilt from the log's batches as Kafka's LogLoader does.
    loaded.log.setProducerStateHooks(new ProducerStateManager(loaded.log.topicPartition, loaded.log, this.context));
    return true;
  }

  /** The partition directories in the log dir: names `<topic>-<partition>` with a file under them. */
  private partitionDirsOnDisk(): string[] {
    const prefix = `${this.logDir}/`;
    const dirs: string[] = [];
    for (const name of this.context.disk.list(prefix)) {
      const slash = name.indexOf("/", prefix.length);
      if (slash < 0) continue;
      const dir = name.slice(prefix.length, slash);
      if (TOPIC_PARTITION.test(dir) && dirs[dirs.length - 1] !== dir) dirs.push(dir);
    }
    return dirs;
  }

  private entries(offset: (log: Log) => number): TopicPartitionOffset[] {
    const entries: TopicPartitionOffset[] = [];
    for (const log of this.logs.values()) entries.push({ topic: log.topic, partition: log.partition, offset: offset(log) });
    return entries;
  }

  private logStartEntries(): TopicPartitionOffset[] {
    const entries: TopicPartitionOffset[] = [];
    for (const log of this.logs.values()) {
      if (log.logStartOffset > log.segments[0].baseOffset) {
        entries.push({ topic: log.topic, partition: log.partition, offset: log.logStartOffset });
      }
    }
    return entries;
  }

  private cleanerEntries(): TopicPartitionOffset[] {
    const entries: TopicPartitionOffset[] = [];
    for (const log of this.logs.values()) {
      if (isCompact(log.config)) entries.push({ topic: log.topic, partition: log.partition, offset: log.firstDirtyOffset });
    }
    return entries;
  }

  /** The next run of a periodic task: KafkaScheduler runs a task whose period is ≤ 0 only once. */
  private reschedule(tag: string, periodMs: number): void {
    if (periodMs > 0) this.schedule(tag, periodMs);
  }

  private schedule(tag: string, delayMs: number): void {
    if (this.stopped || delayMs >= LONG_MAX) return;
    const previous = this.timers.get(tag);
    if (previous !== undefined) this.context.cancelTimer(previous);
    this.timers.set(tag, this.context.setTimer(Math.round(delayMs * 1000), tag));
  }

  /** A disk error: the whole log dir goes offline (LogDirFailureChannel), the broker is told. */
  private failDir(what: string, error: DiskError): void {
    if (this.offline) return;
    this.offline = true;
    for (const log of this.logs.values()) log.offline = true;
    if (this.context.tracing) this.context.trace("log-dir-failure", { logDir: this.logDir, what, error });
    this.options.onLogDirFailure?.(what, error);
  }
}
