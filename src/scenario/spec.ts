/**
 * The scenario format of DESIGN.md as a zod schema: the one source of truth for validation, for the
 * TypeScript types of a parsed scenario, and (via z.toJSONSchema) for the published JSON Schema. This is
 * DESIGN.md's shape: the cluster (ZooKeeper, brokers, Kafka configs, compat switches, version preset; or a
 * kernel-demo cluster), topics, network, clients, faults (node faults and admin operations) and `expect`.
 * Config keys are Kafka's own, typed from the model's defaults, so a typo is an error, not a silent default.
 */

import { z } from "zod";
import { Tour } from "./tour.ts";
import { parseDuration } from "../sim/time.ts";
import { DEFAULT_MAX_EVENTS_PER_INSTANT } from "../sim/kernel.ts";
import { VIOLATION_NAMES } from "../check/violation.ts";
import { DEFAULT_REPLICATION_CONFIG, KAFKA_VERSIONS } from "../broker/config.ts";
import { BROKER_TOPIC_SYNONYMS, DEFAULT_LOG_CONFIG, DEFAULT_LOG_MANAGER_CONFIG } from "../broker/log/config.ts";
import { BROKER_NUMBER_DEFS, CONSUMER_NUMBER_DEFS, kafkaNumber, PRODUCER_NUMBER_DEFS, TOPIC_NUMBER_DEFS, type NumberDef } from "./config-def.ts";

export { VIOLATION_NAMES };

const DURATION_TEXT = /^\s*\d+(?:\.\d+)?\s*(us|µs|ms|s|m|h)\s*$/;
const DURATION_HINT = 'expected a duration like "250ms", "3.1s", "2m" or a number of milliseconds';

/** The longest duration a scenario may name (one simulated year: far beyond any run that ends in useful time). */
const MAX_DURATION_MS = 365 * 24 * 3_600_000;
const DURATION_MAX_HINT = `expected a duration of at most 8760h (one simulated year, ${MAX_DURATION_MS} ms)`;
/** The most events a scenario's run may be given (limits.maxEvents). */
const MAX_EVENTS = 2_000_000_000;
/** Producer workload bounds: records per second per client, and records in all. */
const MAX_RATE_PER_SEC = 100_000;
const MAX_MESSAGES = 10_000_000;

export const Duration = z.union(
  [
    z.number().nonnegative().max(MAX_DURATION_MS, { error: DURATION_MAX_HINT }),
    z
      .string()
      .regex(DURATION_TEXT, { error: DURATION_HINT })
      .refine((text) => (parseDuration(text) ?? Infinity) <= MAX_DURATION_MS * 1000, { error: DURATION_MAX_HINT }),
  ],
  { error: DURATION_HINT },
);
export type Duration = z.infer<typeof Duration>;

/** Milliseconds as a plain number: at least `min`, at most one simulated year. */
const Millis = (min = 0) =>
  z
    .number()
    .min(min, { error: min > 0 ? `expected at least ${min} ms (1 µs is the virtual clock's resolution)` : "expected a non-negative number of milliseconds" })
    .max(MAX_DURATION_MS, { error: DURATION_MAX_HINT });
/** The smallest positive period or timeout in ms: one microsecond, the virtual clock's resolution. */
const ONE_MICROSECOND_MS = 0.001;
/** Bytes per second of a link or host: from 1 B/s to 1 TB/s. */
const BytesPerSec = z.number().min(1, { error: "expected at least 1 byte per second" }).max(1e12, { error: "expected at most 1e12 bytes per second" });

/** Kafka's assignors by short name and by class name (partition.assignment.strategy, a Kafka LIST). */
export const ASSIGNOR_CLASSES: Readonly<Record<string, string>> = {
  range: "org.apache.kafka.clients.consumer.RangeAssignor",
  roundrobin: "org.apache.kafka.clients.consumer.RoundRobinAssignor",
  sticky: "org.apache.kafka.clients.consumer.StickyAssignor",
  "cooperative-sticky": "org.apache.kafka.clients.consumer.CooperativeStickyAssignor",
};
const ASSIGNOR_HINT = `expected assignor names (${Object.keys(ASSIGNOR_CLASSES).map((n) => `"${n}"`).join(", ")} or Kafka's class names), as a list or a comma-separated string`;
const isAssignorName = (name: string): boolean => name in ASSIGNOR_CLASSES || Object.values(ASSIGNOR_CLASSES).includes(name);
/** partition.assignment.strategy: a list, or Kafka's comma-separated LIST string; at least one known assignor. */
const AssignmentStrategy = z
  .union([z.string(), z.array(z.string())], { error: ASSIGNOR_HINT })
  .transform((value) => (typeof value === "string" ? value.split(",") : value).map((name) => name.trim()).filter((name) => name.length > 0))
  .refine((names) => names.length > 0 && names.every(isAssignorName), { error: ASSIGNOR_HINT });

