/**
 * Log configuration with Kafka's own dotted names and defaults: the topic-level keys of LogConfig
 * (TopicConfig.java) and the broker-level keys of LogManager, LogCleaner and ReplicaManager
 * (ServerLogConfigs.java, CleanerConfig.java, ReplicationConfigs.java). Broker `log.*` keys are the defaults of
 * their topic-level synonyms (ServerTopicConfigSynonyms). Simplification: one log dir per broker, and only the
 * `*.ms` spellings (no `log.retention.hours` / `log.roll.hours`).
 */

import { assert } from "../../sim/assert.ts";

/**
 * Kafka's Long.MAX_VALUE for "never" (flush.messages, flush.ms, log.flush.scheduler.interval.ms). Any value at or
 * above it means never; timers are not armed for it.
 */
export const LONG_MAX = Number.MAX_SAFE_INTEGER;

/** Topic-level log configuration (LogConfig). */
export interface LogConfig {
  /** Roll a new segment when the active one would grow past this (1 GiB). */
  "segment.bytes": number;
  /** Roll when the active segment's first batch is older than this (7 days). */
  "segment.ms": number;
  /** Offset/time index capacity per segment in bytes (10 MiB): a full index rolls the segment. */
  "segment.index.bytes": number;
  /** Bytes between sparse offset-index entries (4096). */
  "index.interval.bytes": number;
  /** Delete closed segments whose newest record is older than this; -1 = no time limit (7 days). */
  "retention.ms": number;
  /** Delete oldest closed segments while the log is larger than this; -1 = no size limit. */
  "retention.bytes": number;
  /** "delete", "compact" or "compact,delete". */
  "cleanup.policy": string;
  /** How long tombstones survive after the cleaner first saw them (1 day). */
  "delete.retention.ms": number;
  /** Clean a compacted log when dirty bytes / total bytes reaches this (0.5). */
  "min.cleanable.dirty.ratio": number;
  /** Records younger than this are never compacted (0). */
  "min.compaction.lag.ms": number;
  /** fsync after this many unflushed messages (Long.MAX: never). */
  "flush.messages": number;
  /** fsync when the last flush is older than this (Long.MAX: never). */
  "flush.ms": number;
  /** Largest batch the log accepts (1048588). */
  "max.message.bytes": number;
}

export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze({
  "segment.bytes": 1024 * 1024 * 1024,
  "segment.ms": 7 * 24 * 60 * 60 * 1000,
  "segment.index.bytes": 10 * 1024 * 1024,
  "index.interval.bytes": 4096,
  "retention.ms": 7 * 24 * 60 * 60 * 1000,
  "retention.bytes": -1,
  "cleanup.policy": "delete",
  "delete.retention.ms": 24 * 60 * 60 * 1000,
  "min.cleanable.dirty.ratio": 0.5,
  "min.compaction.lag.ms": 0,
  "flush.messages": LONG_MAX,
  "flush.ms": LONG_MAX,
  "max.message.bytes": 1024 * 1024 + 12,
});

/** Broker-level settings of the log layer (one broker's LogManager). */
export interface LogManagerConfig {
  /** The log directory (Kafka's `log.dirs`, here exactly one). */
  "log.dirs": string;
  /** How often the flusher checks flush.ms (Long.MAX: never). */
  "log.flush.scheduler.interval.ms": number;
  /** How often recovery points are checkpointed (60000). */
  "log.flush.offset.checkpoint.interval.ms": number;
  /** How often log start offsets are checkpointed (60000). */
  "log.flush.start.offset.checkpoint.interval.ms": number;
  /** How often the ReplicaManager checkpoints high watermarks (5000). */
  "replica.high.watermark.checkpoint.interval.ms": number;
  /** How often retention runs (300000). */
  "log.retention.check.interval.ms": number;
  /** The cleaner's sleep when there is nothing to clean (15000). */
  "log.cleaner.backoff.ms": number;
  /** Whether the cleaner runs at all (true). */
  "log.cleaner.enable": boolean;
  /** Delay before the first run of the periodic LogManager tasks (30000, LogManager.InitialTaskDelayMs). */
  "log.initial.task.delay.ms": number;
}

export const DEFAULT_LOG_MANAGER_CONFIG: Readonly<LogManagerConfig> = Object.freeze({
  "log.dirs": "kafka-logs",
  "log.flush.scheduler.interval.ms": LONG_MAX,
  "log.flush.offset.checkpoint.interval.ms": 60_000,
  "log.flush.start.offset.checkpoint.interval.ms": 60_000,
  "replica.high.watermark.checkpoint.interval.ms": 5_000,
  "log.retention.check.interval.ms": 300_000,
  "log.cleaner.backoff.ms": 15_000,
  "log.cleaner.enable": true,
  "log.initial.task.delay.ms": 30_000,
});

