/**
 * One replica fetcher (AbstractFetcherThread + ReplicaFetcherThread) pulling every partition this broker
 * follows from one leader. Each partition is "truncating" (find the truncation point, truncation.ts),
 * "fetching" (Fetch at fetchOffset = log end offset) or resetting after OFFSET_OUT_OF_RANGE (ListOffsets for
 * the leader's latest, then earliest offset: handleOffsetOutOfRange / fetchOffsetAndTruncate). One request in
 * flight, timed out after replica.socket.timeout.ms; partitions with errors back off replica.fetch.backoff.ms.
 * A response counts only when it answers the request in flight (correlation id) and the partition's fetch
 * state is the one it was sent for. A fetch response's partitions are processed one after the other, and an
 * append that triggers a flush (flush.messages) blocks the thread until the fsync returns, as
 * UnifiedLog.append flushes inside processPartitionData: the next fetch — which reports this replica's log end
 * offset to the leader — leaves only once what was appended is durable. With compat.fetchSessions (KIP-227,
 * 1.1+) the Fetch goes through the fetch session handler (fetch-session-handler.ts): after a full fetch only the
 * partitions added or changed are sent, and a session error makes the next fetch full, at once.
 * Simplifications: no divergence detection in Fetch (IBP 2.7's lastFetchedEpoch), no quotas; the thread's blocking
 * calls are request/response states and a processing state; no partitionMapLock, so a LeaderAndIsr handled
 * while the thread waits for an fsync changes the partition at once (its fetch data is then dropped).
 */

import type {
  FetchPartition,
  FetchPartitionResponse,
  FetchRequest,
  FetchResponse,
  KafkaError,
  ListOffsetsRequest,
  ListOffsetsResponse,
  OffsetsForLeaderEpochRequest,
  OffsetsForLeaderEpochResponse,
  TopicPartitionRef,
} from "../../protocol/kafka.ts";
import {
  EARLIEST_TIMESTAMP,
  FETCH_SESSION_REQUEST_BYTES,
  FORGOTTEN_PARTITION_BYTES,
  LATEST_TIMESTAMP,
  REQUEST_HEADER_BYTES,
  topicPartitionKey,
  UNDEFINED_EPOCH,
} from "../../protocol/kafka.ts";
import { assert } from "../../sim/assert.ts";
import type { TimerId } from "../../sim/kernel.ts";
import { ms } from "../../sim/time.ts";
import { lastOffset } from "../log/records.ts";
import { FETCHER_TIMER_PREFIX } from "../services.ts";
import { FetchSessionHandler } from "./fetch-session-handler.ts";
import type { Partition } from "./partition.ts";
import type { ReplicaHost } from "./replica-host.ts";
import { offsetTruncationState, truncateToHighWatermark, usesLeaderEpochs, type TruncationDecision } from "./truncation.ts";

/** No timer handle (handles are non-negative). */
const NO_TIMER: TimerId = -1;

export type FetchState = "truncating" | "fetching" | "reset-latest" | "reset-earliest";

export interface PartitionFetchState {
  readonly topic: string;
  readonly partition: number;
  readonly key: string;
  /**
   * The hosted partition fetched for. A fetch state should never outlive it (StopReplica removes the fetch state
   * before it deletes a partition; a partition hosted again is a new state), and `followed` looks it up again if
   * it is no longer hosted. The fetcher's loop reads it here rather than looking it up on every pass over
   * thousands of partitions.
   */
  partitionRef: Partition;
  state: FetchState;
  fetchOffset: number;
  /** The leader epoch this broker knows (sent as currentLeaderEpoch under KIP-320). */
  readonly currentLeaderEpoch: number;
  /** Monotonic µs until which the partition backs off. */
  delayedUntilUs: number;
  /** OffsetsForLeaderEpoch rounds so far (KIP-279 may need several). */
  truncationRounds: number;
  /**
   * The request this partition was last sent in (its correlation id, -1: none) and its state and fetch offset
   * then: a response for a changed state is ignored. Fields, not a per-request map: the hot path allocates none.
   */
  sentCorrelationId: number;
  sentState: FetchState;
  sentFetchOffset: number;
}

