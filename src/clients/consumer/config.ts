/**
 * The Java consumer's configuration (ConsumerConfig.java) for the keys the model uses, with the defaults of a
 * Kafka release (`consumerConfig(clientId, overrides, version)`; 3.x when no version is given). Keys are Kafka's
 * own dotted names; the resolved object is what the consumer records as its "client-config" — without the group
 * keys when group.id is null, since they do not apply to a consumer without a group.
 */

import type { KafkaVersion } from "../../broker/config.ts";

export type AutoOffsetReset = "earliest" | "latest" | "none";
export type IsolationLevel = "read_uncommitted" | "read_committed";

export interface ConsumerConfig {
  "client.id": string;
  /** Where to start without a position, and after OFFSET_OUT_OF_RANGE or a detected truncation ("none": fail). */
  "auto.offset.reset": AutoOffsetReset;
  "fetch.min.bytes": number;
  "fetch.max.wait.ms": number;
  "fetch.max.bytes": number;
  "max.partition.fetch.bytes": number;
  "request.timeout.ms": number;
  "retry.backoff.ms": number;
  "metadata.max.age.ms": number;
  "isolation.level": IsolationLevel;
  // ---- Group management (ConsumerConfig / GroupRebalanceConfig) ----
  /** null: no group (assign() only; no commits). */
  "group.id": string | null;
  /** KIP-345 static membership (2.3+); null: a dynamic member. */
  "group.instance.id": string | null;
  "session.timeout.ms": number;
  "heartbeat.interval.ms": number;
  /** Also the JoinGroup's rebalance timeout. */
  "max.poll.interval.ms": number;
  "max.poll.records": number;
  "enable.auto.commit": boolean;
  "auto.commit.interval.ms": number;
  /** Assignor names or Kafka class names, most preferred first. */
  "partition.assignment.strategy": readonly string[];
  /** The bound of commitSync() and of the committed-offset lookups. */
  "default.api.timeout.ms": number;
  /** Whether close() sends LeaveGroup (dynamic members only). */
  "internal.leave.group.on.close": boolean;
}

export const CONSUMER_CONFIG_DEFAULTS: Omit<ConsumerConfig, "client.id"> = {
  "auto.offset.reset": "latest",
  "fetch.min.bytes": 1,
  "fetch.max.wait.ms": 500,
  "fetch.max.bytes": 52_428_800,
  "max.partition.fetch.bytes": 1_048_576,
  "request.timeout.ms": 30_000,
  "retry.backoff.ms": 100,
  "metadata.max.age.ms": 300_000,
  "isolation.level": "read_uncommitted",
  "group.id": null,
  "group.instance.id": null,
  "session.timeout.ms": 45_000,
  "heartbeat.interval.ms": 3_000,
  "max.poll.interval.ms": 300_000,
  "max.poll.records": 500,
  "enable.auto.commit": true,
  "auto.commit.interval.ms": 5_000,
  "partition.assignment.strategy": ["range", "cooperative-sticky"],
  "default.api.timeout.ms": 60_000,
  "internal.leave.group.on.close": true,
};

/**
 * The defaults that differ by release: session.timeout.ms was 10000 before 3.0 (KIP-735), and the default
 * strategy was [RangeAssignor] before 3.0 (KIP-726 added CooperativeStickyAssignor behind it).
 */
const VERSION_DEFAULTS: Readonly<Record<KafkaVersion, Partial<ConsumerConfig>>> = {
  "0.10.2": { "session.timeout.ms": 10_000, "partition.assignment.strategy": ["range"] },
  "0.11": { "session.timeout.ms": 10_000, "partition.assignment.strategy": ["range"] },
  "1.1": { "session.timeout.ms": 10_000, "partition.assignment.strategy": ["range"] },
  "2.0": { "session.timeout.ms": 10_000, "partition.assignment.strategy": ["range"] },
  "2.1": { "session.timeout.ms": 10_000, "partition.assignment.strategy": ["range"] },
  "2.2": { "session.timeout.ms": 10_000, "partition.assignment.strategy": ["range"] },
  "2.4": { "session.timeout.ms": 10_000, "partition.assignment.strategy": ["range"] },
  "2.7": { "session.timeout.ms": 10_000, "partition.assignment.strategy": ["range"] },
  "3.3": {},
  "3.x": {},
};

/** The keys that only mean something with a group.id. */
export const GROUP_CONFIG_KEYS: readonly (keyof ConsumerConfig)[] = [
  "group.id",
  "group.instance.id",
  "session.timeout.ms",
  "heartbeat.interval.ms",
  "max.poll.interval.ms",
  "max.poll.records",
  "enable.auto.commit",
  "auto.commit.interval.ms",
  "partition.assignment.strategy",
  "default.api.timeout.ms",
  "internal.leave.group.on.close",
];

export type ConsumerConfigOverrides = { readonly [K in keyof ConsumerConfig]?: ConsumerConfig[K] | undefined };

/**
 * The effective configuration: the release's defaults under the given keys (undefined entries are ignored).
 * As ConsumerConfig.maybeOverrideEnableAutoCommit, a consumer without group.id does not auto-commit.
 */
export function consumerConfig(clientId: string, overrides: ConsumerConfigOverrides = {}, version: KafkaVersion = "3.x"): ConsumerConfig {
  const config: ConsumerConfig = { "client.id": clientId, ...CONSUMER_CONFIG_DEFAULTS, ...VERSION_DEFAULTS[version] };
  for (const key of Object.keys(overrides) as (keyof ConsumerConfig)[]) {
    const value = overrides[key];
    if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value;
  }
  if (config["group.id"] === null) config["enable.auto.commit"] = false;
  return config;
}

/**
 * What the consumer records as its "client-config": every key, but none of the group keys when there is no
 * group (they do not apply, and the assign()-only consumer's record stays as it always was).
 */
export function describeConsumerConfig(config: ConsumerConfig): Record<string, unknown> {
  if (config["group.id"] !== null) return { ...config };
  const described: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) if (!GROUP_CONFIG_KEYS.includes(key as keyof ConsumerConfig)) described[key] = value;
  return described;
}

/** Java's checks at construction (ConsumerConfig, GroupRebalanceConfig, Heartbeat): the first problem, or null. */
export function consumerConfigProblem(config: ConsumerConfig): string | null {
  if (config["group.id"] === null) return null;
  if (config["heartbeat.interval.ms"] >= config["session.timeout.ms"]) return "heartbeat.interval.ms must be lower than session.timeout.ms";
  if (config["partition.assignment.strategy"].length === 0) return "partition.assignment.strategy must name at least one assignor";
  return null;
}