/** A fault time: a duration, or a [from, to] range drawn from the seed. */
export const FaultTime = z.union([Duration, z.tuple([Duration, Duration])], {
  error: `${DURATION_HINT}, or a ["from", "to"] range of two`,
});

/** A node name (`zk-1`, `broker-2`, `node-3`, a client id) or a selector resolved when the fault fires. */
export const NodeRef = z.union(
  [
    z.string().min(1),
    z.strictObject({ random: z.string().min(1) }),
    z.strictObject({ leaderOf: z.string().min(1) }),
    z.strictObject({ coordinatorOf: z.string().min(1) }),
    z.strictObject({ transactionCoordinatorOf: z.string().min(1) }),
  ],
  {
    error:
      'expected a node name, "controller", "zk-leader", {"random": "<group>"}, {"leaderOf": "<topic>-<partition>"}, {"coordinatorOf": "<consumer group>"} or {"transactionCoordinatorOf": "<transactional.id>"}',
  },
);
export type NodeRef = z.infer<typeof NodeRef>;

/** A list of nodes; one node may be written without the list (`"from": "broker-1"`). Read as a list. */
const NodeList = z
  .union([z.array(NodeRef).min(1), NodeRef], { error: 'expected a node (a name or a selector) or a list of them, e.g. "broker-1" or ["broker-1", "broker-2"]' })
  .transform((value): NodeRef[] => (Array.isArray(value) ? value : [value]));
const Endless = { until: Duration.optional(), for: Duration.optional() };
const OneNode = { node: NodeRef };
/**
 * When a fault fires, and an optional `note` for the reader: one or two sentences on what it does to the cluster
 * and what to watch (carried into the fault's trace event; the viewer shows it).
 */
const Scheduled = { at: FaultTime, note: z.string().min(1).optional() };
const LinkScope = { from: NodeList.optional(), to: NodeList.optional() };