type RequestKind = "fetch" | "epochs" | "list-offsets";

/** The request in flight; also its timeout timer's payload. */
interface Inflight {
  readonly kind: RequestKind;
  readonly correlationId: number;
  timer: TimerId;
  /** The partitions sent (each state's sent* fields say what it was sent as). */
  readonly states: readonly PartitionFetchState[];
}

/** The wake timer's payload (any other payload is an Inflight: its timeout). */
const WAKE = Object.freeze({ kind: "wake" });

/** A FetchResponse being processed (processFetchRequest): partitions before `next` are done. */
interface Processing {
  readonly response: FetchResponse;
  readonly inflight: Inflight;
  next: number;
  /** The partition whose append is waiting for its flush (the rest of processPartitionData runs after it). */
  blocked: BlockedAppend | null;
}

interface BlockedAppend {
  readonly state: PartitionFetchState;
  readonly partition: Partition;
  readonly data: FetchPartitionResponse;
  readonly fetchOffset: number;
  readonly records: number;
}

/** Bound on KIP-279 rounds per truncation (each round strictly lowers the follower's latest epoch). */
const TRUNCATION_ROUNDS_MAX = 10_000;

export class ReplicaFetcher {
  readonly partitions = new Map<string, PartitionFetchState>();
  /**
   * Partitions removed while a request that carried them was in flight or being processed, by key: a partition
   * added again under the same key takes over what its predecessor was sent as, so that a response for the same
   * state and fetch offset still applies to it. Cleared when the next request goes out.
   */
  private readonly removedWhileSent = new Map<string, PartitionFetchState>();
  /** KIP-227 (compat.fetchSessions): the fetch session with the leader; null: every Fetch names every partition. */
  readonly sessionHandler: FetchSessionHandler | null;
  private inflight: Inflight | null = null;
  /** The thread is inside processFetchRequest (blocked on an append's fsync): no request goes out. */
  private processing: Processing | null = null;
  private wakeTimer: TimerId | null = null;
  /**
   * The timeout timer of the request onResponse is handling (NO_TIMER otherwise): the next request sent within
   * that handler re-arms it instead of a new timer (one per fetch, nearly always cancelled).
   */
  private answeredTimer: TimerId = NO_TIMER;
  private stopped = false;
  readonly timerTag: string;

  constructor(
    readonly leaderId: number,
    private readonly host: ReplicaHost,
  ) {
    this.timerTag = `${FETCHER_TIMER_PREFIX}${leaderId}`;
    this.sessionHandler = host.services.compat.fetchSessions ? new FetchSessionHandler() : null;
  }

  private get services() {
    return this.host.services;
  }

  private get mode() {
    return this.services.compat.truncation;
  }

  /** addFetcherForPartitions: starts in the truncating state at the log end offset. */
  addPartition(partition: Partition): void {
    assert(partition.leaderId === this.leaderId, `${partition.topicPartition}: fetcher for the wrong leader`);
    const key = partition.topicPartition;
    const predecessor = this.removedWhileSent.get(key);
    this.partitions.set(key, {
      topic: partition.topic,
      partition: partition.partition,
      key,
      partitionRef: partition,
      state: "truncating",
      fetchOffset: partition.log.logEndOffset,
      currentLeaderEpoch: partition.leaderEpoch,
      delayedUntilUs: 0,
      truncationRounds: 0,
      sentCorrelationId: predecessor?.sentCorrelationId ?? -1,
      sentState: predecessor?.sentState ?? "truncating",
      sentFetchOffset: predecessor?.sentFetchOffset ?? -1,
    });
    this.step();
  }

  removePartition(key: string): void {
    const state = this.partitions.get(key);
    if (state === undefined) return;
    this.partitions.delete(key);
    if (state.sentCorrelationId !== -1) this.removedWhileSent.set(key, state);
  }

