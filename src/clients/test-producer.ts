/**
 * A minimal Kafka producer for workloads (the full KafkaProducer — accumulator, batching, idempotence — comes
 * later). It learns partitions and leaders with Metadata, then every 1000/ratePerSec ms sends one value as a
 * one-record batch in a Produce request to the partition's leader, one request in flight per partition, and
 * records a Jepsen-style history in the trace (kind "op"): one invoke when a value is first sent and one
 * completion — ok (with its offset), fail (surely not appended) or info (unknown outcome: a timeout, an error
 * that may follow an append, acks=0). Retriable errors refresh metadata and resend the same value after
 * retry.backoff.ms, at most `retries` times and within delivery.timeout.ms. Simplifications: no batching, no
 * idempotence, no periodic metadata refresh (only on errors), the round-robin partitioner for null keys
 * (Kafka ≤ 2.3; the sticky one comes with the real producer), and start/stop times count from the process start.
 */

import { makeBatch } from "../broker/log/records.ts";
import {
  brokerHost,
  REQUEST_HEADER_BYTES,
  type Acks,
  type KafkaError,
  type MetadataRequest,
  type MetadataResponse,
  type ProduceRequest,
  type ProduceResponse,
} from "../protocol/kafka.ts";
import { assert } from "../sim/assert.ts";
import type { HostDisk, Message, Process, ProcessContext } from "../sim/host.ts";
import type { TimerId } from "../sim/kernel.ts";
import { ms } from "../sim/time.ts";
import { partitionForKey } from "./partitioner.ts";

export interface TestProducerConfig {
  /** Broker host names to ask for metadata first. */
  bootstrap: readonly string[];
  acks: Acks;
  requestTimeoutMs: number;
  retries: number;
  retryBackoffMs: number;
  topic: string;
  messages: number;
  ratePerSec: number;
  /** Number of distinct keys `k${n % keys}`; absent: null keys. */
  keys?: number | undefined;
  startAtMs?: number | undefined;
  stopAtMs?: number | undefined;
  /** delivery.timeout.ms (Kafka's default 120000): a value not acknowledged by then completes as fail or info. */
  deliveryTimeoutMs?: number | undefined;
}

const DELIVERY_TIMEOUT_MS_DEFAULT = 120_000;

/** Errors after which the record surely was not appended (rejected before the log append). */
const NOT_APPENDED: ReadonlySet<KafkaError> = new Set<KafkaError>([
  "NOT_LEADER_OR_FOLLOWER",
  "NOT_ENOUGH_REPLICAS",
  "UNKNOWN_TOPIC_OR_PARTITION",
  "LEADER_NOT_AVAILABLE",
  "REPLICA_NOT_AVAILABLE",
  "BROKER_NOT_AVAILABLE",
  "FENCED_LEADER_EPOCH",
  "UNKNOWN_LEADER_EPOCH",
  "CORRUPT_MESSAGE",
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_REQUIRED_ACKS",
]);

/** RetriableException subclasses among the produce errors. */
const RETRIABLE: ReadonlySet<KafkaError> = new Set<KafkaError>([
  "NOT_LEADER_OR_FOLLOWER",
  "NOT_ENOUGH_REPLICAS",
  "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
  "UNKNOWN_TOPIC_OR_PARTITION",
  "LEADER_NOT_AVAILABLE",
  "REPLICA_NOT_AVAILABLE",
  "FENCED_LEADER_EPOCH",
  "UNKNOWN_LEADER_EPOCH",
  "REQUEST_TIMED_OUT",
  "NETWORK_EXCEPTION",
  "KAFKA_STORAGE_ERROR",
  "CORRUPT_MESSAGE",
]);

/** Errors that mean the producer's metadata is stale (InvalidMetadataException), plus client timeouts. */
const REFRESH_METADATA: ReadonlySet<string> = new Set([
  "NOT_LEADER_OR_FOLLOWER",
  "UNKNOWN_TOPIC_OR_PARTITION",
  "LEADER_NOT_AVAILABLE",
  "REPLICA_NOT_AVAILABLE",
  "FENCED_LEADER_EPOCH",
  "UNKNOWN_LEADER_EPOCH",
  "KAFKA_STORAGE_ERROR",
  "NETWORK_EXCEPTION",
  "TIMEOUT",
]);

/** A client-side request timeout (NetworkClient's request.timeout.ms); not a broker error. */
type SendError = KafkaError | "TIMEOUT";