export const Fault = z.discriminatedUnion(
  "type",
  [
    z.strictObject({ type: z.literal("crash"), ...Scheduled, ...OneNode, ...Endless }),
    z.strictObject({ type: z.literal("shutdown"), ...Scheduled, ...OneNode, ...Endless }),
    z.strictObject({ type: z.literal("restart"), ...Scheduled, ...OneNode }),
    z.strictObject({
      type: z.literal("power-loss"),
      ...Scheduled,
      node: NodeRef.optional(),
      nodes: NodeList.optional(),
      ...Endless,
    }),
    z.strictObject({ type: z.literal("machine-crash"), ...Scheduled, ...OneNode, ...Endless }),
    z.strictObject({ type: z.literal("pause"), ...Scheduled, ...OneNode, for: Duration }),
    z.strictObject({
      type: z.literal("partition"),
      ...Scheduled,
      groups: z.array(z.union([z.literal("rest"), NodeList], { error: 'expected a list of nodes (or one node) or "rest"' })).min(2).optional(),
      ...LinkScope,
      ...Endless,
    }),
    z.strictObject({ type: z.literal("heal"), ...Scheduled }),
    z.strictObject({ type: z.literal("loss"), ...Scheduled, rate: z.number().min(0).max(1), ...LinkScope, ...Endless }),
    z.strictObject({ type: z.literal("delay"), ...Scheduled, extra: Duration, ...LinkScope, ...Endless }),
    z.strictObject({ type: z.literal("bandwidth"), ...Scheduled, bytesPerSec: BytesPerSec, ...LinkScope, ...Endless }),
    z.strictObject({ type: z.literal("slow"), ...Scheduled, ...OneNode, factor: z.number().min(1).max(1000, { error: "expected a slow-down factor from 1 to 1000" }), ...Endless }),
    z.strictObject({
      type: z.literal("clock-skew"),
      ...Scheduled,
      ...OneNode,
      offsetMs: z.number().min(-MAX_DURATION_MS, { error: DURATION_MAX_HINT }).max(MAX_DURATION_MS, { error: DURATION_MAX_HINT }).default(0),
      driftPpm: z.number().gt(-1_000_000).max(1_000_000, { error: "expected a drift from -1000000 (exclusive) to 1000000 ppm" }).default(0),
      ...Endless,
    }),
    z.strictObject({
      type: z.literal("disk-error"),
      ...Scheduled,
      ...OneNode,
      op: z.enum(["write", "fsync", "both"]).default("both"),
      ...Endless,
    }),
    z.strictObject({ type: z.literal("disk-full"), ...Scheduled, ...OneNode, ...Endless }),
    z.strictObject({ type: z.literal("disk-slow"), ...Scheduled, ...OneNode, extra: Duration, ...Endless }),
    z.strictObject({ type: z.literal("corrupt"), ...Scheduled, ...OneNode, file: z.string().optional() }),
    z.strictObject({ type: z.literal("controlled-shutdown"), ...Scheduled, ...OneNode, ...Endless }),
    z.strictObject({ type: z.literal("create-topic"), ...Scheduled, topic: z.lazy(() => Topic) }),
    z.strictObject({ type: z.literal("delete-topic"), ...Scheduled, topic: z.string().min(1) }),
    z.strictObject({
      type: z.literal("reassign"),
      ...Scheduled,
      partitions: z.array(z.strictObject({ topic: z.string().min(1), partition: z.number().int().nonnegative(), replicas: z.array(z.number().int().positive()).min(1) })).min(1),
    }),
    z.strictObject({
      type: z.literal("preferred-election"),
      ...Scheduled,
      partitions: z.array(z.strictObject({ topic: z.string().min(1), partition: z.number().int().nonnegative() })).optional(),
    }),
  ],
  { error: "expected a fault with a known type (crash, shutdown, restart, power-loss, machine-crash, pause, partition, heal, loss, delay, bandwidth, slow, clock-skew, disk-error, disk-full, disk-slow, corrupt, controlled-shutdown, create-topic, delete-topic, reassign, preferred-election)" },
);
export type Fault = z.infer<typeof Fault>;

export const LatencyMs = z.union(
  [
    Millis(ONE_MICROSECOND_MS),
    z.tuple([Millis(ONE_MICROSECOND_MS), Millis(ONE_MICROSECOND_MS)]),
    z.strictObject({ dist: z.literal("normal"), meanMs: Millis(), stddevMs: Millis(), minMs: Millis(ONE_MICROSECOND_MS).default(ONE_MICROSECOND_MS) }),
    z.strictObject({ dist: z.literal("exponential"), meanMs: Millis(), minMs: Millis(ONE_MICROSECOND_MS).default(ONE_MICROSECOND_MS) }),
  ],
  // No network answers in zero time; a zero latency would let a request loop (a fetch with no wait) spin at one instant.
  { error: 'expected milliseconds (at least 0.001, one microsecond), a [min, max] range, or {"dist": "normal" | "exponential", ...}' },
);

export const DemoCluster = z.strictObject({
  nodes: z.number().int().min(1).max(64),
  pingIntervalMs: Millis(ONE_MICROSECOND_MS).default(100),
  requestTimeoutMs: Millis(ONE_MICROSECOND_MS).default(1000),
  flushEvery: z.number().int().nonnegative().max(1_000_000).default(0),
});

/** A ZooKeeper ensemble: servers zk-1 … zk-N with ZooKeeper's own settings (zoo.cfg). */
export const ZooKeeperCluster = z.strictObject({
  servers: z.union([z.literal(1), z.literal(3), z.literal(5)], { error: "expected 1, 3 or 5 ZooKeeper servers" }),
  tickTimeMs: z.number().int().min(1).max(3_600_000, { error: "expected a tick time from 1 ms to 1 hour" }).default(2000),
  initLimit: z.number().int().min(1).max(10_000).default(10),
  syncLimit: z.number().int().min(1).max(10_000).default(5),
  snapCount: z.number().int().min(2).max(1_000_000_000).default(100_000),
});