  shutdown(): void {
    this.stopped = true;
    if (this.inflight !== null) this.services.context.cancelTimer(this.inflight.timer);
    if (this.wakeTimer !== null) this.services.context.cancelTimer(this.wakeTimer);
    this.inflight = null;
    this.processing = null;
    this.wakeTimer = null;
    this.partitions.clear();
    this.removedWhileSent.clear();
  }

  onTimer(data: unknown): void {
    if (data === WAKE) {
      this.wakeTimer = null;
    } else {
      const inflight = this.inflight;
      if (inflight === null || inflight !== data) return;
      // Request timeout: every partition sent backs off (handlePartitionsWithErrors).
      this.inflight = null;
      this.onRequestFailed(inflight);
    }
    this.step();
  }

  /**
   * The connection to the leader was reset (its process is gone): ReplicaFetcherBlockingSend's sendAndReceive
   * throws, processFetchRequest catches it and every partition sent backs off replica.fetch.backoff.ms
   * (handlePartitionsWithErrors), as after a timeout but at once. The fetcher keeps asking the same leader.
   */
  onDisconnect(): void {
    const inflight = this.inflight;
    if (this.stopped || inflight === null) return;
    this.services.context.cancelTimer(inflight.timer);
    this.inflight = null;
    this.onRequestFailed(inflight);
    this.step();
  }

  onResponse(response: FetchResponse | OffsetsForLeaderEpochResponse | ListOffsetsResponse): void {
    const inflight = this.inflight;
    if (this.stopped || inflight === null || inflight.correlationId !== response.correlationId) return;
    // The answered request's timeout is cancelled, unless the next request, sent before this handler returns (no
    // event runs in between), re-arms it (beginRequest: resetTimer, the same as a cancel and a new timer).
    this.answeredTimer = inflight.timer;
    this.inflight = null;
    if (response.type === "FetchResponse") this.onFetchResponse(response, inflight);
    else if (response.type === "OffsetsForLeaderEpochResponse") this.onEpochsResponse(response, inflight);
    else this.onListOffsetsResponse(response, inflight);
    this.step();
    if (this.answeredTimer !== NO_TIMER) this.services.context.cancelTimer(this.answeredTimer);
    this.answeredTimer = NO_TIMER;
  }

  // ---- The fetcher loop (doWork: maybeTruncate, then maybeFetch) ----

  private step(): void {
    if (this.stopped || this.inflight !== null || this.processing !== null) return;
    const now = this.services.context.monotonicNow();
    // One pass: the first partition resetting, else every one truncating, else every one fetching, in order.
    // The arrays become the request's partitions (Inflight.states): made only when a partition is ready.
    let resetting: PartitionFetchState | null = null;
    let truncating: PartitionFetchState[] | null = null;
    let fetching: PartitionFetchState[] | null = null;
    for (const state of this.partitions.values()) {
      const partition = this.followed(state);
      if (partition === null) continue;
      if (state.delayedUntilUs > now) continue;
      // Only once an append on this broker started a flush (flush.messages) can one be running.
      if (this.host.appendFlushStarted && partition.log.appendFlushing) {
        // An append's fsync is still running (a fetcher this partition left, before a LeaderAndIsr): in Kafka the
        // LeaderAndIsr would have waited for it (partitionMapLock), so nothing is sent for the partition before.
        partition.log.whenAppendsFlushed(this.onLogFlushed);
        continue;
      }
      if (state.state === "truncating" && (!usesLeaderEpochs(this.mode) || partition.log.latestEpoch() === UNDEFINED_EPOCH)) {
        // Before 0.11, or a follower without epochs: truncate to the own high watermark, no question asked.
        const reason = usesLeaderEpochs(this.mode) ? "no-leader-epoch" : "high-watermark";
        if (this.truncate(state, partition, truncateToHighWatermark(partition.log, reason))) this.startFetching(state, partition);
      }
      if (state.delayedUntilUs > now) continue;
      if (state.state === "fetching") (fetching ??= []).push(state);
      else if (state.state === "truncating") (truncating ??= []).push(state);
      else resetting ??= state;
    }
    if (resetting !== null) return this.sendListOffsets(resetting);
    if (truncating !== null) return this.sendEpochs(truncating);
    if (fetching !== null) return this.sendFetch(fetching);
    // buildFetch sends an incremental fetch that only forgets, when its session has partitions none of which is ready.
    const session = this.sessionHandler;
    if (session !== null && !session.isFull && session.size > 0) return this.sendFetch([]);
    this.scheduleWake(now);
  }