interface Op {
  readonly opId: number;
  readonly value: string;
  readonly key: string | null;
  /** -1 until the first metadata gives the partition count. */
  partition: number;
  attempts: number;
  /** Some attempt may have been appended (a timeout or an error that can follow the append). */
  maybeAppended: boolean;
  invoked: boolean;
  deliveryTimer: TimerId | null;
}

interface InFlight {
  readonly op: Op;
  readonly correlationId: number;
  readonly timer: TimerId;
}

interface PartitionState {
  readonly queue: Op[];
  inFlight: InFlight | null;
  backoff: TimerId | null;
}

export class TestProducer implements Process {
  private readonly intervalUs: number;
  private readonly deliveryTimeoutMs: number;
  private nextValue = 0;
  private roundRobin = 0;
  private completed = 0;
  private stopped = false;
  private nextCorrelationId = 1;
  /** Values created before the first metadata told the partition count. */
  private readonly unassigned: Op[] = [];
  private readonly partitions = new Map<number, PartitionState>();
  private readonly leaders = new Map<number, number>();
  private readonly brokerHosts = new Map<number, string>();
  private numPartitions = 0;
  private metadataInFlight: { correlationId: number; timer: TimerId } | null = null;
  private metadataRetry: TimerId | null = null;
  private metadataTarget = 0;

  constructor(
    private readonly context: ProcessContext<HostDisk>,
    private readonly config: TestProducerConfig,
  ) {
    assert(config.bootstrap.length > 0, "a producer needs at least one bootstrap broker");
    assert(config.ratePerSec > 0, "ratePerSec must be positive");
    assert(config.retries >= 0, "retries must be non-negative");
    this.intervalUs = Math.max(1, ms(1000 / config.ratePerSec));
    this.deliveryTimeoutMs = config.deliveryTimeoutMs ?? DELIVERY_TIMEOUT_MS_DEFAULT;
  }

  /** Values completed (ok, fail or info) so far. */
  get completedCount(): number {
    return this.completed;
  }

  onStart(): void {
    this.context.setTimer(ms(this.config.startAtMs ?? 0), "producer-tick");
    if (this.config.stopAtMs !== undefined) this.context.setTimer(ms(this.config.stopAtMs), "producer-stop");
    this.requestMetadata();
  }

  onTimer(tag: string, data: unknown): void {
    switch (tag) {
      case "producer-tick":
        this.tick();
        break;
      case "producer-stop":
        this.stopped = true;
        break;
      case "producer-produce-timeout":
        this.onProduceTimeout(data as number);
        break;
      case "producer-backoff":
        this.state(data as number).backoff = null;
        this.dispatch(data as number);
        break;
      case "producer-delivery-timeout":
        this.onDeliveryTimeout(data as Op);
        break;
      case "producer-metadata-timeout":
        this.onMetadataTimeout(data as number);
        break;
      case "producer-metadata-retry":
        this.metadataRetry = null;
        this.requestMetadata();
        break;
      default:
        assert(false, `unknown producer timer ${tag}`);
    }
  }

  onMessage(_from: string, message: Message): void {
    if (message.type === "MetadataResponse") this.onMetadata(message as MetadataResponse);
    else if (message.type === "ProduceResponse") this.onProduceResponse(message as ProduceResponse);
  }

  // ---- Values ----

  private tick(): void {
    if (this.stopped || this.nextValue >= this.config.messages) return;
    const n = this.nextValue++;
    const key = this.config.keys === undefined ? null : `k${n % this.config.keys}`;
    const op: Op = {
      opId: n,
      value: `${this.context.node}-${String(n).padStart(6, "0")}`,
      key,
      partition: -1,
      attempts: 0,
      maybeAppended: false,
      invoked: false,
      deliveryTimer: null,
    };
    op.deliveryTimer = this.context.setTimer(ms(this.deliveryTimeoutMs), "producer-delivery-timeout", op);
    if (this.numPartitions > 0) this.enqueue(op);
    else this.unassigned.push(op);
    if (this.nextValue < this.config.messages) this.context.setTimer(this.intervalUs, "producer-tick");
  }

  private enqueue(op: Op): void {
    op.partition = op.key === null ? this.roundRobin++ % this.numPartitions : partitionForKey(op.key, this.numPartitions);
    this.state(op.partition).queue.push(op);
    this.dispatch(op.partition);
  }

