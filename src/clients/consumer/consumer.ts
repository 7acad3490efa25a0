/**
 * The Java KafkaConsumer, as an explicit message-and-timer state machine owned by a process, which forwards its
 * messages and timers. Two modes. Without group.id (assign() only) its poll loop runs after every message and
 * timer, as an application calling poll() continuously would: positions of newly assigned partitions are reset by
 * auto.offset.reset (OffsetFetcher), positions are validated after a leader change (KIP-320), one Fetch goes to
 * each leader at a time (Fetcher), and metadata is refreshed when requested or every metadata.max.age.ms. Every
 * request has a request.timeout.ms timer; a timeout counts as a disconnection (metadata update, retry later).
 * The consumer records its history in the trace: "client-config" at start, then kind "op" f "poll" — `ok` per
 * partition with records, `info` for offset resets after OFFSET_OUT_OF_RANGE, detected log truncation, and the
 * exceptions poll() would throw. With group.id (subscribe()) the application drives it: poll(done) runs
 * KafkaConsumer.poll's loop on every event until records are ready — the coordinator's poll (join, heartbeats'
 * liveness, auto-commit; consumer-coordinator.ts), the committed offsets of new partitions, resets and
 * validations, then the fetch buffer's records (≤ max.poll.records, recorded as `poll` ops with group, member and
 * generation) — and sends fetches only from there; responses arriving while the application processes are
 * buffered. commitSync / commitAsync / close are the application's calls. Simplifications: no pause; no
 * connection setup or reconnect.backoff.ms; poll() without a timeout returns when records are ready or on
 * wakeup(); times are read from the host's monotonic clock.
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
import type { OffsetCommitPartition } from "../../protocol/group.ts";
import type { FetchPartitionResponse } from "../../protocol/kafka.ts";
import type { Micros } from "../../sim/time.ts";
import { CoordinatorMetrics } from "../metrics.ts";
import { describeConsumerConfig } from "./config.ts";
import type { ConsumerPartitionAssignor } from "./assignors/partition-assignor.ts";
import { ConsumerCoordinator, sortPartitions, type ConsumerCoordinatorHost } from "./consumer-coordinator.ts";
import { FetchBuffer, type DrainedPartition } from "./fetch-buffer.ts";
import type { ClientError } from "./request-future.ts";

/** The field a read_committed consumer's history ops carry. */
const READ_COMMITTED_FIELD = Object.freeze({ isolationLevel: "read_committed" });

export interface KafkaConsumerOptions {
  /** Broker host names to ask for metadata first (bootstrap.servers). */
  readonly bootstrap: readonly string[];
  readonly config: ConsumerConfig;
  /** The assignors of partition.assignment.strategy, in order (a group consumer needs at least one). */
  readonly assignors?: readonly ConsumerPartitionAssignor[];
}

/** What poll() returned: records per partition, or the exception it threw. */
export interface PollResult {
  readonly records: readonly DrainedPartition[];
  readonly error: ClientError | null;
}

type Blocking =
  | { readonly kind: "poll"; readonly done: (result: PollResult) => void; readonly deadlineUs: number }
  | { readonly kind: "commitSync" }
  | { readonly kind: "close" };

/** What the owning process hears about. */
export interface ConsumerListener {
  /** Metadata learned (or changed) a topic's partition count. */
  onPartitions?(topic: string, partitionCount: number): void;
  /** Records a fetch returned for a partition (already recorded in the history). */
  onRecords?(state: TopicPartitionState, offsets: readonly number[]): void;
  /** ConsumerRebalanceListener (group consumers; already traced). */
  onPartitionsRevoked?(partitions: readonly TopicPartitionRef[]): void;
  onPartitionsAssigned?(partitions: readonly TopicPartitionRef[]): void;
  onPartitionsLost?(partitions: readonly TopicPartitionRef[]): void;
}

type Pending =
  | { readonly kind: "metadata"; readonly timer: TimerId; readonly host: string }
  | { readonly kind: "fetch"; readonly timer: TimerId; readonly node: number; readonly request: FetchRequest }
  | { readonly kind: "list-offsets"; readonly timer: TimerId; readonly node: number; readonly sent: SentReset[] }
  | { readonly kind: "epochs"; readonly timer: TimerId; readonly node: number; readonly sent: SentValidation[] };