  private scheduleWake(now: number): void {
    let next = Infinity;
    for (const state of this.partitions.values()) if (state.delayedUntilUs > now) next = Math.min(next, state.delayedUntilUs);
    if (next === Infinity) return;
    if (this.wakeTimer !== null) this.services.context.cancelTimer(this.wakeTimer);
    this.wakeTimer = this.services.context.setTimer(next - now, this.timerTag, WAKE);
  }

  /**
   * A request for `states` goes out: its correlation id, its timeout (replica.socket.timeout.ms) and what each
   * partition is sent as. The caller builds and sends the request.
   */
  private beginRequest(kind: RequestKind, states: readonly PartitionFetchState[]): number {
    const correlationId = this.services.nextCorrelationId();
    const inflight: Inflight = { kind, correlationId, timer: -1 as TimerId, states };
    const timeoutUs = ms(this.services.config["replica.socket.timeout.ms"]);
    const answered = this.answeredTimer;
    this.answeredTimer = NO_TIMER;
    inflight.timer = answered === NO_TIMER ? this.services.context.setTimer(timeoutUs, this.timerTag, inflight) : this.services.context.resetTimer(answered, timeoutUs, this.timerTag, inflight);
    if (this.removedWhileSent.size > 0) this.removedWhileSent.clear();
    for (let i = 0; i < states.length; i++) {
      const state = states[i];
      state.sentCorrelationId = correlationId;
      state.sentState = state.state;
      state.sentFetchOffset = state.fetchOffset;
    }
    this.inflight = inflight;
    return correlationId;
  }

  /** currentLeaderEpoch on the wire: only KIP-320 fetchers send it. */
  private wireEpoch(state: PartitionFetchState): number {
    return this.mode === "kip-320" ? state.currentLeaderEpoch : UNDEFINED_EPOCH;
  }

  /**
   * ReplicaFetcherThread.buildFetch: every partition ready to fetch. With a fetch session the request carries
   * only what the session handler says changed (and what it forgets); `states` are still all the partitions the
   * response may answer.
   */
  private sendFetch(states: PartitionFetchState[]): void {
    const config = this.services.config;
    const correlationId = this.beginRequest("fetch", states);
    const maxBytes = config["replica.fetch.max.bytes"];
    const session = this.sessionHandler;
    let partitions: FetchPartition[];
    let sizeBytes: number;
    let forgotten: TopicPartitionRef[] | null = null;
    let sessionId = 0;
    let sessionEpoch = 0;
    if (session === null) {
      partitions = new Array<FetchPartition>(states.length);
      for (let i = 0; i < states.length; i++) {
        const s = states[i];
        partitions[i] = {
          topic: s.topic,
          partition: s.partition,
          currentLeaderEpoch: this.wireEpoch(s),
          fetchOffset: s.fetchOffset,
          logStartOffset: s.partitionRef.log.logStartOffset,
          partitionMaxBytes: maxBytes,
          lastFetchedEpoch: UNDEFINED_EPOCH,
        };
      }
      sizeBytes = REQUEST_HEADER_BYTES + 32 * states.length;
    } else {
      for (let i = 0; i < states.length; i++) {
        const s = states[i];
        session.add(s.key, s.topic, s.partition, s.fetchOffset, s.partitionRef.log.logStartOffset, maxBytes, this.wireEpoch(s));
      }
      const data = session.build();
      partitions = data.toSend;
      forgotten = data.toForget;
      sessionId = data.sessionId;
      sessionEpoch = data.epoch;
      sizeBytes = REQUEST_HEADER_BYTES + FETCH_SESSION_REQUEST_BYTES + 32 * partitions.length + FORGOTTEN_PARTITION_BYTES * forgotten.length;
    }
    const request: FetchRequest = {
      type: "Fetch",
      correlationId,
      replicaId: this.services.brokerId,
      replicaEpoch: this.services.brokerEpoch(),
      maxWaitMs: config["replica.fetch.wait.max.ms"],
      minBytes: config["replica.fetch.min.bytes"],
      maxBytes: config["replica.fetch.response.max.bytes"],
      isolationLevel: 0,
      partitions,
      sizeBytes,
    };
    if (forgotten !== null) {
      request.sessionId = sessionId;
      request.sessionEpoch = sessionEpoch;
      request.forgottenPartitions = forgotten;
    }
    this.services.sendToBroker(this.leaderId, request);
  }