  private state(partition: number): PartitionState {
    let state = this.partitions.get(partition);
    if (state === undefined) {
      state = { queue: [], inFlight: null, backoff: null };
      this.partitions.set(partition, state);
    }
    return state;
  }

  /** Sends the partition's next value if nothing is in flight or backing off and the leader is known. */
  private dispatch(partition: number): void {
    const state = this.state(partition);
    if (state.inFlight !== null || state.backoff !== null || state.queue.length === 0) return;
    const leader = this.leaders.get(partition) ?? -1;
    if (leader < 0) {
      // Leader unknown (or -1: an election is under way): wait retry.backoff.ms and ask again.
      this.retryMetadataLater();
      return;
    }
    const op = state.queue[0];
    op.attempts++;
    if (!op.invoked) {
      op.invoked = true;
      this.history("invoke", op, {});
    }
    const correlationId = this.nextCorrelationId++;
    const batch = makeBatch({
      baseOffset: 0,
      partitionLeaderEpoch: -1,
      records: [{ key: op.key, value: op.value, timestamp: Math.floor(this.context.now() / 1000) }],
    });
    const request: ProduceRequest = {
      type: "Produce",
      correlationId,
      acks: this.config.acks,
      timeoutMs: this.config.requestTimeoutMs,
      transactionalId: null,
      partitions: [{ topic: this.config.topic, partition, batch }],
      sizeBytes: REQUEST_HEADER_BYTES + batch.sizeBytes,
    };
    this.context.send(this.brokerHosts.get(leader) ?? brokerHost(leader), request);
    if (this.config.acks === 0) {
      // No response ever comes: the outcome is unknown.
      op.maybeAppended = true;
      this.complete(state, op, "info", { error: "NO_ACKS" });
      return;
    }
    const timer = this.context.setTimer(ms(this.config.requestTimeoutMs), "producer-produce-timeout", correlationId);
    state.inFlight = { op, correlationId, timer };
  }

  private onProduceResponse(response: ProduceResponse): void {
    const result = response.partitions[0];
    if (result === undefined) return;
    const state = this.partitions.get(result.partition);
    if (state === undefined || state.inFlight === null || state.inFlight.correlationId !== response.correlationId) return; // late
    const { op, timer } = state.inFlight;
    this.context.cancelTimer(timer);
    state.inFlight = null;
    if (result.error === "NONE") {
      this.complete(state, op, "ok", { offset: result.baseOffset });
      return;
    }
    this.onSendError(state, op, result.error);
  }

  private onProduceTimeout(correlationId: number): void {
    for (const state of this.partitions.values()) {
      if (state.inFlight === null || state.inFlight.correlationId !== correlationId) continue;
      const op = state.inFlight.op;
      state.inFlight = null;
      this.onSendError(state, op, "TIMEOUT");
      return;
    }
  }

  private onSendError(state: PartitionState, op: Op, error: SendError): void {
    // With acks=all, a leader that loses leadership answers NOT_LEADER_OR_FOLLOWER from the produce purgatory
    // after the append (DelayedProduce): that error is certain only for acks=1.
    const certain = error !== "TIMEOUT" && NOT_APPENDED.has(error) && !(error === "NOT_LEADER_OR_FOLLOWER" && this.config.acks === -1);
    if (!certain) op.maybeAppended = true;
    if (REFRESH_METADATA.has(error)) {
      // The leader is suspect (a timeout disconnects the node, as NetworkClient does): wait for fresh metadata.
      this.leaders.set(op.partition, -1);
      this.scheduleMetadata();
    }
    const retriable = error === "TIMEOUT" || RETRIABLE.has(error);
    if (!retriable || op.attempts > this.config.retries) {
      this.complete(state, op, op.maybeAppended ? "info" : "fail", { error });
      return;
    }
    if (this.context.tracing) this.context.trace("producer-retry", { opId: op.opId, partition: op.partition, error, attempts: op.attempts });
    state.backoff = this.context.setTimer(ms(this.config.retryBackoffMs), "producer-backoff", op.partition);
  }

  private onDeliveryTimeout(op: Op): void {
    op.deliveryTimer = null;
    const state = this.partitions.get(op.partition);
    if (state === undefined || !state.queue.includes(op)) {
      // Never assigned a partition: no metadata came in time (max.block.ms in Kafka's send()).
      const index = this.unassigned.indexOf(op);
      if (index >= 0) this.unassigned.splice(index, 1);
      this.finish(op, "fail", { error: "TIMEOUT" });
      return;
    }
    if (state.inFlight !== null && state.inFlight.op === op) {
      this.context.cancelTimer(state.inFlight.timer);
      state.inFlight = null;
      op.maybeAppended = true;
    }
    this.complete(state, op, op.maybeAppended ? "info" : "fail", { error: "TIMEOUT" });
  }