const ClientId = z.string().regex(/^[a-z][a-z0-9-]*$/, { error: "expected an id of lowercase letters, digits and dashes" });

/** The Java producer's configs a scenario may set (Kafka 3.x defaults apply to keys left out). */
const PRODUCER_CONFIG_SHAPE = {
    acks: z.union([z.literal("all"), z.literal("1"), z.literal("0"), z.literal("-1"), z.literal(-1), z.literal(0), z.literal(1)]).optional(),
    "batch.size": kafkaNumber(PRODUCER_NUMBER_DEFS["batch.size"]).optional(),
    "linger.ms": kafkaNumber(PRODUCER_NUMBER_DEFS["linger.ms"]).optional(),
    "max.in.flight.requests.per.connection": kafkaNumber(PRODUCER_NUMBER_DEFS["max.in.flight.requests.per.connection"]).optional(),
    retries: kafkaNumber(PRODUCER_NUMBER_DEFS["retries"]).optional(),
    "retry.backoff.ms": kafkaNumber(PRODUCER_NUMBER_DEFS["retry.backoff.ms"]).optional(),
    "request.timeout.ms": kafkaNumber(PRODUCER_NUMBER_DEFS["request.timeout.ms"]).optional(),
    "delivery.timeout.ms": kafkaNumber(PRODUCER_NUMBER_DEFS["delivery.timeout.ms"]).optional(),
    "enable.idempotence": z.boolean().optional(),
    "metadata.max.age.ms": kafkaNumber(PRODUCER_NUMBER_DEFS["metadata.max.age.ms"]).optional(),
    "max.block.ms": kafkaNumber(PRODUCER_NUMBER_DEFS["max.block.ms"]).optional(),
    "reconnect.backoff.ms": kafkaNumber(PRODUCER_NUMBER_DEFS["reconnect.backoff.ms"]).optional(),
    "reconnect.backoff.max.ms": kafkaNumber(PRODUCER_NUMBER_DEFS["reconnect.backoff.max.ms"]).optional(),
    "max.request.size": kafkaNumber(PRODUCER_NUMBER_DEFS["max.request.size"]).optional(),
    "buffer.memory": kafkaNumber(PRODUCER_NUMBER_DEFS["buffer.memory"]).optional(),
    /** A transactional producer (needs a `transaction` workload); producers may share one id (fencing). */
    "transactional.id": z.string().min(1, { error: "expected a non-empty transactional.id" }).optional(),
    "transaction.timeout.ms": kafkaNumber(PRODUCER_NUMBER_DEFS["transaction.timeout.ms"]).optional(),
};

/** The Java consumer's configs a scenario may set. */
const CONSUMER_CONFIG_SHAPE = {
    "auto.offset.reset": z.enum(["earliest", "latest", "none"]).optional(),
    "fetch.min.bytes": kafkaNumber(CONSUMER_NUMBER_DEFS["fetch.min.bytes"]).optional(),
    "fetch.max.wait.ms": kafkaNumber(CONSUMER_NUMBER_DEFS["fetch.max.wait.ms"]).optional(),
    "fetch.max.bytes": kafkaNumber(CONSUMER_NUMBER_DEFS["fetch.max.bytes"]).optional(),
    "max.partition.fetch.bytes": kafkaNumber(CONSUMER_NUMBER_DEFS["max.partition.fetch.bytes"]).optional(),
    "request.timeout.ms": kafkaNumber(CONSUMER_NUMBER_DEFS["request.timeout.ms"]).optional(),
    "retry.backoff.ms": kafkaNumber(CONSUMER_NUMBER_DEFS["retry.backoff.ms"]).optional(),
    "metadata.max.age.ms": kafkaNumber(CONSUMER_NUMBER_DEFS["metadata.max.age.ms"]).optional(),
    "group.id": z.string().min(1).optional(),
    "group.instance.id": z.string().min(1).optional(),
    "session.timeout.ms": kafkaNumber(CONSUMER_NUMBER_DEFS["session.timeout.ms"]).optional(),
    "heartbeat.interval.ms": kafkaNumber(CONSUMER_NUMBER_DEFS["heartbeat.interval.ms"]).optional(),
    "max.poll.interval.ms": kafkaNumber(CONSUMER_NUMBER_DEFS["max.poll.interval.ms"]).optional(),
    "max.poll.records": kafkaNumber(CONSUMER_NUMBER_DEFS["max.poll.records"]).optional(),
    "enable.auto.commit": z.boolean().optional(),
    "auto.commit.interval.ms": kafkaNumber(CONSUMER_NUMBER_DEFS["auto.commit.interval.ms"]).optional(),
    "default.api.timeout.ms": kafkaNumber(CONSUMER_NUMBER_DEFS["default.api.timeout.ms"]).optional(),
    "partition.assignment.strategy": AssignmentStrategy.optional(),
    /** read_committed: read to the last stable offset, never an aborted transaction's records. */
    "isolation.level": z.enum(["read_uncommitted", "read_committed"]).optional(),
};