  private sendEpochs(states: PartitionFetchState[]): void {
    const correlationId = this.beginRequest("epochs", states);
    const request: OffsetsForLeaderEpochRequest = {
      type: "OffsetsForLeaderEpoch",
      correlationId,
      replicaId: this.services.brokerId,
      partitions: states.map((s) => ({
        topic: s.topic,
        partition: s.partition,
        currentLeaderEpoch: this.wireEpoch(s),
        leaderEpoch: s.partitionRef.log.latestEpoch(),
      })),
      sizeBytes: REQUEST_HEADER_BYTES + 24 * states.length,
    };
    this.services.sendToBroker(this.leaderId, request);
  }

  private sendListOffsets(state: PartitionFetchState): void {
    const correlationId = this.beginRequest("list-offsets", [state]);
    const request: ListOffsetsRequest = {
      type: "ListOffsets",
      correlationId,
      replicaId: this.services.brokerId,
      isolationLevel: 0,
      partitions: [
        {
          topic: state.topic,
          partition: state.partition,
          currentLeaderEpoch: this.wireEpoch(state),
          timestamp: state.state === "reset-latest" ? LATEST_TIMESTAMP : EARLIEST_TIMESTAMP,
        },
      ],
      sizeBytes: REQUEST_HEADER_BYTES + 24,
    };
    this.services.sendToBroker(this.leaderId, request);
  }

  // ---- Responses ----

  /** The partition `state` follows, if the response to `inflight` still applies to the state. */
  private current(state: PartitionFetchState | undefined, inflight: Inflight): Partition | null {
    if (state === undefined || state.sentCorrelationId !== inflight.correlationId || state.state !== state.sentState || state.fetchOffset !== state.sentFetchOffset) {
      return null;
    }
    return this.followed(state);
  }

  /**
   * The current state of the partition answered at `index` of the response to `inflight`: the answers come in
   * the request's order, so the partition sent there names it without building a key.
   */
  private answeredState(answer: TopicPartitionRef, index: number, inflight: Inflight): PartitionFetchState | undefined {
    const sent = inflight.states[index];
    const key = sent !== undefined && sent.topic === answer.topic && sent.partition === answer.partition ? sent.key : topicPartitionKey(answer.topic, answer.partition);
    return this.partitions.get(key);
  }

  /**
   * The partition an OffsetsForLeaderEpoch / ListOffsets answer is for, when it is still current and the answer
   * is usable; a fenced epoch stops the partition, another error backs it off (both give null).
   */
  private answered(
    answer: { topic: string; partition: number; error: KafkaError },
    index: number,
    inflight: Inflight,
  ): { state: PartitionFetchState; partition: Partition } | null {
    const state = this.answeredState(answer, index, inflight);
    const partition = this.current(state, inflight);
    if (partition === null) return null;
    if (answer.error === "FENCED_LEADER_EPOCH") {
      this.onPartitionFenced(state!);
      return null;
    }
    if (answer.error !== "NONE") {
      this.delay(state!.key);
      return null;
    }
    return { state: state!, partition };
  }

