/**
 * Kafka's ConfigDef for the keys a scenario may set: each key's type (INT, LONG, DOUBLE, BOOLEAN, STRING, LIST)
 * and validator (`atLeast`, `between`, `in`) as Kafka 3.6 defines them (KafkaConfig.scala, LogConfig.java,
 * ProducerConfig.java, ConsumerConfig.java), plus KafkaConfig.validateValues' cross-key rules. Where Kafka has no
 * validator but a value cannot run (a broker that cannot start, a thread that spins without sleeping), the key
 * carries a model range with the reason, so the loader refuses it in one line instead of the model failing.
 * Simplification: JavaScript numbers hold LONGs exactly only up to 2^53 − 1; larger LONGs (Long.MAX_VALUE, Kafka's
 * "never") are read as LONG_MAX, the model's "never".
 */

import { z } from "zod";
import { LONG_MAX } from "../broker/log/config.ts";

type KafkaType = "SHORT" | "INT" | "LONG" | "DOUBLE";

export interface NumberDef {
  readonly type: KafkaType;
  /** Kafka's validator: atLeast(min) or between(min, max). */
  readonly min?: number;
  readonly max?: number;
  /** The validator as Kafka writes it, for messages ("atLeast(1)"); absent: Kafka has none. */
  readonly kafka?: string;
  /** A range narrower than Kafka's (the model cannot run the rest), and why. */
  readonly model?: { readonly min?: number; readonly max?: number; readonly why: string };
  /** 0 is refused although the range holds it (log.retention.ms: ≥ 1, or negative for unlimited). */
  readonly notZero?: boolean;
  /** Maps a valid value to the one the model uses (KafkaConfig reading every negative log.retention.ms as -1). */
  readonly normalize?: (value: number) => number;
}

const INT_MIN = -2_147_483_648;
const INT_MAX = 2_147_483_647;
/** Long.MIN_VALUE / Long.MAX_VALUE as JSON numbers parse (the nearest doubles). */
const LONG_LIMIT = 9_223_372_036_854_775_808;

const TYPE_RANGE: Record<KafkaType, [number, number]> = {
  SHORT: [-32_768, 32_767],
  INT: [INT_MIN, INT_MAX],
  LONG: [-LONG_LIMIT, LONG_LIMIT],
  DOUBLE: [-Number.MAX_VALUE, Number.MAX_VALUE],
};

const int = (kafka?: [number, number?], model?: NumberDef["model"]): NumberDef => def("INT", kafka, model);
const short = (kafka?: [number, number?], model?: NumberDef["model"]): NumberDef => def("SHORT", kafka, model);
const long = (kafka?: [number, number?], model?: NumberDef["model"]): NumberDef => def("LONG", kafka, model);

function def(type: KafkaType, kafka: [number, number?] | undefined, model: NumberDef["model"]): NumberDef {
  if (kafka === undefined) return { type, model };
  const [min, max] = kafka;
  return max === undefined ? { type, min, kafka: `atLeast(${min})`, model } : { type, min, max, kafka: `between(${min}, ${max})`, model };
}

/** The cleaner's dirty ratio (DOUBLE, between(0, 1)), at broker and topic level. */
export const RATIO_DEF: NumberDef = { type: "DOUBLE", min: 0, max: 1, kafka: "between(0, 1)" };

