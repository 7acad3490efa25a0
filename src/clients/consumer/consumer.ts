/**
 * The Java KafkaConsumer without groups (assign() only), as an explicit message-and-timer state machine owned by
 * a process, which forwards its messages and timers. Its poll loop runs after every message and timer, as an
 * application calling poll() continuously would: positions of newly assigned partitions are reset by
 * auto.offset.reset (OffsetFetcher), positions are validated after a leader change (KIP-320), one Fetch goes to
 * each leader at a time (Fetcher), and metadata is refreshed when requested or every metadata.max.age.ms. Every
 * request has a request.timeout.ms timer; a timeout counts as a disconnection (metadata update, retry later).
 * The consumer records its history in the trace: "client-config" at start, then kind "op" f "poll" — `ok` per
 * partition with records, `info` for offset resets after OFFSET_OUT_OF_RANGE, detected log truncation, and the
 * exceptions poll() would throw. Simplifications: no groups, commits or pause; no connection setup or
 * reconnect.backoff.ms; times are read from the host's monotonic clock.
 */

import type {
  FetchRequest,
  FetchResponse,
  ListOffsetsResponse,
  MetadataRequest,
  MetadataResponse,
  OffsetsForLeaderEpochResponse,
  TopicPartitionRef,
} from "../../protocol/kafka.ts";
import { REQUEST_HEADER_BYTES } from "../../protocol/kafka.ts";
import { assert } from "../../sim/assert.ts";
import type { HostDisk, Message, ProcessContext } from "../../sim/host.ts";
import type { TimerId } from "../../sim/kernel.ts";
import { ms } from "../../sim/time.ts";
import type { ConsumerConfig } from "./config.ts";
import type { ConsumerCore } from "./core.ts";
import { fetchRequest, handleFetchFailure, handleFetchResponse, prepareFetches } from "./fetcher.ts";
import { ConsumerMetadata } from "./metadata.ts";
import { ConsumerMetrics } from "../metrics.ts";
import {
  failResets,
  failValidations,
  handleEpochs,
  handleListOffsets,
  listOffsetsRequest,
  offsetsForLeaderEpochRequest,
  prepareResets,
  prepareValidations,
  type SentReset,
  type SentValidation,
} from "./offsets.ts";
import { TopicPartitionState, type ResetStrategy } from "./subscription-state.ts";

export interface KafkaConsumerOptions {
  /** Broker host names to ask for metadata first (bootstrap.servers). */
  readonly bootstrap: readonly string[];
  readonly config: ConsumerConfig;
}

/** What the owning process hears about. */
export interface ConsumerListener {
  /** Metadata learned (or changed) a topic's partition count. */
  onPartitions?(topic: string, partitionCount: number): void;
  /** Records a fetch returned for a partition (already recorded in the history). */
  onRecords?(state: TopicPartitionState, offsets: readonly number[]): void;
}

type Pending =
  | { readonly kind: "metadata"; readonly timer: TimerId }
  | { readonly kind: "fetch"; readonly timer: TimerId; readonly node: number; readonly request: FetchRequest }
  | { readonly kind: "list-offsets"; readonly timer: TimerId; readonly node: number; readonly sent: SentReset[] }
  | { readonly kind: "epochs"; readonly timer: TimerId; readonly node: number; readonly sent: SentValidation[] };

const TAG_WAKEUP = "consumer-wakeup";
const TAG_REQUEST_TIMEOUT = "consumer-request-timeout";