  private onFetchResponse(response: FetchResponse, inflight: Inflight): void {
    const session = this.sessionHandler;
    if (session !== null) {
      // fetchFromLeader: a session error (or a response that does not fit the session) processes nothing; the
      // next fetch, at once, is a full one.
      if (!session.handleResponse(response)) {
        if (this.services.context.tracing) {
          this.services.context.trace("fetch-session-error", { leader: this.leaderId, error: response.error, sessionId: session.sessionId, epoch: session.epoch });
        }
        return;
      }
    } else if (response.error !== "NONE") {
      this.delayAll(inflight);
      return;
    }
    this.processing = { response, inflight, next: 0, blocked: null };
    this.processPartitions();
  }

  /** processFetchRequest's loop over the response's partitions, from where it stopped; it stops at a flush. */
  private processPartitions(): void {
    const processing = this.processing!;
    const { response, inflight } = processing;
    while (processing.next < response.partitions.length) {
      const index = processing.next++;
      const data = response.partitions[index];
      const state = this.answeredState(data, index, inflight);
      const partition = this.current(state, inflight);
      if (partition === null) continue;
      switch (data.error) {
        case "NONE":
          if (this.appendPartitionData(state!, partition, data)) return;
          break;
        case "OFFSET_OUT_OF_RANGE":
          state!.state = "reset-latest";
          break;
        case "FENCED_LEADER_EPOCH":
          this.onPartitionFenced(state!);
          break;
        default:
          this.delay(state!.key);
      }
    }
    this.processing = null;
  }

  /**
   * ReplicaFetcherThread.processPartitionData, first half: append the batches. Returns true when an append
   * started a flush: the thread then waits for the appends' flushes (onAppendsFlushed) before the second half.
   */
  private appendPartitionData(state: PartitionFetchState, partition: Partition, data: FetchPartitionResponse): boolean {
    const log = partition.log;
    const fetchOffset = state.fetchOffset;
    if (log.logEndOffset !== fetchOffset) {
      this.delay(state.key);
      return false;
    }
    let records = 0;
    let flushing = false;
    const flushesBefore = log.appendFlushCount;
    for (const batch of data.batches) {
      if (lastOffset(batch) < log.logEndOffset) continue;
      const appended = log.appendAsFollower(batch);
      if (appended.error !== null) {
        this.delay(state.key);
        break;
      }
      records += batch.recordCount;
      if (appended.flushing) {
        flushing = true;
        this.host.appendFlushStarted = true;
      }
    }
    if (!flushing) {
      this.completePartitionData(state, partition, data, fetchOffset, records);
      return false;
    }
    this.processing!.blocked = { state, partition, data, fetchOffset, records };
    log.whenAppendsFlushed(this.onAppendsFlushed, flushesBefore);
    return true;
  }

  /** The fsyncs the appends started returned: processPartitionData goes on, then the loop. */
  private readonly onAppendsFlushed = (error: "KAFKA_STORAGE_ERROR" | null): void => {
    const blocked = this.processing?.blocked ?? null;
    if (this.stopped || blocked === null) return;
    const processing = this.processing!;
    processing.blocked = null;
    const { state, partition } = blocked;
    // The partition may have changed while the thread waited (a LeaderAndIsr); then its data is dropped.
    const current = this.partitions.get(state.key);
    if (current === state && this.current(current, processing.inflight) === partition) {
      // A failed flush is Kafka's KafkaStorageException from the append: the partition backs off.
      if (error !== null) this.delay(state.key);
      else this.completePartitionData(state, partition, blocked.data, blocked.fetchOffset, blocked.records);
    }
    this.processPartitions();
    this.step();
  };

  /** A log's append flush this fetcher waited for returned. */
  private readonly onLogFlushed = (): void => this.step();