/** The producer's and the consumer's config keys (a processor's one config map feeds both; shared keys go to both). */
export const PRODUCER_CONFIG_KEYS: readonly string[] = Object.keys(PRODUCER_CONFIG_SHAPE);
export const CONSUMER_CONFIG_KEYS: readonly string[] = Object.keys(CONSUMER_CONFIG_SHAPE);

/** Client processes. `zk-session` is a ZooKeeper probe (a session holding an ephemeral, as a broker does). */
export const Client = z.discriminatedUnion(
  "type",
  [
    z.strictObject({
      id: ClientId,
      type: z.literal("zk-session"),
      config: z
        .strictObject({ "zookeeper.session.timeout.ms": kafkaNumber(BROKER_NUMBER_DEFS["zookeeper.session.timeout.ms"]).default(18_000) })
        .default({ "zookeeper.session.timeout.ms": 18_000 }),
      workload: z
        .strictObject({
          ephemeral: z.string().startsWith("/").optional(),
          writePath: z.string().startsWith("/").optional(),
          writeEveryMs: Millis(ONE_MICROSECOND_MS).default(1000),
        })
        .default({ writeEveryMs: 1000 }),
    }),
    z.strictObject({
      id: ClientId,
      type: z.literal("producer"),
      /** The Java producer's configs (Kafka 3.x defaults apply to keys left out). */
      config: z.strictObject(PRODUCER_CONFIG_SHAPE).default({}),
      workload: z.strictObject({
        /** The topic written (or `topics`: a transactional producer's records go round-robin over several). */
        topic: z.string().min(1).optional(),
        topics: z.array(z.string().min(1)).min(1, { error: "expected at least one topic" }).optional(),
        /** Transactions (needs config["transactional.id"]): `records` per transaction, every `abortEvery`-th aborted. */
        transaction: z
          .strictObject({
            records: z.number().int().positive().max(MAX_MESSAGES, { error: `expected 1 to ${MAX_MESSAGES} records per transaction` }),
            abortEvery: z.number().int().nonnegative().max(MAX_MESSAGES).default(0),
          })
          .optional(),
        messages: z.number().int().positive().max(MAX_MESSAGES, { error: `expected at most ${MAX_MESSAGES} messages (every record is kept for the checkers)` }),
        ratePerSec: z
          .number()
          .positive()
          .max(MAX_RATE_PER_SEC, { error: `expected at most ${MAX_RATE_PER_SEC} records per second per producer` }),
        /** Number of distinct keys; absent = null keys (sticky partitioning). */
        keys: z.number().int().positive().max(MAX_MESSAGES).optional(),
        /** "uniform", or "hot": 80 % of the records on the first 20 % of the keys. */
        keyDistribution: z.enum(["uniform", "hot"]).default("uniform"),
        startAt: Duration.optional(),
        stopAt: Duration.optional(),
      }),
    }),
    z.strictObject({
      id: ClientId,
      type: z.literal("consumer"),
      /** The consumer group (the same as config["group.id"]); without one the consumer is assigned every partition. */
      group: z.string().min(1).optional(),
      topics: z.array(z.string().min(1), { error: "expected a list of topic names (the topics the consumer reads; a group member subscribes to them)" }).min(1, { error: "expected at least one topic (the topics the consumer reads; a group member subscribes to them)" }),
      /** The Java consumer's configs (auto.offset.reset defaults to "earliest" here so the workload reads everything). */
      config: z.strictObject(CONSUMER_CONFIG_SHAPE).default({}),
      /** The application around the consumer (group consumers only). */
      workload: z
        .strictObject({
          /** Virtual time to process one record (slow processing can exceed max.poll.interval.ms). */
          processMs: Millis().default(0),
          /** When offsets are committed: auto-commit, after processing (sync or async), or before processing (at-most-once). */
          commit: z.enum(["auto", "sync-after-process", "async-after-process", "before-process"]).optional(),
          /** The first poll(). */
          startAt: Duration.optional(),
          /** The application stops calling poll() (it hangs; the heartbeat thread goes on until max.poll.interval.ms). */
          stopAt: Duration.optional(),
          /** KafkaConsumer.close(): commit (auto-commit), revoke, LeaveGroup (none for a static member). */
          closeAt: Duration.optional(),
        })
        .optional(),
    }),
    z.strictObject({
      id: ClientId,
      type: z.literal("processor"),
      /** The consumer group of the processor instances. */
      group: z.string({ error: 'expected "group": the consumer group the processor reads in' }).min(1),
      /** The topic read. */
      input: z.string({ error: 'expected "input": the topic the processor reads' }).min(1),
      /** The topic written (a derived value per input record). */
      output: z.string({ error: 'expected "output": the topic the processor writes' }).min(1),
      /** Consumer and producer configs in one map (as Kafka Streams takes them), and processing.guarantee. */
      config: z
        .strictObject({
          ...PRODUCER_CONFIG_SHAPE,
          ...CONSUMER_CONFIG_SHAPE,
          /** Kafka Streams' processing.guarantee: transactions (default) or commitSync after the writes. */
          "processing.guarantee": z.enum(["exactly_once_v2", "at_least_once"]).optional(),
        })
        .default({}),
      workload: z
        .strictObject({
          /** Virtual time to process one record. */
          processMs: Millis().default(0),
          /** The first poll(). */
          startAt: Duration.optional(),
          /** The application stops calling poll() (it hangs). */
          stopAt: Duration.optional(),
        })
        .default({ processMs: 0 }),
    }),
  ],
  { error: 'expected a client with a known type ("producer", "consumer", "processor" or "zk-session")' },
);
export type Client = z.infer<typeof Client>;