  private complete(state: PartitionState, op: Op, type: "ok" | "fail" | "info", fields: Record<string, unknown>): void {
    const index = state.queue.indexOf(op);
    assert(index >= 0, "a completed value is in its partition's queue");
    state.queue.splice(index, 1);
    this.finish(op, type, fields);
    this.dispatch(op.partition);
  }

  private finish(op: Op, type: "ok" | "fail" | "info", fields: Record<string, unknown>): void {
    if (op.deliveryTimer !== null) this.context.cancelTimer(op.deliveryTimer);
    op.deliveryTimer = null;
    if (!op.invoked) {
      op.invoked = true;
      this.history("invoke", op, {});
    }
    this.history(type, op, { ...fields, attempts: op.attempts });
    this.completed++;
  }

  private history(type: "invoke" | "ok" | "fail" | "info", op: Op, fields: Record<string, unknown>): void {
    if (!this.context.tracing) return;
    this.context.trace("op", {
      process: this.context.node,
      type,
      f: "send",
      opId: op.opId,
      value: op.value,
      key: op.key,
      topic: this.config.topic,
      partition: op.partition,
      ...fields,
    });
  }

  // ---- Metadata ----

  /** A metadata request now if none is in flight or pending. */
  private scheduleMetadata(): void {
    if (this.metadataInFlight !== null || this.metadataRetry !== null) return;
    this.requestMetadata();
  }

  private requestMetadata(): void {
    if (this.metadataInFlight !== null) return;
    // Any broker will do (NetworkClient's least-loaded node): the known live ones and the bootstrap list, in turn.
    const targets = [...new Set([...this.brokerHosts.values(), ...this.config.bootstrap])];
    const target = targets[this.metadataTarget++ % targets.length];
    const correlationId = this.nextCorrelationId++;
    const request: MetadataRequest = { type: "Metadata", correlationId, topics: [this.config.topic], sizeBytes: REQUEST_HEADER_BYTES };
    this.context.send(target, request);
    const timer = this.context.setTimer(ms(this.config.requestTimeoutMs), "producer-metadata-timeout", correlationId);
    this.metadataInFlight = { correlationId, timer };
  }

  private onMetadataTimeout(correlationId: number): void {
    if (this.metadataInFlight === null || this.metadataInFlight.correlationId !== correlationId) return;
    this.metadataInFlight = null;
    this.retryMetadataLater();
  }

  /** Another metadata request after retry.backoff.ms, while values wait for it (bounded by their delivery timeouts). */
  private retryMetadataLater(): void {
    if (this.metadataInFlight !== null || this.metadataRetry !== null || !this.waitingForMetadata()) return;
    this.metadataRetry = this.context.setTimer(ms(this.config.retryBackoffMs), "producer-metadata-retry");
  }

  private waitingForMetadata(): boolean {
    if (this.unassigned.length > 0) return true;
    if (this.numPartitions === 0) return !this.stopped && this.nextValue < this.config.messages;
    for (const [partition, state] of this.partitions) {
      if (state.queue.length > 0 && (this.leaders.get(partition) ?? -1) < 0) return true;
    }
    return false;
  }

  private onMetadata(response: MetadataResponse): void {
    if (this.metadataInFlight === null || this.metadataInFlight.correlationId !== response.correlationId) return;
    this.context.cancelTimer(this.metadataInFlight.timer);
    this.metadataInFlight = null;
    if (response.brokers.length > 0) {
      this.brokerHosts.clear();
      for (const broker of response.brokers) this.brokerHosts.set(broker.nodeId, broker.host);
    }
    const topic = response.topics.find((t) => t.name === this.config.topic);
    if (topic !== undefined && topic.error === "NONE" && topic.partitions.length > 0) {
      this.numPartitions = Math.max(this.numPartitions, topic.partitions.length);
      for (const partition of topic.partitions) this.leaders.set(partition.partition, partition.leader);
    }
    if (this.numPartitions > 0) {
      for (const op of this.unassigned.splice(0)) this.enqueue(op);
      for (const partition of this.partitions.keys()) this.dispatch(partition);
    }
    this.retryMetadataLater();
  }
}