export class KafkaConsumer implements ConsumerCore {
  readonly metadata = new ConsumerMetadata();
  readonly metrics = new ConsumerMetrics();
  readonly config: ConsumerConfig;
  readonly defaultResetStrategy: ResetStrategy | null;
  private readonly states: TopicPartitionState[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly pendingFetchNodes = new Set<number>();
  private readonly reportedPartitionCounts = new Map<string, number>();
  private nextCorrelationId = 1;
  private metadataTarget = 0;
  private wakeup: { timer: TimerId; atUs: number } | null = null;
  private started = false;

  constructor(
    private readonly context: ProcessContext<HostDisk>,
    private readonly options: KafkaConsumerOptions,
    private readonly listener: ConsumerListener = {},
  ) {
    assert(options.bootstrap.length > 0, "a consumer needs at least one bootstrap broker");
    this.config = options.config;
    const reset = this.config["auto.offset.reset"];
    this.defaultResetStrategy = reset === "none" ? null : reset;
  }

  get assignment(): readonly TopicPartitionState[] {
    return this.states;
  }

  /** Records the effective configuration and starts polling. */
  start(): void {
    assert(!this.started, "a consumer starts once");
    this.started = true;
    if (this.context.tracing) this.context.trace("client-config", { process: this.context.node, role: "consumer", ...this.config });
    this.poll();
  }

  /** Asks metadata about topics (KafkaConsumer.partitionsFor); listener.onPartitions reports them. */
  partitionsFor(topics: readonly string[]): void {
    this.metadata.addTopics(topics);
    this.poll();
  }

  /** KafkaConsumer.assign: replaces the assignment; partitions kept keep their positions. */
  assign(partitions: readonly TopicPartitionRef[]): void {
    const kept = new Map(this.states.map((state) => [state.topicPartition, state]));
    this.states.length = 0;
    // A partition's records-lag sensor goes with its assignment.
    for (const key of [...this.metrics.partitionLag.keys()]) {
      if (!partitions.some((p) => `${p.topic}-${p.partition}` === key)) this.metrics.partitionLag.delete(key);
    }
    for (const { topic, partition } of partitions) {
      const key = `${topic}-${partition}`;
      assert(!this.states.some((state) => state.topicPartition === key), `partition ${key} assigned twice`);
      this.states.push(kept.get(key) ?? new TopicPartitionState(topic, partition));
    }
    this.metadata.addTopics([...new Set(partitions.map((p) => p.topic))]);
    if (this.context.tracing) this.context.trace("consumer-assign", { partitions: this.states.map((state) => state.topicPartition) });
    this.poll();
  }

  /** The next offset to fetch for a partition, or null without a position. */
  position(topic: string, partition: number): number | null {
    return this.stateOf(topic, partition)?.position?.offset ?? null;
  }

  stateOf(topic: string, partition: number): TopicPartitionState | undefined {
    return this.states.find((state) => state.topic === topic && state.partition === partition);
  }

  nowUs(): number {
    return this.context.monotonicNow();
  }

  /** Handles the consumer's responses; false for a message that is not one. */
  onMessage(from: string, message: Message): boolean {
    const correlationId = (message as { correlationId?: unknown }).correlationId;
    if (typeof correlationId !== "number") return false;
    const pending = this.pending.get(correlationId);
    if (pending === undefined) {
      // A late answer to a request that timed out, or not ours.
      return isConsumerResponse(message);
    }
    if (!matches(pending, message)) return false;
    this.pending.delete(correlationId);
    this.context.cancelTimer(pending.timer);
    switch (pending.kind) {
      case "metadata":
        this.onMetadata(message as MetadataResponse);
        break;
      case "fetch":
        this.pendingFetchNodes.delete(pending.node);
        handleFetchResponse(this, pending.request, message as FetchResponse, from);
        break;
      case "list-offsets":
        handleListOffsets(this, pending.sent, message as ListOffsetsResponse);
        break;
      case "epochs":
        handleEpochs(this, pending.sent, message as OffsetsForLeaderEpochResponse, from);
        break;
    }
    this.poll();
    return true;
  }

  /** Handles the consumer's timers (tags "consumer-…"); false for another tag. */
  onTimer(tag: string, data: unknown): boolean {
    if (tag === TAG_WAKEUP) {
      this.wakeup = null;
      this.poll();
      return true;
    }
    if (tag !== TAG_REQUEST_TIMEOUT) return false;
    const correlationId = data as number;
    const pending = this.pending.get(correlationId);
    assert(pending !== undefined, "a request timer outlives its request");
    this.pending.delete(correlationId);
    // NetworkClient: a timed-out request disconnects the node, and a disconnect asks for fresh metadata.
    this.metadata.requestUpdate();
    switch (pending.kind) {
      case "metadata":
        this.metadata.failedAttempt(this.nowUs());
        break;
      case "fetch":
        this.pendingFetchNodes.delete(pending.node);
        handleFetchFailure(this, pending.request);
        break;
      case "list-offsets":
        failResets(this, pending.sent);
        break;
      case "epochs":
        failValidations(this, pending.sent);
        break;
    }
    this.poll();
    return true;
  }

  // ---- ConsumerCore ----

  history(type: "ok" | "info", state: TopicPartitionState, fields: Record<string, unknown>): void {
    if (type === "ok" && this.listener.onRecords !== undefined) this.listener.onRecords(state, fields.offsets as number[]);
    if (!this.context.tracing) return;
    this.context.trace("op", { process: this.context.node, type, f: "poll", topic: state.topic, partition: state.partition, ...fields });
  }

  traceEvent(kind: string, fields: Record<string, unknown>): void {
    if (this.context.tracing) this.context.trace(kind, fields);
  }

  fail(state: TopicPartitionState, error: string, fields: Record<string, unknown>): void {
    assert(state.failed === null, "a partition fails once");
    state.failed = error;
    this.history("info", state, { error, ...fields, fatal: true });
  }

  // ---- The poll loop ----

  private poll(): void {
    if (!this.started) return;
    for (const state of this.states) {
      if (state.failed !== null) continue;
      // SubscriptionState.resetInitializingPositions: no committed offsets without a group.
      if (state.fetchState === "INITIALIZING") {
        if (this.defaultResetStrategy === null) this.fail(state, "NO_OFFSET_FOR_PARTITION", {});
        else state.requestReset(this.defaultResetStrategy);
        continue;
      }
      if (this.metadata.partitionCount(state.topic) > 0) state.maybeValidatePosition(this.metadata.currentLeader(state.topic, state.partition));
    }
    for (const [node, sent] of prepareResets(this)) {
      const correlationId = this.nextCorrelationId++;
      this.sendRequest(node, listOffsetsRequest(this, correlationId, sent), (timer) => ({ kind: "list-offsets", timer, node, sent }));
    }
    for (const [node, sent] of prepareValidations(this)) {
      const correlationId = this.nextCorrelationId++;
      this.sendRequest(node, offsetsForLeaderEpochRequest(correlationId, sent), (timer) => ({ kind: "epochs", timer, node, sent }));
    }
    for (const [node, partitions] of prepareFetches(this, this.pendingFetchNodes)) {
      const request = fetchRequest(this, this.nextCorrelationId++, partitions);
      this.pendingFetchNodes.add(node);
      this.sendRequest(node, request, (timer) => ({ kind: "fetch", timer, node, request }));
    }
    this.maybeUpdateMetadata();
    this.scheduleWakeup();
  }

  private sendRequest(node: number, request: Message & { correlationId: number }, pending: (timer: TimerId) => Pending): void {
    this.context.send(this.metadata.host(node), request);
    const timer = this.context.setTimer(ms(this.config["request.timeout.ms"]), TAG_REQUEST_TIMEOUT, request.correlationId);
    this.pending.set(request.correlationId, pending(timer));
  }

  private get metadataInFlight(): boolean {
    for (const pending of this.pending.values()) if (pending.kind === "metadata") return true;
    return false;
  }

  private maybeUpdateMetadata(): void {
    if (this.metadata.interest.length === 0 || this.metadataInFlight) return;
    const due = this.metadata.nextUpdateUs(ms(this.config["retry.backoff.ms"]), ms(this.config["metadata.max.age.ms"]));
    if (due > this.nowUs()) return;
    // Any broker will do (NetworkClient.leastLoadedNode): the live ones known and the bootstrap list, in turn.
    const targets = [...new Set([...this.metadata.knownHosts(), ...this.options.bootstrap])];
    const target = targets[this.metadataTarget++ % targets.length];
    const correlationId = this.nextCorrelationId++;
    const request: MetadataRequest = { type: "Metadata", correlationId, topics: [...this.metadata.interest], sizeBytes: REQUEST_HEADER_BYTES };
    this.context.send(target, request);
    const timer = this.context.setTimer(ms(this.config["request.timeout.ms"]), TAG_REQUEST_TIMEOUT, correlationId);
    this.pending.set(correlationId, { kind: "metadata", timer });
  }

  private onMetadata(response: MetadataResponse): void {
    this.metadata.update(response, this.nowUs());
    for (const topic of this.metadata.interest) {
      const count = this.metadata.partitionCount(topic);
      if (count === 0 || this.reportedPartitionCounts.get(topic) === count) continue;
      this.reportedPartitionCounts.set(topic, count);
      this.listener.onPartitions?.(topic, count);
    }
  }

  /** One timer for the earliest future moment the poll loop has something to do (a backoff ends, metadata is due). */
  private scheduleWakeup(): void {
    const now = this.nowUs();
    let next = Infinity;
    for (const state of this.states) {
      if (state.failed !== null) continue;
      const at = state.fetchState === "FETCHING" ? state.fetchBackoffUntilUs : state.nextRetryUs;
      if (at > now) next = Math.min(next, at);
    }
    if (this.metadata.interest.length > 0 && !this.metadataInFlight) {
      next = Math.min(next, Math.max(now + 1, this.metadata.nextUpdateUs(ms(this.config["retry.backoff.ms"]), ms(this.config["metadata.max.age.ms"]))));
    }
    if (next === Infinity) return;
    if (this.wakeup !== null) {
      if (this.wakeup.atUs <= next) return;
      this.context.cancelTimer(this.wakeup.timer);
    }
    this.wakeup = { timer: this.context.setTimer(next - now, TAG_WAKEUP), atUs: next };
  }
}

const RESPONSE_OF: Record<Pending["kind"], string> = {
  metadata: "MetadataResponse",
  fetch: "FetchResponse",
  "list-offsets": "ListOffsetsResponse",
  epochs: "OffsetsForLeaderEpochResponse",
};

function matches(pending: Pending, message: Message): boolean {
  return message.type === RESPONSE_OF[pending.kind];
}

function isConsumerResponse(message: Message): boolean {
  return Object.values(RESPONSE_OF).includes(message.type);
}