/**
 * reconnect.backoff.ms and reconnect.backoff.max.ms at Kafka's defaults (not scenario keys; no jitter): a broker
 * whose connection was refused or closed is not tried again before its backoff passes.
 */
const RECONNECT_BACKOFF_MS = 50;
const RECONNECT_BACKOFF_MAX_MS = 1000;

const TAG_WAKEUP = "consumer-wakeup";
const TAG_REQUEST_TIMEOUT = "consumer-request-timeout";

export class KafkaConsumer implements ConsumerCore, ConsumerCoordinatorHost {
  readonly metadata = new ConsumerMetadata();
  readonly metrics = new ConsumerMetrics();
  readonly coordinatorMetrics = new CoordinatorMetrics();
  /** The group coordinator (after subscribe()); null without a group. */
  coordinator: ConsumerCoordinator | null = null;
  private readonly fetchBuffer = new FetchBuffer();
  private blocking: Blocking | null = null;
  private closed = false;
  private looping = false;
  private loopAgain = false;
  /** The earliest moment a group step asked the loop to run again (µs; Infinity: none). */
  private groupWakeupUs = Infinity;
  readonly config: ConsumerConfig;
  readonly defaultResetStrategy: ResetStrategy | null;
  private readonly states: TopicPartitionState[] = [];
  private readonly pending = new Map<number, Pending>();
  /** Brokers whose connection was refused or closed (group mode): failures in a row and the end of their backoff. */
  private readonly reconnectBackoff = new Map<string, { failures: number; untilUs: number }>();
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
    if (this.context.tracing) this.context.trace("client-config", { process: this.context.node, role: "consumer", ...describeConsumerConfig(this.config) });
    this.runLoop();
  }

  /** Asks metadata about topics (KafkaConsumer.partitionsFor); listener.onPartitions reports them. */
  partitionsFor(topics: readonly string[]): void {
    this.metadata.addTopics(topics);
    this.runLoop();
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
    this.runLoop();
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
    // An answer: the connection to that broker is up again (ClusterConnectionStates.ready resets the backoff).
    if (this.reconnectBackoff.size > 0) this.reconnectBackoff.delete(from);
    if (this.coordinator !== null && this.coordinator.onMessage(message)) {
      this.runLoop();
      return true;
    }
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
    this.runLoop();
    return true;
  }

  /** Handles the consumer's timers (tags "consumer-…"); false for another tag. */
  onTimer(tag: string, data: unknown): boolean {
    if (tag === TAG_WAKEUP) {
      this.wakeup = null;
      this.runLoop();
      return true;
    }
    if (this.coordinator !== null && this.coordinator.onTimer(tag, data)) {
      this.runLoop();
      return true;
    }
    if (tag !== TAG_REQUEST_TIMEOUT) return false;
    const correlationId = data as number;
    const pending = this.pending.get(correlationId);
    assert(pending !== undefined, "a request timer outlives its request");
    this.pending.delete(correlationId);
    this.failRequest(pending);
    this.runLoop();
    return true;
  }

  /**
   * NetworkClient's disconnect handling: the connection to `host` was refused or reset (its broker process is
   * gone), so every request in flight to it fails at once, as after a timeout (the group, assign()-mode and
   * processor workloads all pass resets on).
   */
  onDisconnect(host: string): void {
    // ClusterConnectionStates: the node is blacked out for reconnect.backoff.ms, doubling per failure up to the max.
    const failures = (this.reconnectBackoff.get(host)?.failures ?? 0) + 1;
    const backoffMs = Math.min(RECONNECT_BACKOFF_MAX_MS, RECONNECT_BACKOFF_MS * 2 ** (failures - 1));
    this.reconnectBackoff.set(host, { failures, untilUs: this.nowUs() + ms(backoffMs) });
    const failed: Pending[] = [];
    for (const [correlationId, pending] of [...this.pending]) {
      if (this.hostOf(pending) !== host) continue;
      this.pending.delete(correlationId);
      this.context.cancelTimer(pending.timer);
      failed.push(pending);
    }
    if (failed.length > 0) this.traceEvent("consumer-disconnect", { broker: host, requests: failed.length });
    for (const pending of failed) this.failRequest(pending);
    this.coordinator?.onDisconnect(host);
    this.runLoop();
  }

  private hostOf(pending: Pending): string | null {
    return pending.kind === "metadata" ? pending.host : this.metadata.host(pending.node);
  }

  /** A request that timed out or whose connection went away (NetworkClient: the node is disconnected). */
  private failRequest(pending: Pending): void {
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
  }

  // ---- Group management: the application's calls ----

  /** KafkaConsumer.subscribe: the group's topics; the coordinator joins from the first poll(). */
  subscribe(topics: readonly string[]): void {
    assert(this.config["group.id"] !== null, "subscribe() needs a group.id");
    assert(this.coordinator === null, "a consumer subscribes once");
    const assignors = this.options.assignors ?? [];
    this.coordinator = new ConsumerCoordinator(this, [...topics], assignors);
    this.metadata.addTopics(topics);
    this.runLoop();
  }

  /**
   * KafkaConsumer.poll: `done` gets the records (≤ max.poll.records) once some are ready, or the exception; with
   * `timeoutUs` (poll(Duration)), no records once it has passed (ConsumerRecords.empty()). Without it the poll
   * waits for records (the model's simplification: an application that would only poll again).
   */
  poll(done: (result: PollResult) => void, timeoutUs?: number): void {
    assert(this.coordinator !== null, "poll() needs subscribe()");
    assert(!this.closed, "poll() on a closed consumer");
    assert(this.blocking === null, "the application makes one call at a time");
    this.blocking = { kind: "poll", done, deadlineUs: timeoutUs === undefined ? Infinity : this.nowUs() + timeoutUs };
    this.coordinator.pollHeartbeat(this.nowUs());
    this.runLoop();
  }

  /** KafkaConsumer.wakeup: a poll() in progress returns at once with a WakeupException. */
  wakeupPoll(): void {
    if (this.blocking?.kind !== "poll") return;
    this.finishPoll([], { name: "WakeupException", retriable: false });
  }

  /** KafkaConsumer.commitSync(): the positions, retried until default.api.timeout.ms; `done` gets the exception or null. */
  commitSync(done: (error: ClientError | null) => void): void {
    const coordinator = this.coordinator;
    assert(coordinator !== null && !this.closed, "commitSync() needs an open group consumer");
    assert(this.blocking === null, "the application makes one call at a time");
    this.blocking = { kind: "commitSync" };
    coordinator.commitSync(null, (error) => {
      this.blocking = null;
      done(error);
    });
    this.runLoop();
  }

  /** KafkaConsumer.commitAsync(): the positions, once. */
  commitAsync(): void {
    assert(this.coordinator !== null && !this.closed, "commitAsync() needs an open group consumer");
    this.coordinator.commitAsync();
    this.runLoop();
  }

  /** KafkaConsumer.close(): `done` once closed; nothing is sent or handled afterwards. */
  close(done: () => void): void {
    assert(!this.closed, "a consumer closes once");
    assert(this.blocking === null, "the application makes one call at a time");
    const coordinator = this.coordinator;
    if (coordinator === null) {
      this.shutDown();
      done();
      return;
    }
    this.blocking = { kind: "close" };
    coordinator.close(() => {
      this.blocking = null;
      this.shutDown();
      done();
    });
    this.runLoop();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private shutDown(): void {
    this.closed = true;
    for (const pending of this.pending.values()) this.context.cancelTimer(pending.timer);
    this.pending.clear();
    this.coordinator?.abandonRequests();
    if (this.wakeup !== null) this.context.cancelTimer(this.wakeup.timer);
    this.wakeup = null;
  }

  // ---- Group management: the loop ----

  /** One run of the application's blocking call (poll, commitSync, close), then metadata and the wakeup timer. */
  private groupLoop(): void {
    if (this.looping) {
      this.loopAgain = true;
      return;
    }
    this.looping = true;
    for (let round = 0; round === 0 || this.loopAgain; round++) {
      assert(round < 16, "the group consumer's loop settles");
      this.loopAgain = false;
      this.groupWakeupUs = Infinity;
      const coordinator = this.coordinator!;
      switch (this.blocking?.kind) {
        case "poll":
          this.pollStep(coordinator);
          break;
        case "commitSync":
          coordinator.stepSyncCommit();
          break;
        case "close":
          coordinator.stepSyncCommit();
          coordinator.stepClose();
          break;
        case undefined:
          break;
      }
      if (this.closed) break;
    }
    this.looping = false;
    if (this.closed) return;
    this.maybeUpdateMetadata();
    this.scheduleWakeup();
  }

  /** One iteration of KafkaConsumer.poll's loop. */
  private pollStep(coordinator: ConsumerCoordinator): void {
    const active = coordinator.poll(this.nowUs());
    let error = coordinator.takeFatalError();
    // updateFetchPositions: committed offsets first, then auto.offset.reset for partitions without one.
    if (error === null && active && coordinator.refreshCommittedOffsetsIfNeeded()) {
      for (const state of this.states) {
        if (state.failed !== null || state.fetchState !== "INITIALIZING") continue;
        if (this.defaultResetStrategy === null) this.fail(state, "NO_OFFSET_FOR_PARTITION", {});
        else state.requestReset(this.defaultResetStrategy);
      }
    }
    error ??= coordinator.takeFatalError();
    if (error !== null) {
      this.finishPoll([], error);
      return;
    }
    for (const state of this.states) {
      if (state.failed !== null) continue;
      if (this.metadata.partitionCount(state.topic) > 0) state.maybeValidatePosition(this.metadata.currentLeader(state.topic, state.partition));
    }
    this.sendResetsAndValidations();
    const drained = this.fetchBuffer.drain(this.config["max.poll.records"], (state) => this.states.includes(state) && state.failed === null && state.fetchState === "FETCHING" && !state.pendingRevocation);
    // pollForFetches: fetch what has nothing buffered (also right before returning records: pipelining); a node in
    // reconnect backoff is skipped until its backoff passes (AbstractFetch.prepareFetchRequests).
    for (const [node, partitions] of prepareFetches(this, this.pendingFetchNodes)) {
      const backoff = this.reconnectBackoff.size > 0 ? this.reconnectBackoff.get(this.metadata.host(node)) : undefined;
      if (backoff !== undefined && backoff.untilUs > this.nowUs()) {
        this.wakeMainAt(backoff.untilUs);
        continue;
      }
      const request = fetchRequest(this, this.nextCorrelationId++, partitions);
      this.pendingFetchNodes.add(node);
      this.sendRequest(node, request, (timer) => ({ kind: "fetch", timer, node, request }));
    }
    if (drained.length > 0) this.finishPoll(drained, null);
    else if (this.blocking?.kind === "poll" && this.nowUs() >= this.blocking.deadlineUs) this.finishPoll([], null);
  }

  private finishPoll(records: DrainedPartition[], error: ClientError | null): void {
    const blocking = this.blocking;
    assert(blocking !== null && blocking.kind === "poll", "finishing a poll that is not running");
    this.blocking = null;
    const nowUs = this.nowUs();
    for (const drained of records) {
      const { state } = drained;
      this.metrics.recordsConsumed.record(drained.offsets.length, nowUs);
      this.metrics.recordPartitionLag(state.topicPartition, drained.highWatermark - state.position!.offset, nowUs);
      this.history("ok", state, { offsets: drained.offsets, values: drained.values, leaderEpoch: drained.leaderEpoch, leader: drained.leaderHost, highWatermark: drained.highWatermark });
    }
    if (error !== null) this.traceEvent("consumer-poll-error", { process: this.context.node, ...this.coordinator!.memberFields, error: error.name });
    this.coordinator!.pollHeartbeat(nowUs);
    blocking.done({ records, error });
  }

  // ---- ConsumerCoordinatorHost ----

  get inPoll(): boolean {
    return this.blocking?.kind === "poll";
  }

  wakeMainAt(atUs: Micros): void {
    this.groupWakeupUs = Math.min(this.groupWakeupUs, atUs);
  }

  wakeMain(): void {
    if (this.looping) this.loopAgain = true;
  }

  send(host: string, message: Message): void {
    this.context.send(host, message);
  }

  setTimer(delayUs: Micros, tag: string, data?: unknown): TimerId {
    return this.context.setTimer(delayUs, tag, data);
  }

  cancelTimer(id: TimerId): void {
    this.context.cancelTimer(id);
  }

  nextRequestId(): number {
    return this.nextCorrelationId++;
  }

  /**
   * NetworkClient.leastLoadedNode, simplified: the live brokers known and the bootstrap list, in turn, skipping
   * the ones in reconnect backoff while another is available.
   */
  leastLoadedHost(): string {
    const targets = [...new Set([...this.metadata.knownHosts(), ...this.options.bootstrap])];
    for (let tried = 0; tried < targets.length; tried++) {
      const target = targets[this.metadataTarget++ % targets.length];
      if (!this.isUnavailable(target)) return target;
    }
    return targets[this.metadataTarget++ % targets.length];
  }

  /** NetworkClient.isUnavailable: the connection to `host` failed and its reconnect backoff has not passed. */
  isUnavailable(host: string): boolean {
    const backoff = this.reconnectBackoff.size > 0 ? this.reconnectBackoff.get(host) : undefined;
    return backoff !== undefined && backoff.untilUs > this.nowUs();
  }

  requestMetadataUpdate(): void {
    this.metadata.requestUpdate();
  }

  assignedPartitions(): TopicPartitionRef[] {
    return sortPartitions(this.states.map(({ topic, partition }) => ({ topic, partition })));
  }

  assignFromSubscribed(partitions: readonly TopicPartitionRef[]): void {
    const kept = new Map(this.states.map((state) => [state.topicPartition, state]));
    this.states.length = 0;
    for (const { topic, partition } of partitions) {
      const state = kept.get(`${topic}-${partition}`) ?? new TopicPartitionState(topic, partition);
      state.pendingRevocation = false;
      this.states.push(state);
    }
    for (const key of [...this.metrics.partitionLag.keys()]) if (!this.states.some((state) => state.topicPartition === key)) this.metrics.partitionLag.delete(key);
    this.fetchBuffer.retain(new Set(this.states));
  }

  allConsumed(): OffsetCommitPartition[] {
    const offsets: OffsetCommitPartition[] = [];
    for (const state of this.states) {
      if (state.position === null || (state.fetchState !== "FETCHING" && state.fetchState !== "AWAIT_VALIDATION")) continue;
      offsets.push({ topic: state.topic, partition: state.partition, committedOffset: state.position.offset, committedLeaderEpoch: state.position.offsetEpoch, committedMetadata: "" });
    }
    return offsets;
  }

  markPendingRevocation(partitions: readonly TopicPartitionRef[]): void {
    for (const { topic, partition } of partitions) {
      const state = this.stateOf(topic, partition);
      if (state !== undefined) state.pendingRevocation = true;
    }
  }

  initializingPartitions(): TopicPartitionRef[] {
    return this.states.filter((state) => state.failed === null && state.fetchState === "INITIALIZING").map(({ topic, partition }) => ({ topic, partition }));
  }

  /**
   * An application's resetToLastCommittedPositions after an aborted transaction (consumer.committed(assignment),
   * then seek): every assigned partition forgets its position and buffered records and fetches its committed
   * offset again (OffsetFetch, requireStable), as a newly assigned partition does.
   */
  resetToCommittedPositions(): void {
    for (const state of this.states) {
      if (state.failed !== null || state.pendingRevocation) continue;
      state.fetchState = "INITIALIZING";
      state.position = null;
      state.nextRetryUs = 0;
    }
    this.fetchBuffer.retain(new Set());
    this.runLoop();
  }

  seekToCommitted(partition: TopicPartitionRef, offset: number, leaderEpoch: number): void {
    const state = this.stateOf(partition.topic, partition.partition);
    if (state === undefined || state.fetchState !== "INITIALIZING") return;
    if (leaderEpoch >= 0) this.metadata.updateLastSeenEpochIfNewer(state.topicPartition, leaderEpoch);
    state.seekUnvalidated({ offset, offsetEpoch: leaderEpoch, currentLeader: this.metadata.currentLeader(state.topic, state.partition) });
  }

  partitionCount(topic: string): number {
    return this.metadata.partitionCount(topic);
  }

  addMetadataTopics(topics: readonly string[]): boolean {
    const added = topics.some((topic) => !this.metadata.interest.includes(topic));
    this.metadata.addTopics(topics);
    return added;
  }

  onPartitionsRevoked(partitions: readonly TopicPartitionRef[]): void {
    this.listener.onPartitionsRevoked?.(partitions);
  }

  onPartitionsAssigned(partitions: readonly TopicPartitionRef[]): void {
    this.listener.onPartitionsAssigned?.(partitions);
  }

  onPartitionsLost(partitions: readonly TopicPartitionRef[]): void {
    this.listener.onPartitionsLost?.(partitions);
  }

  bufferFetch(state: TopicPartitionState, answer: FetchPartitionResponse, leaderEpoch: number, leaderHost: string): boolean {
    if (this.coordinator === null) return false;
    this.fetchBuffer.add(state, answer, leaderEpoch, leaderHost);
    return true;
  }

  hasBufferedData(state: TopicPartitionState): boolean {
    return this.coordinator !== null && this.fetchBuffer.has(state);
  }

  // ---- ConsumerCore ----

  history(type: "ok" | "info", state: TopicPartitionState, fields: Record<string, unknown>): void {
    if (type === "ok" && this.listener.onRecords !== undefined) this.listener.onRecords(state, fields.offsets as number[]);
    if (!this.context.tracing) return;
    const group = this.coordinator === null ? {} : this.coordinator.memberFields;
    // A read_committed consumer's ops say so (the transaction checkers read them); others are unchanged.
    const isolation = this.config["isolation.level"] === "read_committed" ? READ_COMMITTED_FIELD : {};
    this.context.trace("op", { process: this.context.node, type, f: "poll", topic: state.topic, partition: state.partition, ...group, ...isolation, ...fields });
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

  private runLoop(): void {
    if (!this.started || this.closed) return;
    if (this.coordinator !== null) {
      this.groupLoop();
      return;
    }
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
    this.sendResetsAndValidations();
    for (const [node, partitions] of prepareFetches(this, this.pendingFetchNodes)) {
      const request = fetchRequest(this, this.nextCorrelationId++, partitions);
      this.pendingFetchNodes.add(node);
      this.sendRequest(node, request, (timer) => ({ kind: "fetch", timer, node, request }));
    }
    this.maybeUpdateMetadata();
    this.scheduleWakeup();
  }

  /** OffsetFetcher: ListOffsets for the positions to reset, OffsetsForLeaderEpoch for those to validate (KIP-320). */
  private sendResetsAndValidations(): void {
    for (const [node, sent] of prepareResets(this)) {
      const correlationId = this.nextCorrelationId++;
      this.sendRequest(node, listOffsetsRequest(this, correlationId, sent), (timer) => ({ kind: "list-offsets", timer, node, sent }));
    }
    for (const [node, sent] of prepareValidations(this)) {
      const correlationId = this.nextCorrelationId++;
      this.sendRequest(node, offsetsForLeaderEpochRequest(correlationId, sent), (timer) => ({ kind: "epochs", timer, node, sent }));
    }
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
    const target = this.leastLoadedHost();
    const correlationId = this.nextCorrelationId++;
    const request: MetadataRequest = { type: "Metadata", correlationId, topics: [...this.metadata.interest], sizeBytes: REQUEST_HEADER_BYTES };
    this.context.send(target, request);
    const timer = this.context.setTimer(ms(this.config["request.timeout.ms"]), TAG_REQUEST_TIMEOUT, correlationId);
    this.pending.set(correlationId, { kind: "metadata", timer, host: target });
  }

  private onMetadata(response: MetadataResponse): void {
    this.metadata.update(response, this.nowUs());
    this.coordinator?.onMetadataUpdate();
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
    if (this.groupWakeupUs < Infinity) next = Math.min(next, Math.max(now + 1, this.groupWakeupUs));
    if (this.blocking?.kind === "poll" && this.blocking.deadlineUs < Infinity) next = Math.min(next, Math.max(now + 1, this.blocking.deadlineUs));
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