  /** processPartitionData, second half: HW = min(leader HW, own log end offset), the leader's log start. */
  private completePartitionData(state: PartitionFetchState, partition: Partition, data: FetchPartitionResponse, fetchOffset: number, records: number): void {
    const log = partition.log;
    partition.updateFollowerHighWatermark(data.highWatermark);
    if (data.logStartOffset > log.logStartOffset) {
      const increment = log.maybeIncrementLogStartOffset(data.logStartOffset);
      if (increment.error === null && increment.updated && this.services.context.tracing) {
        this.services.context.trace("log-start-offset", { topicPartition: log.topicPartition, logStartOffset: log.logStartOffset, reason: "leader" });
      }
    }
    state.fetchOffset = log.logEndOffset;
    const context = this.services.context;
    // Only a trace file, the hash or the viewer reads "fetch" (not the checkers): one per follower batch.
    if (records > 0 && context.wants("fetch")) {
      context.trace("fetch", {
        leader: this.leaderId,
        topicPartition: state.key,
        fetchOffset,
        records,
        highWatermark: data.highWatermark,
        logEndOffset: log.logEndOffset,
      });
    }
  }

  private onEpochsResponse(response: OffsetsForLeaderEpochResponse, inflight: Inflight): void {
    for (let i = 0; i < response.partitions.length; i++) {
      const answer = response.partitions[i];
      const current = this.answered(answer, i, inflight);
      if (current === null) continue;
      const { state, partition } = current;
      state.truncationRounds++;
      assert(state.truncationRounds <= TRUNCATION_ROUNDS_MAX, `${state.key}: truncation does not converge`);
      const decision = offsetTruncationState(this.mode, partition.log, answer.leaderEpoch, answer.endOffset, this.services.compat.epochCacheOnElection);
      if (!this.truncate(state, partition, decision)) continue;
      if (decision.completed) this.startFetching(state, partition);
      else state.fetchOffset = partition.log.logEndOffset;
    }
  }

  /**
   * fetchOffsetAndTruncate (2.1+): the leader's latest offset below ours → truncate to it; its start above ours →
   * start there. Before 2.1 (handleOffsetOutOfRange, compat.outOfRangeTruncation "halt-unless-unclean") the
   * truncation to the leader's latest offset is refused unless the topic allows unclean leader election: the
   * thread throws FatalExitError and the broker process exits (exitBroker).
   */
  private onListOffsetsResponse(response: ListOffsetsResponse, inflight: Inflight): void {
    for (let i = 0; i < response.partitions.length; i++) {
      const answer = response.partitions[i];
      const current = this.answered(answer, i, inflight);
      if (current === null) continue;
      const { state, partition } = current;
      const log = partition.log;
      if (state.state === "reset-latest") {
        if (answer.offset < log.logEndOffset) {
          if (!this.truncationBelowLeaderAllowed(state.topic)) {
            this.exitBroker(state, answer.offset, log.logEndOffset);
            return;
          }
          const decision = { offset: answer.offset, completed: true, reason: "leader-end-offset-below" };
          if (this.truncate(state, partition, decision)) this.startFetching(state, partition);
        } else {
          state.state = "reset-earliest";
        }
        continue;
      }
      if (answer.offset > log.logEndOffset) {
        this.traceTruncation(state, partition, { offset: answer.offset, completed: true, reason: "leader-log-start-above" });
        const hw = log.highWatermark;
        if (this.services.logManager.truncateFullyAndStartAt(log, answer.offset) !== null) {
          this.delay(state.key);
          continue;
        }
        if (log.highWatermark !== hw) partition.traceHighWatermark(hw, "follower");
      }
      this.startFetching(state, partition);
    }
  }