/** cleanup.policy: Kafka's LIST with ValidList.in("compact", "delete"). */
const CleanupPolicy = z
  .string({ error: 'expected "delete", "compact" or "compact,delete" (Kafka LIST, ValidList.in(compact, delete))' })
  .refine((text) => text.split(",").every((policy) => ["compact", "delete"].includes(policy.trim())), {
    error: 'expected "delete", "compact" or "compact,delete" (Kafka LIST, ValidList.in(compact, delete))',
  });

/**
 * Optional keys typed from Kafka's ConfigDef (config-def.ts): numbers with their type and range, booleans, the
 * cleanup policy list, other strings. Every numeric key with a default must have a definition.
 */
function optionalKeys(defaults: Readonly<Record<string, unknown>>, defs: Readonly<Record<string, NumberDef>>): Record<string, z.ZodOptional<z.ZodType>> {
  return Object.fromEntries(
    Object.entries(defaults).map(([key, value]) => {
      if (typeof value === "boolean") return [key, z.boolean().optional()];
      if (key.endsWith("cleanup.policy")) return [key, CleanupPolicy.optional()];
      if (typeof value !== "number") return [key, z.string().min(1).optional()];
      const def = defs[key];
      if (def === undefined) throw new Error(`config key ${key} has no ConfigDef in config-def.ts`);
      return [key, kafkaNumber(def).optional()];
    }),
  );
}

/** Broker keys that default a topic key (log.retention.ms → retention.ms), typed like the topic key. */
const BROKER_LOG_KEYS = Object.fromEntries(
  Object.entries(BROKER_TOPIC_SYNONYMS).map(([brokerKey, topicKey]) => [brokerKey, DEFAULT_LOG_CONFIG[topicKey]]),
);

/**
 * Cluster-wide settings: every broker's Kafka configs (replication, controller, log manager and `log.*`
 * defaults of topic configs) and host-level disk settings (not Kafka configs, under Kafka-style dotted keys).
 */