/** Broker keys that set the default of a topic key (ServerTopicConfigSynonyms). */
export const BROKER_TOPIC_SYNONYMS: Readonly<Record<string, keyof LogConfig>> = Object.freeze({
  "log.segment.bytes": "segment.bytes",
  "log.roll.ms": "segment.ms",
  "log.index.size.max.bytes": "segment.index.bytes",
  "log.index.interval.bytes": "index.interval.bytes",
  "log.retention.ms": "retention.ms",
  "log.retention.bytes": "retention.bytes",
  "log.cleanup.policy": "cleanup.policy",
  "log.cleaner.delete.retention.ms": "delete.retention.ms",
  "log.cleaner.min.cleanable.ratio": "min.cleanable.dirty.ratio",
  "log.cleaner.min.compaction.lag.ms": "min.compaction.lag.ms",
  "log.flush.interval.messages": "flush.messages",
  "log.flush.interval.ms": "flush.ms",
  "message.max.bytes": "max.message.bytes",
});

/** Broker-level configuration as a flat map of Kafka keys (LogManagerConfig keys and `log.*` topic defaults). */
export type BrokerLogSettings = Partial<LogManagerConfig> & Readonly<Record<string, unknown>>;

/** The broker's LogManagerConfig, Kafka defaults for what is not set. */
export function resolveLogManagerConfig(settings: BrokerLogSettings = {}): LogManagerConfig {
  const config: LogManagerConfig = { ...DEFAULT_LOG_MANAGER_CONFIG };
  for (const key of Object.keys(DEFAULT_LOG_MANAGER_CONFIG) as (keyof LogManagerConfig)[]) {
    const value = settings[key];
    if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value;
  }
  assert(typeof config["log.dirs"] === "string" && config["log.dirs"].length > 0, "log.dirs must name a directory");
  assert(!config["log.dirs"].includes(","), "log.dirs: the model supports exactly one log dir");
  for (const key of Object.keys(config) as (keyof LogManagerConfig)[]) {
    if (key === "log.dirs" || key === "log.cleaner.enable") continue;
    // Scheduler periods may be ≤ 0 (KafkaScheduler then runs the task once); scenarios validate the ranges.
    assert(Number.isSafeInteger(config[key]), `${key} must be an integer number of ms`);
  }
  assert(config["log.cleaner.backoff.ms"] >= 1, "log.cleaner.backoff.ms must be >= 1 (the cleaner would spin)");
  assert(config["log.retention.check.interval.ms"] >= 1, "log.retention.check.interval.ms must be >= 1");
  return config;
}

/** The topic defaults the broker's `log.*` keys set (the rest are Kafka's defaults). */
export function brokerTopicDefaults(settings: BrokerLogSettings = {}): LogConfig {
  const config: LogConfig = { ...DEFAULT_LOG_CONFIG };
  for (const [brokerKey, topicKey] of Object.entries(BROKER_TOPIC_SYNONYMS)) {
    const value = settings[brokerKey];
    if (value !== undefined) (config as unknown as Record<string, unknown>)[topicKey] = value;
  }
  return validateLogConfig(config);
}

/** A topic's effective LogConfig: its overrides over the broker's defaults. */
export function resolveLogConfig(defaults: Readonly<LogConfig>, overrides: Partial<LogConfig> = {}): LogConfig {
  const config: LogConfig = { ...defaults };
  for (const key of Object.keys(DEFAULT_LOG_CONFIG) as (keyof LogConfig)[]) {
    const value = overrides[key];
    if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value;
  }
  return validateLogConfig(config);
}

/** Whether cleanup.policy includes "compact" / "delete" (LogConfig.compact / LogConfig.delete). */
export function isCompact(config: Readonly<LogConfig>): boolean {
  return policies(config).includes("compact");
}

export function isDelete(config: Readonly<LogConfig>): boolean {
  return policies(config).includes("delete");
}

function policies(config: Readonly<LogConfig>): string[] {
  return config["cleanup.policy"].split(",").map((p) => p.trim());
}

/** A bad value is a bug of the layer that built the config (scenarios validate theirs): asserted. */
function validateLogConfig(config: LogConfig): LogConfig {
  assert(Number.isInteger(config["segment.bytes"]) && config["segment.bytes"] >= 14, "segment.bytes must be >= 14");
  assert(isPositiveMs(config["segment.ms"]), "segment.ms must be >= 1");
  assert(config["segment.index.bytes"] >= 4, "segment.index.bytes must be >= 4");
  assert(config["index.interval.bytes"] >= 0, "index.interval.bytes must be >= 0");
  assert(config["retention.ms"] >= -1, "retention.ms must be >= -1");
  for (const policy of policies(config)) assert(policy === "delete" || policy === "compact", `unknown cleanup.policy ${policy}`);
  assert(config["delete.retention.ms"] >= 0, "delete.retention.ms must be >= 0");
  const ratio = config["min.cleanable.dirty.ratio"];
  assert(ratio >= 0 && ratio <= 1, "min.cleanable.dirty.ratio must be in [0, 1]");
  assert(config["min.compaction.lag.ms"] >= 0, "min.compaction.lag.ms must be >= 0");
  assert(config["flush.messages"] >= 1, "flush.messages must be >= 1");
  assert(config["flush.ms"] >= 0, "flush.ms must be >= 0");
  assert(config["max.message.bytes"] >= 0, "max.message.bytes must be >= 0");
  return config;
}

function isPositiveMs(value: number): boolean {
  return typeof value === "number" && value >= 1;
}