  /**
   * ReplicaFetcherThread.handleOffsetOutOfRange up to 2.0.0: truncating below the leader's log end is allowed
   * only when the topic's effective unclean.leader.election.enable (its override, else the broker's) is true;
   * "truncate" (KAFKA-7414, 2.1.0) always allows it.
   */
  private truncationBelowLeaderAllowed(topic: string): boolean {
    if (this.services.compat.outOfRangeTruncation === "truncate") return true;
    const override = this.services.topicConfig(topic)["unclean.leader.election.enable"];
    if (override === undefined) return this.services.config["unclean.leader.election.enable"];
    return override === true || override === "true";
  }

  /**
   * "Exiting because log truncation is not allowed for partition …": the fetcher thread throws FatalExitError,
   * ShutdownableThread.run ends the thread and calls Exit.exit (System.exit), whose shutdown hook runs
   * KafkaServer.shutdown — a controlled shutdown, the clean-shutdown marker, the ZooKeeper session closed. So
   * the fetcher stops at once and the process exits cleanly (ProcessContext.exit); it stays down until restarted.
   */
  private exitBroker(state: PartitionFetchState, leaderEndOffset: number, logEndOffset: number): void {
    const context = this.services.context;
    if (context.tracing) {
      context.trace("broker-halted", { reason: "log truncation is not allowed", topicPartition: state.key, leaderId: this.leaderId, leaderEndOffset, logEndOffset });
    }
    this.shutdown();
    context.exit();
  }

  // ---- Helpers ----

  private startFetching(state: PartitionFetchState, partition: Partition): void {
    state.state = "fetching";
    state.fetchOffset = partition.log.logEndOffset;
  }

  /** Truncates the follower's log to min(decision, LEO); false on a storage error (the partition backs off). */
  private truncate(state: PartitionFetchState, partition: Partition, decision: TruncationDecision): boolean {
    this.traceTruncation(state, partition, decision);
    const log = partition.log;
    const hw = log.highWatermark;
    const result = this.services.logManager.truncateTo(log, Math.min(decision.offset, log.logEndOffset));
    if (result.error !== null) {
      this.delay(state.key);
      return false;
    }
    if (log.highWatermark !== hw) partition.traceHighWatermark(hw, "follower");
    state.fetchOffset = log.logEndOffset;
    return true;
  }

  private traceTruncation(state: PartitionFetchState, partition: Partition, decision: TruncationDecision): void {
    const context = this.services.context;
    if (!context.tracing) return;
    context.trace("replica-truncate", {
      topicPartition: state.key,
      offset: decision.offset,
      mode: this.mode,
      reason: decision.reason,
      leaderEpoch: partition.leaderEpoch,
      logEndOffset: partition.log.logEndOffset,
      completed: decision.completed,
    });
  }

  /** KIP-320: the leader has a newer epoch than ours; stop until the controller's LeaderAndIsr arrives. */
  private onPartitionFenced(state: PartitionFetchState): void {
    this.partitions.delete(state.key);
  }

  /** A timeout or a reset connection: the fetch session closes (handleError), every partition sent backs off. */
  private onRequestFailed(inflight: Inflight): void {
    if (inflight.kind === "fetch") this.sessionHandler?.handleError();
    this.delayAll(inflight);
  }

  /** Every partition sent in `inflight` backs off (handlePartitionsWithErrors). */
  private delayAll(inflight: Inflight): void {
    for (let i = 0; i < inflight.states.length; i++) this.delay(inflight.states[i].key);
  }

  private delay(key: string): void {
    const state = this.partitions.get(key);
    if (state === undefined) return;
    state.delayedUntilUs = this.services.context.monotonicNow() + ms(this.services.config["replica.fetch.backoff.ms"]);
  }

  /** The hosted partition this state fetches for, if it still follows this fetcher's leader. */
  private followed(state: PartitionFetchState): Partition | null {
    let partition = state.partitionRef;
    if (!partition.hosted) {
      // Not expected (StopReplica removes the fetch state first); the lookup keeps the answer exact regardless.
      const found = this.host.partition(state.topic, state.partition);
      if (found === undefined) return null;
      partition = state.partitionRef = found;
    }
    if (partition.isLeader || partition.leaderId !== this.leaderId) return null;
    return partition;
  }
}