export const ClusterConfig = z.strictObject({
  ...optionalKeys(DEFAULT_REPLICATION_CONFIG, BROKER_NUMBER_DEFS),
  ...optionalKeys(DEFAULT_LOG_MANAGER_CONFIG, BROKER_NUMBER_DEFS),
  ...optionalKeys(BROKER_LOG_KEYS, BROKER_NUMBER_DEFS),
  "disk.writebackMs": Millis(ONE_MICROSECOND_MS).optional(),
  "disk.writebackIntervalMs": Millis(ONE_MICROSECOND_MS).optional(),
  "disk.fsyncMs": z.tuple([Millis(), Millis()]).optional(),
  "disk.capacityBytes": z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
});

/** Topic-level configs (LogConfig keys plus the replication ones a topic may override). */
export const TopicConfig = z.strictObject({
  ...optionalKeys(DEFAULT_LOG_CONFIG, TOPIC_NUMBER_DEFS),
  "min.insync.replicas": kafkaNumber(TOPIC_NUMBER_DEFS["min.insync.replicas"]).optional(),
  "unclean.leader.election.enable": z.boolean().optional(),
});

export const Topic = z.strictObject({
  name: z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, { error: "expected a topic name of letters, digits, '.', '_' and '-'" }),
  partitions: z.number().int().min(1).max(100_000).default(1),
  replicationFactor: z.number().int().min(1).max(64).default(1),
  /** Replicas per partition, preferred leader first; drawn from the seed (as AdminUtils does) when absent. */
  assignment: z.array(z.array(z.number().int().positive()).min(1)).optional(),
  config: TopicConfig.default({}),
});
export type Topic = z.infer<typeof Topic>;

/** Compatibility switches restoring historical behaviour (defaults: today's, or the version preset's). */
export const Compat = z.strictObject({
  truncation: z.enum(["high-watermark", "kip-101", "kip-279", "kip-320"]).optional(),
  isrUpdate: z.enum(["zk-direct", "alter-isr"]).optional(),
  controllerEpochCheck: z.boolean().optional(),
  fetchSessions: z.boolean().optional(),
  offlineReplicasOnFailover: z.boolean().optional(),
  fullMetadataToNewBrokersOnly: z.boolean().optional(),
  reelectionResetsNonIsrFetchTime: z.boolean().optional(),
  hwNeedsMinIsr: z.boolean().optional(),
  epochCacheOnElection: z.boolean().optional(),
  caughtUpFollowerStaysInSync: z.boolean().optional(),
  isrJoinNeedsEpochStart: z.boolean().optional(),
  outOfRangeTruncation: z.enum(["halt-unless-unclean", "truncate"]).optional(),
  fetcherRestart: z.enum(["leader-change", "epoch-skip", "epoch-change"]).optional(),
  brokerEpochs: z.boolean().optional(),
  ineligibleReplicaCheck: z.boolean().optional(),
  transactionVerification: z.boolean().optional(),
  epochBumpPerTransaction: z.boolean().optional(),
  memberIdRequired: z.boolean().optional(),
  rebalanceInProgressOnSyncHeartbeat: z.boolean().optional(),
  pendingSyncTimeout: z.boolean().optional(),
  staticMembership: z.boolean().optional(),
});


/** Fault types the nemesis can generate (node, network and disk faults; no admin operations). */
export const NEMESIS_FAULT_TYPES = [
  "crash",
  "power-loss",
  "machine-crash",
  "pause",
  "shutdown",
  "partition",
  "clock-skew",
  "loss",
  "delay",
  "slow",
  "disk-slow",
  "disk-error",
  "disk-full",
] as const;
export type NemesisFaultType = (typeof NEMESIS_FAULT_TYPES)[number];

const MIN_MAX_HINT = "expected [min, max] milliseconds with min <= max";
const MsRange = (min: number) =>
  z.tuple([Millis(min), Millis(min)], { error: MIN_MAX_HINT }).refine(([low, high]) => low <= high, { error: MIN_MAX_HINT });

/**
 * Random faults drawn from the seed (the "nemesis" stream) during `duration`, besides the fixed `faults`
 * list: a fault every `intervalMs`, each lasting `durationMs`, at most `maxConcurrent` at once (see
 * docs/scenarios.md, "Nemesis").
 */