/** Broker configs (KafkaConfig) the model reads, Kafka 3.6's definitions. */
export const BROKER_NUMBER_DEFS: Readonly<Record<string, NumberDef>> = {
  "zookeeper.session.timeout.ms": int(undefined, { min: 1, why: "with ≤ 0 the ZooKeeper client's connect timeout is 0 and the broker cannot start" }),
  "zookeeper.connection.timeout.ms": int(undefined, { min: 1, why: "with ≤ 0 ZooKeeperClient.waitUntilConnected times out at once and the broker cannot start" }),
  "replica.lag.time.max.ms": long(undefined, { min: 0, why: "must be at least replica.fetch.wait.max.ms, which is ≥ 0" }),
  "replica.fetch.wait.max.ms": int(undefined, { min: 0, why: "a negative wait is answered at once, as 0: write 0" }),
  "replica.fetch.min.bytes": int(undefined, { min: 0, why: "a negative minimum is met at once, as 0: write 0" }),
  "replica.fetch.max.bytes": int([0]),
  "replica.fetch.response.max.bytes": int([0]),
  "replica.fetch.backoff.ms": int([0]),
  "replica.socket.timeout.ms": int(undefined, { min: 1, why: "a fetch request with a timeout ≤ 0 times out before any answer" }),
  "min.insync.replicas": int([1]),
  "default.replication.factor": int(undefined, { min: 1, why: "a topic needs at least one replica" }),
  "num.partitions": int([1]),
  "controller.socket.timeout.ms": int(undefined, { min: 1, why: "a controller request with a timeout ≤ 0 times out before any answer" }),
  "controlled.shutdown.max.retries": int(undefined, { min: 0, why: "a negative count means no attempt, as 0: write 0" }),
  "controlled.shutdown.retry.backoff.ms": long(undefined, { min: 0, why: "Thread.sleep refuses a negative time" }),
  "leader.imbalance.check.interval.seconds": long([1]),
  "leader.imbalance.per.broker.percentage": int(undefined, { min: 0, max: 100, why: "a percentage" }),
  // ReplicaManager's IsrChangePropagationInterval is a constant (2500 ms) in Kafka; the model lets scenarios set it.
  "isr.change.propagation.interval.ms": long(undefined, { min: 1, why: "not a Kafka config (ReplicaManager's constant 2500 ms); a period ≤ 0 would re-run at one instant" }),
  "request.timeout.ms": int(undefined, { min: 1, why: "a request with a timeout ≤ 0 times out before any answer" }),
  "max.incremental.fetch.session.cache.slots": int([0]),
  // LogManager and ReplicaManager scheduler periods: KafkaScheduler runs a task with a period ≤ 0 once.
  "log.flush.scheduler.interval.ms": long(),
  "log.flush.offset.checkpoint.interval.ms": int([0]),
  "log.flush.start.offset.checkpoint.interval.ms": int([0]),
  "replica.high.watermark.checkpoint.interval.ms": long(),
  "log.retention.check.interval.ms": long([1]),
  "log.cleaner.backoff.ms": long([0], { min: 1, why: "with 0 the cleaner thread never sleeps between rounds (CleanerThread.pause(0)): the simulated clock would stop" }),
  "log.initial.task.delay.ms": long([0]),
  // Broker synonyms of topic configs (ServerTopicConfigSynonyms); log.roll.ms and log.retention.ms are checked in
  // KafkaConfig.validateValues, and every negative log.retention.ms means unlimited (KafkaConfig.logRetentionTimeMillis).
  "log.segment.bytes": int([14]),
  "log.roll.ms": long([1]),
  "log.index.size.max.bytes": int([4]),
  "log.index.interval.bytes": int([0]),
  "log.retention.ms": { type: "LONG", kafka: "≥ 1, or negative for unlimited (validateValues)", notZero: true, normalize: (ms) => (ms < 0 ? -1 : ms) },
  "log.retention.bytes": long(),
  "log.cleaner.delete.retention.ms": long([0]),
  "log.cleaner.min.compaction.lag.ms": long([0]),
  "log.cleaner.min.cleanable.ratio": RATIO_DEF,
  "log.flush.interval.messages": long([1]),
  "log.flush.interval.ms": long([0]),
  "message.max.bytes": int([0]),
  // The group coordinator (KafkaConfig's GroupConfig and OffsetConfig keys).
  "offsets.topic.num.partitions": int([1]),
  "offsets.topic.replication.factor": short([1]),
  "offsets.commit.timeout.ms": int([1]),
  "offsets.topic.segment.bytes": int([1]),
  "offsets.retention.minutes": int([1]),
  "offsets.retention.check.interval.ms": long([1]),
  "group.min.session.timeout.ms": int(),
  "group.max.session.timeout.ms": int(),
  "group.initial.rebalance.delay.ms": int(),
  "group.max.size": int([1]),
  // The transaction coordinator (KafkaConfig's TransactionLogConfig and TransactionStateManagerConfig keys).
  "transaction.state.log.num.partitions": int([1]),
  "transaction.state.log.replication.factor": short([1]),
  "transaction.state.log.min.isr": int([1]),
  "transaction.state.log.segment.bytes": int([1]),
  "transaction.max.timeout.ms": int([1]),
  "transaction.abort.timed.out.transaction.cleanup.interval.ms": int([1]),
  "transactional.id.expiration.ms": int([1]),
};

/** Topic configs (LogConfig) the model reads. */
export const TOPIC_NUMBER_DEFS: Readonly<Record<string, NumberDef>> = {
  "segment.bytes": int([14]),
  "segment.ms": long([1]),
  "segment.index.bytes": int([4]),
  "index.interval.bytes": int([0]),
  "retention.ms": long([-1]),
  // "can be negative" (LogConfig): every negative value means no size limit.
  "retention.bytes": long(),
  "delete.retention.ms": long([0]),
  "min.compaction.lag.ms": long([0]),
  "min.cleanable.dirty.ratio": RATIO_DEF,
  "flush.messages": long([1]),
  "flush.ms": long([0]),
  "max.message.bytes": int([0]),
  "min.insync.replicas": int([1]),
};


const CLIENT_TIMEOUT_WHY = "a request with a timeout ≤ 0 times out before any answer";

/** Producer configs (ProducerConfig) the model reads. */
export const PRODUCER_NUMBER_DEFS: Readonly<Record<string, NumberDef>> = {
  "batch.size": int([0]),
  "linger.ms": long([0]),
  "max.in.flight.requests.per.connection": int([1]),
  retries: int([0, INT_MAX]),
  "retry.backoff.ms": long([0]),
  "request.timeout.ms": int([0], { min: 1, why: CLIENT_TIMEOUT_WHY }),
  "delivery.timeout.ms": int([0]),
  "metadata.max.age.ms": long([0]),
  "max.block.ms": long([0]),
  "reconnect.backoff.ms": long([0]),
  "reconnect.backoff.max.ms": long([0]),
  "max.request.size": int([0]),
  "buffer.memory": long([0]),
  // No validator in Kafka: the coordinator answers INVALID_TRANSACTION_TIMEOUT for ≤ 0 or above transaction.max.timeout.ms.
  "transaction.timeout.ms": int(),
};

/** Consumer configs (ConsumerConfig) the model reads. */
export const CONSUMER_NUMBER_DEFS: Readonly<Record<string, NumberDef>> = {
  "fetch.min.bytes": int([0]),
  "fetch.max.wait.ms": int([0]),
  "fetch.max.bytes": int([0]),
  "max.partition.fetch.bytes": int([0]),
  "request.timeout.ms": int([0], { min: 1, why: CLIENT_TIMEOUT_WHY }),
  "retry.backoff.ms": long([0]),
  "metadata.max.age.ms": long([0]),
  // Group management (ConsumerConfig / GroupRebalanceConfig). A session timeout outside the brokers'
  // group.min/max.session.timeout.ms is not refused: the coordinator answers INVALID_SESSION_TIMEOUT.
  "session.timeout.ms": int(undefined, { min: 1, why: "heartbeat.interval.ms must be below it and at least 1" }),
  "heartbeat.interval.ms": int(undefined, { min: 1, why: "a heartbeat thread with a 0 interval heartbeats without pause" }),
  "max.poll.interval.ms": int([1]),
  "max.poll.records": int([1]),
  "auto.commit.interval.ms": int([0], { min: 1, why: "0 auto-commits on every turn of the poll loop, which then never sleeps" }),
  "default.api.timeout.ms": int([0]),
};

/** The range a value must fall in: the type's, narrowed by Kafka's validator, narrowed by the model's. */
export function allowedRange(d: NumberDef): [number, number] {
  let [low, high] = TYPE_RANGE[d.type];
  if (d.min !== undefined) low = Math.max(low, d.min);
  if (d.max !== undefined) high = Math.min(high, d.max);
  if (d.model?.min !== undefined) low = Math.max(low, d.model.min);
  if (d.model?.max !== undefined) high = Math.min(high, d.model.max);
  return [low, high];
}

function show(value: number): string {
  if (value === INT_MAX) return "2147483647";
  if (value === INT_MIN) return "-2147483648";
  if (Math.abs(value) === LONG_LIMIT) return value < 0 ? "Long.MIN_VALUE" : "Long.MAX_VALUE";
  return String(value);
}