export const Nemesis = z.strictObject({
  types: z.array(z.enum(NEMESIS_FAULT_TYPES)).min(1).default(["crash", "partition", "pause"]),
  /** Time between the starts of two faults, drawn per fault. */
  intervalMs: MsRange(1).default([2000, 8000]),
  /** How long each fault lasts (its `for`), drawn per fault. */
  durationMs: MsRange(0).default([1000, 5000]),
  maxConcurrent: z.number().int().min(1).max(64).default(1),
  /**
   * Which nodes faults hit: brokers (and the roles "controller", {"leaderOf"}, {"coordinatorOf"}), ZooKeeper
   * servers (and "zk-leader"), the group consumers and their groups' coordinators ({"coordinatorOf"}), or all.
   */
  targets: z.enum(["brokers", "zookeeper", "consumers", "all"]).default("brokers"),
  /** Never take down a majority of the ZooKeeper servers or of any partition's replicas at once. */
  minority: z.boolean().default(false),
  /** No fault starts before this time (default 0: the first one comes one interval in). */
  startAt: Duration.optional(),
  /** No fault starts after this time (default: `duration`). */
  stopAt: Duration.optional(),
});
export type Nemesis = z.infer<typeof Nemesis>;

export const ViolationName = z.enum(VIOLATION_NAMES);
export type ViolationName = z.infer<typeof ViolationName>;

/**
 * One expected trace event count: events of `kind` whose fields equal every entry of `where`, at least `min`
 * (default 1 when `max` is absent) and at most `max` times over the whole run.
 */
const ExpectedEvent = z
  .strictObject({
    kind: z.string().regex(/^[a-z][a-z0-9-]*$/, { error: "expected a trace event kind (docs/trace.md), like \"broker-halted\"" }),
    where: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]), { error: "expected an object of event fields and the values they must have" }).optional(),
    min: z.number().int().min(0, { error: "expected a count of at least 0" }).optional(),
    max: z.number().int().min(0, { error: "expected a count of at least 0" }).optional(),
  })
  .refine((e) => e.min === undefined || e.max === undefined || e.min <= e.max, { error: "expected min <= max" });
export type ExpectedEvent = z.infer<typeof ExpectedEvent>;

export const Scenario = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().min(1),
  description: z.string().optional(),
  /** A guided tour for the viewer (src/scenario/tour.ts); the run ignores it. */
  tour: Tour.optional(),
  seed: z.union([z.number().int(), z.string()]).default(1),
  duration: Duration,
  settle: Duration.default("30s"),
  cluster: z.strictObject({
    demo: DemoCluster.optional(),
    zookeeper: ZooKeeperCluster.optional(),
    /** Kafka brokers broker-1 … broker-N (broker.id 1 … N); they need cluster.zookeeper. */
    brokers: z.number().int().min(1).max(64).optional(),
    /** A Kafka era preset for defaults and compat switches (default "3.x"). */
    version: z.enum(KAFKA_VERSIONS as [string, ...string[]]).default("3.x"),
    config: ClusterConfig.default({}),
    compat: Compat.default({}),
  }),
  topics: z.array(Topic).default([]),
  clients: z.array(Client).default([]),
  network: z
    .strictObject({
      latencyMs: LatencyMs.default([1, 3]),
      bandwidthBytesPerSec: BytesPerSec.optional(),
      /** How long a connection retransmits — through a cut, or a message lost again and again — before it resets (default 10 s; 0: at once). */
      tcpRetransmitMs: Millis().optional(),
    })
    .default({ latencyMs: [1, 3] }),
  faults: z.array(Fault).default([]),
  nemesis: Nemesis.optional(),
  expect: z
    .strictObject({
      violations: z.array(ViolationName).default([]),
      allow: z.array(ViolationName).default([]),
      /** Trace events the run must (min) or must not (max) show: a halted broker, a client error, an election. */
      events: z.array(ExpectedEvent).default([]),
    })
    .optional(),
  /** Bounds every run (docs/scenarios.md, "Limits"): events in all, and events at one virtual instant. */
  limits: z
    .strictObject({
      maxEvents: z.number().int().positive().max(MAX_EVENTS).default(50_000_000),
      maxEventsPerInstant: z.number().int().min(1000).max(MAX_EVENTS).default(DEFAULT_MAX_EVENTS_PER_INSTANT),
    })
    .default({ maxEvents: 50_000_000, maxEventsPerInstant: DEFAULT_MAX_EVENTS_PER_INSTANT }),
});
export type Scenario = z.infer<typeof Scenario>;
export type ScenarioInput = z.input<typeof Scenario>;