/** "an integer in [1, 2147483647] (Kafka INT, atLeast(1))". */
function describeNumberDef(d: NumberDef): string {
  const [low, high] = allowedRange(d);
  const what = d.type === "DOUBLE" ? "a number" : "an integer";
  const kafka = [`Kafka ${d.type}`, d.kafka ?? "no validator"].join(", ");
  const model = d.model === undefined ? "" : `; ${d.model.why}`;
  return `${what} in [${show(low)}, ${show(high)}] (${kafka}${model})`;
}

/** Whether a JSON value is valid for the definition (before normalising). */
function numberDefAccepts(d: NumberDef, value: unknown): value is number {
  if (typeof value !== "number" || !Number.isFinite(value)) return false;
  if (d.type !== "DOUBLE" && !Number.isInteger(value)) return false;
  const [low, high] = allowedRange(d);
  return value >= low && value <= high && !(d.notZero === true && value === 0);
}

/** The value the model runs with: normalised, and LONGs beyond 2^53 − 1 read as LONG_MAX ("never"). */
function normalizeNumber(d: NumberDef, value: number): number {
  const result = d.normalize?.(value) ?? value;
  return d.type === "LONG" && Math.abs(result) > LONG_MAX ? Math.sign(result) * LONG_MAX : result;
}

/**
 * The zod schema of one numeric key (typed and bounded in the published JSON Schema too), every failure with one
 * message naming the allowed range and the value found.
 */
export function kafkaNumber(d: NumberDef): z.ZodType<number, number> {
  const message = `expected ${describeNumberDef(d)}`;
  const error = (issue: { input: unknown }): string => `${message}, found ${JSON.stringify(issue.input) ?? String(issue.input)}`;
  const [low, high] = allowedRange(d);
  // zod's int() stops at 2^53 − 1; LONGs go on to Long.MAX_VALUE, so integrality is checked by the refinement.
  return z
    .number({ error })
    .min(low, { error })
    .max(high, { error })
    .refine((value) => numberDefAccepts(d, value), { error })
    .transform((value) => normalizeNumber(d, value)) as unknown as z.ZodType<number, number>;
}

/** docs/config-ranges.md: every numeric key with its Kafka type, validator, accepted range and model note. */
export function configRangesMarkdown(): string {
  const lines = [
    "# Config types and ranges",
    "",
    "Generated from `src/scenario/config-def.ts` by `npm run schema` (a test fails when it is stale). Every numeric",
    "Kafka config a scenario may set has Kafka's own type (INT: 32-bit; LONG: 64-bit, read exactly up to 2^53 − 1, and",
    "Long.MAX_VALUE as \"never\"; DOUBLE) and Kafka's validator (`ConfigDef` `atLeast` / `between`, Kafka 3.6). Where",
    "Kafka has no validator but a value cannot run (a broker that cannot start, a thread that spins without sleeping, a",
    "timeout that fires before any answer), the model narrows the range and says why. A value outside its range is",
    "refused at load in one line naming the JSON path and the range, exit 2. Besides the ranges, the loader applies",
    "KafkaConfig.validateValues' rules between keys: `replica.fetch.wait.max.ms` ≤ `replica.socket.timeout.ms` and",
    "≤ `replica.lag.time.max.ms`, on the effective values (version preset, then `cluster.config`). Periodic broker",
    "tasks with a period ≤ 0 run once, as Kafka 3.4+'s KafkaScheduler does.",
    "",
  ];
  const groups: [string, Readonly<Record<string, NumberDef>>][] = [
    ["Broker (`cluster.config`)", BROKER_NUMBER_DEFS],
    ["Topic (`topics[].config`)", TOPIC_NUMBER_DEFS],
    ["Producer (`clients[].config` of a producer)", PRODUCER_NUMBER_DEFS],
    ["Consumer (`clients[].config` of a consumer)", CONSUMER_NUMBER_DEFS],
  ];
  for (const [title, defs] of groups) {
    lines.push(`## ${title}`, "", "| key | Kafka type | Kafka validator | accepted | model note |", "|---|---|---|---|---|");
    for (const [key, d] of Object.entries(defs)) {
      const [low, high] = allowedRange(d);
      const accepted = `[${show(low)}, ${show(high)}]${d.notZero ? ", not 0" : ""}`;
      lines.push(`| \`${key}\` | ${d.type} | ${d.kafka ?? "none"} | ${accepted} | ${d.model?.why ?? ""} |`);
    }
    lines.push("");
  }
  return lines.join("\n");
}
