/**
 * The broker's ReplicaManager (ReplicaManager.scala): the partitions it hosts, the controller's requests
 * (LeaderAndIsr → makeLeaders / makeFollowers, UpdateMetadata, StopReplica, each fenced by controller epoch
 * and broker epoch), Produce with acks 0/1/all and min.insync.replicas, Fetch from followers (recording their
 * position, expanding the ISR, advancing the HW) and consumers, long polling, ListOffsets and
 * OffsetsForLeaderEpoch, the isr-expiration task, the follower fetchers and the ISR updates by
 * `compat.isrUpdate`, and the idempotent producer's dedup and sequence checks on Produce (producer state lives
 * in each log, ../idempotence/), with KIP-890 part 1's transaction verification (produce.ts,
 * add-partitions-to-txn-manager.ts). Simplifications: no DeleteRecords, no
 * offline log dirs beyond KAFKA_STORAGE_ERROR answers, no quotas; the HW checkpoint task starts on the first
 * LeaderAndIsr as in Kafka.
 */

import type {
  AlterIsrResponse,
  FetchRequest,
  FetchResponse,
  KafkaError,
  LeaderAndIsrPartitionState,
  LeaderAndIsrRequest,
  LeaderAndIsrResponse,
  ListOffsetsRequest,
  ListOffsetsResponse,
  OffsetsForLeaderEpochRequest,
  OffsetsForLeaderEpochResponse,
  ProduceRequest,
  StopReplicaRequest,
  StopReplicaResponse,
  UpdateMetadataRequest,
  UpdateMetadataResponse,
} from "../../protocol/kafka.ts";
import { brokerIdOf, NO_LEADER, REQUEST_HEADER_BYTES, topicPartitionKey, UNDEFINED_EPOCH } from "../../protocol/kafka.ts";
import { assert } from "../../sim/assert.ts";
import type { TimerId } from "../../sim/kernel.ts";
import { ms } from "../../sim/time.ts";
import { REPLICA_TIMER_PREFIX, type BrokerServices } from "../services.ts";
import { DelayedFetch } from "./delayed-fetch.ts";
import type { DelayedProduce } from "./delayed-produce.ts";
import { ReplicaFetcherManager } from "./fetcher-manager.ts";
import { AlterIsrManager, ZkIsrWriter, type IsrUpdateOutcome, type IsrUpdater } from "./isr-updates.ts";
import { FetchManager, FetchSessionCache, legacyContext } from "./fetch-session.ts";
import { hostedPartition, LocalReads, readFromLocalLog } from "./local-reads.ts";
import { handleWriteTxnMarkers } from "./txn-markers.ts";
import type { AddPartitionsToTxnResponse, WriteTxnMarkersRequest } from "../../protocol/transaction.ts";
import { AddPartitionsToTxnManager } from "./add-partitions-to-txn-manager.ts";
import { listOffset } from "./list-offsets.ts";
import { Partition, type PendingIsr } from "./partition.ts";
import { appendRecords, handleProduce, type AppendCallback, type AppendRequest, type ProduceHost } from "./produce.ts";
import { Purgatory } from "./purgatory.ts";
import { leaderEpochEndOffset } from "./truncation.ts";

/** Type-checks a response literal against its own type (send() takes any Message). */
function typed<T>(message: T): T {
  return message;
}

const TAG_ISR_EXPIRATION = "replica:isr-expiration";

/**
 * RequestHandlerHelper.onLeadershipChange and KafkaApis.handleStopReplicaRequest's coordinator hooks: who hears
 * that this broker became leader or follower of partitions (LeaderAndIsr), or deleted a replica (StopReplica).
 */
export interface LeadershipListener {
  onLeadershipChange(leaders: readonly Partition[], followers: readonly Partition[]): void;
  /** A StopReplica with deletePartition removed the replica; leaderEpoch -1 when the request gave none. */
  onReplicaDeleted(topic: string, partition: number, leaderEpoch: number): void;
}
/** StopReplica's leaderEpoch while a topic is deleted (LeaderAndIsr.EpochDuringDelete). */
const EPOCH_DURING_DELETE = -2;

export class ReplicaManager implements ProduceHost {
  private readonly allPartitions = new Map<string, Partition>();
  /** Host name → broker id (null: not a broker), as brokerIdOf parses it; a few hosts, never removed. */
  private readonly brokerIdsByHost = new Map<string, number | null>();
  /** The same partitions by topic, then partition id: partition() runs per request and builds no key string. */
  private readonly partitionsByTopic = new Map<string, Map<number, Partition>>();
  private currentControllerEpoch = 0;
  private readonly fetcherManager: ReplicaFetcherManager;
  private readonly producePurgatory: Purgatory<DelayedProduce>;
  private readonly fetchPurgatory: Purgatory<DelayedFetch>;
  /** Reused by every Fetch this broker answers: the bytes and log end of each read. */
  private readonly reads = new LocalReads();
  /**
   * The same for parked fetches as they complete: apart, because a follower's fetch in handleFetch can complete
   * parked fetches (a HW advance) while its own reads are still in use.
   */
  private readonly delayedReads = new LocalReads();
  /** KIP-227: the fetch sessions of this incarnation (in memory: a restart forgets them); null with compat.fetchSessions off. */
  readonly fetchManager: FetchManager | null;
  private readonly isrUpdater: IsrUpdater;
  /** KIP-890 part 1: the transaction verifications of produces (used only with compat.transactionVerification). */
  readonly addPartitionsToTxnManager: AddPartitionsToTxnManager;
  private isrExpirationTimer: TimerId | null = null;
  /** ReplicaHost.appendFlushStarted: an append of this process started a flush. */
  appendFlushStarted = false;
  private hwCheckpointsStarted = false;
  private stopped = false;
  /** The group coordinator's hooks (null: none, as in the test harnesses). */
  leadershipListener: LeadershipListener | null = null;

  constructor(readonly services: BrokerServices) {
    this.fetcherManager = new ReplicaFetcherManager(this);
    // Keyed by partition: a partition's watcher list is kept once empty (purgatory.ts `watchers`).
    this.producePurgatory = new Purgatory(services, "delayed-produce", undefined, true);
    this.fetchPurgatory = new Purgatory(services, "delayed-fetch", undefined, true);
    this.addPartitionsToTxnManager = new AddPartitionsToTxnManager(services);
    this.fetchManager = services.compat.fetchSessions
      ? new FetchManager(new FetchSessionCache(services.config["max.incremental.fetch.session.cache.slots"], services.context.rng.fork("fetch-session-cache")))
      : null;
    const callback = (partition: Partition, pending: PendingIsr, outcome: IsrUpdateOutcome) => this.onIsrUpdateResult(partition, pending, outcome);
    this.isrUpdater = services.compat.isrUpdate === "zk-direct" ? new ZkIsrWriter(services, callback) : new AlterIsrManager(services, callback);
  }

  // ---- Lifecycle ----

  /** After log recovery: the isr-expiration task (see isrExpirationPeriodMs) and ISR propagation. */
  startup(): void {
    this.scheduleIsrExpiration(this.isrExpirationPeriodMs);
    if (this.isrUpdater instanceof ZkIsrWriter) this.isrUpdater.startup();
  }

  shutdown(): void {
    this.stopped = true;
    this.fetcherManager.shutdown();
    this.isrUpdater.shutdown();
    this.producePurgatory.shutdown();
    this.fetchPurgatory.shutdown();
    this.addPartitionsToTxnManager.shutdown();
    if (this.isrExpirationTimer !== null) this.services.context.cancelTimer(this.isrExpirationTimer);
    this.isrExpirationTimer = null;
  }

  onTimer(tag: string, data: unknown): boolean {
    if (this.fetcherManager.onTimer(tag, data)) return true;
    if (!tag.startsWith(REPLICA_TIMER_PREFIX)) return false;
    if (this.stopped) return true;
    if (tag === TAG_ISR_EXPIRATION) {
      this.isrExpirationTimer = null;
      this.maybeShrinkIsr();
      if (this.isrExpirationPeriodMs > 0) this.scheduleIsrExpiration(this.isrExpirationPeriodMs);
    } else if (tag === this.producePurgatory.timerTag) {
      this.producePurgatory.onTimer(data);
    } else if (tag === this.fetchPurgatory.timerTag) {
      this.fetchPurgatory.onTimer(data);
    } else if (this.addPartitionsToTxnManager.onTimer(tag, data)) {
      // A verification request timed out.
    } else {
      assert(this.isrUpdater.onTimer(tag, data), `unknown replica manager timer ${tag}`);
    }
    return true;
  }

  /** The connection to broker `brokerId` was reset (its process is gone): the replica fetcher hears it. */
  onBrokerDisconnected(brokerId: number): void {
    if (this.stopped) return;
    this.fetcherManager.onBrokerDisconnected(brokerId);
  }

  onResponse(from: string, response: FetchResponse | OffsetsForLeaderEpochResponse | ListOffsetsResponse | AlterIsrResponse, _connection: number): void {
    if (this.stopped) return;
    if (response.type === "AlterIsrResponse") {
      this.isrUpdater.onAlterIsrResponse(response);
      return;
    }
    const leaderId = this.brokerIdOf(from);
    if (leaderId !== null) this.fetcherManager.onResponse(leaderId, response);
  }

  /** brokerIdOf, remembered per host name (a follower hears from its few leaders on every fetch: no regex each). */
  private brokerIdOf(host: string): number | null {
    let id = this.brokerIdsByHost.get(host);
    if (id === undefined) {
      id = brokerIdOf(host);
      this.brokerIdsByHost.set(host, id);
    }
    return id;
  }

  // ---- Views ----

  partition(topic: string, partition: number): Partition | undefined {
    return this.partitionsByTopic.get(topic)?.get(partition);
  }

  partitions(): Iterable<Partition> {
    return this.allPartitions.values();
  }

  get controllerEpoch(): number {
    return this.currentControllerEpoch;
  }

  /** How many partitions this broker hosts (ReplicaManager's PartitionCount gauge). */
  get partitionCount(): number {
    return this.allPartitions.size;
  }

  /** The fetch state of a follower partition (tests, checkers). */
  fetchState(topic: string, partition: number) {
    const key = topicPartitionKey(topic, partition);
    return this.fetcherManager.fetcherOf(key)?.partitions.get(key);
  }

  notHostedError(topic: string, partition: number): KafkaError {
    return this.services.metadataCache.partition(topic, partition) === undefined ? "UNKNOWN_TOPIC_OR_PARTITION" : "NOT_LEADER_OR_FOLLOWER";
  }

  // ---- Controller requests ----

  /**
   * The fencing every controller request goes through: a request for an earlier registration of this broker
   * (KIP-380) or from an older controller is refused; otherwise its controller epoch becomes the current one.
   */
  private fenceControllerRequest(request: { brokerEpoch: number; controllerEpoch: number }): KafkaError {
    if (this.isBrokerEpochStale(request.brokerEpoch)) return "STALE_BROKER_EPOCH";
    if (request.controllerEpoch < this.currentControllerEpoch) return "STALE_CONTROLLER_EPOCH";
    this.currentControllerEpoch = request.controllerEpoch;
    return "NONE";
  }

  private respondToController(
    from: string,
    type: "LeaderAndIsrResponse" | "StopReplicaResponse",
    correlationId: number,
    error: KafkaError,
    partitionErrors: { topic: string; partition: number; error: KafkaError }[],
  ): void {
    this.services.send(from, typed<LeaderAndIsrResponse | StopReplicaResponse>({
      type,
      correlationId,
      error,
      partitionErrors,
      sizeBytes: REQUEST_HEADER_BYTES + 16 * partitionErrors.length,
    }));
  }

  /**
   * KIP-380 (2.2, KafkaApis.isBrokerEpochStale): a request for an earlier registration of this broker (-1: the
   * controller does not say). A 2.1 broker has no such check.
   */
  private isBrokerEpochStale(brokerEpoch: number): boolean {
    if (!this.services.compat.brokerEpochs) return false;
    return brokerEpoch !== -1 && brokerEpoch < this.services.brokerEpoch();
  }

  /** ReplicaManager.becomeLeaderOrFollower. */
  handleLeaderAndIsr(from: string, request: LeaderAndIsrRequest): void {
    const respond = (error: KafkaError, partitionErrors: LeaderAndIsrResponse["partitionErrors"]) =>
      this.respondToController(from, "LeaderAndIsrResponse", request.correlationId, error, partitionErrors);
    const fenced = this.fenceControllerRequest(request);
    if (fenced !== "NONE") return respond(fenced, []);
    const errors = new Map<string, KafkaError>();
    const toLeader: [Partition, LeaderAndIsrPartitionState][] = [];
    const toFollower: [Partition, LeaderAndIsrPartitionState][] = [];
    for (const state of request.partitionStates) {
      const key = topicPartitionKey(state.topic, state.partition);
      const existing = this.allPartitions.get(key);
      if (existing !== undefined && state.leaderEpoch <= existing.leaderEpoch) {
        // An older or repeated decision: ignored (Kafka answers STALE_CONTROLLER_EPOCH in ZooKeeper mode).
        errors.set(key, "STALE_CONTROLLER_EPOCH");
        continue;
      }
      if (!state.replicas.includes(this.services.brokerId)) {
        errors.set(key, "UNKNOWN_TOPIC_OR_PARTITION");
        continue;
      }
      const partition = existing ?? this.createPartition(state.topic, state.partition);
      if (partition === null) {
        errors.set(key, "KAFKA_STORAGE_ERROR");
        continue;
      }
      errors.set(key, "NONE");
      (state.leader === this.services.brokerId ? toLeader : toFollower).push([partition, state]);
    }
    this.makeLeaders(toLeader);
    const followers = this.makeFollowers(toFollower, request);
    this.leadershipListener?.onLeadershipChange(
      toLeader.map(([p]) => p),
      followers,
    );
    if (!this.hwCheckpointsStarted) {
      this.hwCheckpointsStarted = true;
      this.services.logManager.scheduleHighWatermarkCheckpoints();
    }
    this.fetcherManager.shutdownIdleFetchers();
    respond(
      "NONE",
      request.partitionStates.map((s) => ({ topic: s.topic, partition: s.partition, error: errors.get(topicPartitionKey(s.topic, s.partition))! })),
    );
  }

  private createPartition(topic: string, partitionId: number): Partition | null {
    const log = this.services.logManager.getOrCreateLog(topic, partitionId);
    if (typeof log === "string") return null;
    const partition = new Partition(topic, partitionId, log, this.services);
    this.allPartitions.set(partition.topicPartition, partition);
    let byId = this.partitionsByTopic.get(topic);
    if (byId === undefined) {
      byId = new Map();
      this.partitionsByTopic.set(topic, byId);
    }
    byId.set(partitionId, partition);
    return partition;
  }

  /** ReplicaManager.makeLeaders: stop fetching, then Partition.makeLeader. */
  private makeLeaders(states: readonly [Partition, LeaderAndIsrPartitionState][]): void {
    if (states.length === 0) return;
    this.fetcherManager.removeFetcherForPartitions(states.map(([p]) => p.topicPartition));
    const nowMs = this.services.nowMs();
    for (const [partition, state] of states) {
      this.isrUpdater.clearPending(partition.topicPartition);
      partition.makeLeader(state, nowMs);
      const context = this.services.context;
      if (context.tracing) {
        context.trace("become-leader", {
          topicPartition: partition.topicPartition,
          leaderEpoch: partition.leaderEpoch,
          isr: [...partition.isr],
          replicas: [...partition.replicas],
          logEndOffset: partition.log.logEndOffset,
          highWatermark: partition.log.highWatermark,
        });
      }
      partition.checkLeaderInvariants();
      if (partition.maybeIncrementLeaderHighWatermark(nowMs, this.lagMs)) this.tryCompleteDelayedRequests(partition.topicPartition);
    }
  }

  /**
   * ReplicaManager.makeFollowers: only when the new leader is known alive (in the request's live leaders or
   * the metadata cache); stop the old fetch, complete parked requests, then fetch from the new leader, which
   * starts with truncation.
   */
  private makeFollowers(states: readonly [Partition, LeaderAndIsrPartitionState][], request: LeaderAndIsrRequest): Partition[] {
    if (states.length === 0) return [];
    const restart = this.services.compat.fetcherRestart;
    const changed: Partition[] = [];
    for (const [partition, state] of states) {
      const leaderAlive =
        state.leader !== NO_LEADER &&
        (request.liveLeaders.some((l) => l.brokerId === state.leader) || this.services.metadataCache.aliveBrokers.has(state.leader));
      if (!leaderAlive) continue;
      this.isrUpdater.clearPending(partition.topicPartition);
      if (partition.makeFollower(state, restart)) changed.push(partition);
      const context = this.services.context;
      if (context.tracing) {
        context.trace("become-follower", {
          topicPartition: partition.topicPartition,
          leaderEpoch: partition.leaderEpoch,
          leader: partition.leaderId,
          logEndOffset: partition.log.logEndOffset,
          highWatermark: partition.log.highWatermark,
        });
      }
    }
    this.fetcherManager.removeFetcherForPartitions(changed.map((p) => p.topicPartition));
    for (const partition of states.map(([p]) => p)) this.tryCompleteDelayedRequests(partition.topicPartition);
    if (!this.stopped) this.fetcherManager.addFetcherForPartitions(changed);
    return changed;
  }

  /** ReplicaManager.maybeUpdateMetadataCache. */
  handleUpdateMetadata(from: string, request: UpdateMetadataRequest): void {
    const error = this.fenceControllerRequest(request);
    if (error === "NONE") this.services.metadataCache.update(request);
    this.services.send(from, typed<UpdateMetadataResponse>({ type: "UpdateMetadataResponse", correlationId: request.correlationId, error, sizeBytes: REQUEST_HEADER_BYTES }));
  }

  /** ReplicaManager.stopReplicas (with KIP-570's per-partition leader epoch check). */
  handleStopReplica(from: string, request: StopReplicaRequest): void {
    const respond = (error: KafkaError, partitionErrors: StopReplicaResponse["partitionErrors"]) =>
      this.respondToController(from, "StopReplicaResponse", request.correlationId, error, partitionErrors);
    const fenced = this.fenceControllerRequest(request);
    if (fenced !== "NONE") return respond(fenced, []);
    const partitionErrors = request.partitions.map(({ topic, partition: partitionId, leaderEpoch, deletePartition }) => {
      const key = topicPartitionKey(topic, partitionId);
      const partition = this.allPartitions.get(key);
      const epochOk = leaderEpoch === EPOCH_DURING_DELETE || leaderEpoch === UNDEFINED_EPOCH || partition === undefined || leaderEpoch > partition.leaderEpoch;
      if (!epochOk) return { topic, partition: partitionId, error: "FENCED_LEADER_EPOCH" as KafkaError };
      this.fetcherManager.removeFetcherForPartitions([key]);
      let error: KafkaError = "NONE";
      if (deletePartition) {
        if (partition !== undefined) partition.hosted = false;
        this.allPartitions.delete(key);
        this.partitionsByTopic.get(topic)?.delete(partitionId);
        this.isrUpdater.clearPending(key);
        error = this.services.logManager.deleteLog(topic, partitionId) ?? "NONE";
      }
      if (this.services.context.tracing) this.services.context.trace("stop-replica", { topicPartition: key, deletePartition });
      // A former leader's parked requests complete now rather than time out.
      this.tryCompleteDelayedRequests(key);
      if (deletePartition && error === "NONE") this.leadershipListener?.onReplicaDeleted(topic, partitionId, leaderEpoch >= 0 ? leaderEpoch : -1);
      return { topic, partition: partitionId, error };
    });
    this.fetcherManager.shutdownIdleFetchers();
    respond("NONE", partitionErrors);
  }

  // ---- Produce (produce.ts) ----

  handleProduce(from: string, request: ProduceRequest): void {
    handleProduce(this, from, request);
  }

  /** ReplicaManager.appendRecords for an internal writer (the group coordinator): the callback gets the results. */
  appendRecords(request: AppendRequest, callback: AppendCallback): void {
    appendRecords(this, request, callback);
  }

  /** The coordinator's answer to a verification (AddPartitionsToTxnManager's completion handler). */
  onAddPartitionsToTxnResponse(from: string, response: AddPartitionsToTxnResponse): void {
    const brokerId = brokerIdOf(from);
    if (this.stopped || brokerId === null) return;
    this.addPartitionsToTxnManager.onResponse(brokerId, response);
  }

  /** KafkaApis.handleWriteTxnMarkersRequest: the leaders' marker appends (txn-markers.ts). */
  handleWriteTxnMarkers(from: string, request: WriteTxnMarkersRequest): void {
    handleWriteTxnMarkers(this, from, request);
  }

  /** appendRecordsToLeader's tail: a single-replica ISR commits at once; parked follower fetches see the new data. */
  onLeaderAppended(partition: Partition): void {
    if (partition.maybeIncrementLeaderHighWatermark(this.services.nowMs(), this.lagMs)) this.tryCompleteDelayedRequests(partition.topicPartition);
    else this.fetchPurgatory.checkAndComplete(partition.topicPartition);
  }

  watchProduce(produce: DelayedProduce, timeoutMs: number): void {
    this.producePurgatory.tryCompleteElseWatch(produce, timeoutMs);
  }

  // ---- Fetch ----

  /**
   * KafkaApis.handleFetchRequest and ReplicaManager.fetchMessages: the fetch session context (KIP-227), then
   * read, record a follower's position, answer now or park the fetch.
   */
  handleFetch(from: string, request: FetchRequest): void {
    const isFollower = request.replicaId >= 0;
    const context = this.fetchManager === null ? legacyContext(request) : this.fetchManager.newContext(request, isFollower, this.services.nowMs());
    const fetches = context.fetches;
    const reads = this.reads;
    const partitions = readFromLocalLog(this, request, fetches, reads, context.changedOnly);
    const errors = reads.errors;
    const metricName = isFollower ? "FetchFollower" : "FetchConsumer";
    const metrics = this.services.metrics;
    metrics.markRequest(metricName);
    // Errors as read now (a parked fetch may answer differently when it completes).
    metrics.markErrors(metricName, errors, partitions.length);
    if (isFollower) {
      const nowMs = this.services.nowMs();
      for (let i = 0; i < partitions.length; i++) {
        if (errors[i] !== "NONE") continue;
        const partition = hostedPartition(this, fetches[i])!;
        const fetch = fetches[i];
        if (!partition.updateFollowerFetchState(request.replicaId, fetch.fetchOffset, nowMs, reads.logEndOffsets[i])) {
          // Not an assigned replica: empty records (Kafka 2.4+); a quiet partition (null) read none.
          const read = partitions[i];
          if (read !== null) read.batches = [];
          reads.sizeBytes[i] = 0;
          continue;
        }
        this.onFollowerFetched(partition, request.replicaId, nowMs);
      }
    }
    let bytesReadable = 0;
    let errorReadingData = false;
    for (let i = 0; i < partitions.length; i++) {
      bytesReadable += reads.sizeBytes[i];
      if (errors[i] !== "NONE") errorReadingData = true;
    }
    if (request.maxWaitMs <= 0 || partitions.length === 0 || bytesReadable >= request.minBytes || errorReadingData) {
      this.services.send(from, context.response(request.correlationId, partitions, reads, this.services.nowMs()));
      return;
    }
    this.fetchPurgatory.tryCompleteElseWatch(new DelayedFetch(this, from, request, context, this.delayedReads), request.maxWaitMs);
  }

  /** Partition.updateFollowerFetchState's tail: maybe expand the ISR, maybe advance the HW, wake waiters. */
  private onFollowerFetched(partition: Partition, followerId: number, nowMs: number): void {
    if (partition.pendingIsr === null && partition.canJoinIsr(followerId)) {
      this.proposeIsr(partition, "expand", [...partition.isr, followerId]);
    }
    if (partition.maybeIncrementLeaderHighWatermark(nowMs, this.lagMs)) this.tryCompleteDelayedRequests(partition.topicPartition);
    else this.producePurgatory.checkAndComplete(partition.topicPartition);
  }

  // ---- ListOffsets and OffsetsForLeaderEpoch ----

  handleListOffsets(from: string, request: ListOffsetsRequest): void {
    const partitions = request.partitions.map((p) => ({ topic: p.topic, partition: p.partition, ...listOffset(this, request, p) }));
    this.services.send(from, typed<ListOffsetsResponse>({
      type: "ListOffsetsResponse",
      correlationId: request.correlationId,
      partitions,
      sizeBytes: REQUEST_HEADER_BYTES + 24 * partitions.length,
    }));
  }

  /** ReplicaManager.lastOffsetForLeaderEpoch: the leader answers from its leader-epoch cache, by mode. */
  handleOffsetsForLeaderEpoch(from: string, request: OffsetsForLeaderEpochRequest): void {
    const mode = this.services.compat.truncation;
    const partitions = request.partitions.map(({ topic, partition: partitionId, currentLeaderEpoch, leaderEpoch }) => {
      const undefinedAnswer = (error: KafkaError) => ({ topic, partition: partitionId, error, leaderEpoch: UNDEFINED_EPOCH, endOffset: -1 });
      const partition = this.partition(topic, partitionId);
      if (partition === undefined) return undefinedAnswer(this.notHostedError(topic, partitionId));
      const epochError = partition.checkCurrentLeaderEpoch(currentLeaderEpoch);
      if (epochError !== "NONE") return undefinedAnswer(epochError);
      if (!partition.isLeader) return undefinedAnswer("NOT_LEADER_OR_FOLLOWER");
      return { topic, partition: partitionId, error: "NONE" as KafkaError, ...leaderEpochEndOffset(mode, partition.log, leaderEpoch, this.services.compat.epochCacheOnElection) };
    });
    this.services.send(from, typed<OffsetsForLeaderEpochResponse>({
      type: "OffsetsForLeaderEpochResponse",
      correlationId: request.correlationId,
      partitions,
      sizeBytes: REQUEST_HEADER_BYTES + 24 * partitions.length,
    }));
  }

  // ---- ISR ----

  private get lagMs(): number {
    return this.services.config["replica.lag.time.max.ms"];
  }

  /**
   * The isr-expiration task's period: ReplicaManager.startup schedules it every `replicaLagTimeMaxMs / 2` (a
   * Long division; the loader requires replica.lag.time.max.ms ≥ 0), so 0 or 1 gives a period of 0. Up to 3.3
   * KafkaScheduler (`if (period >= 0) scheduleAtFixedRate`) then fails the broker's startup; from 3.4
   * (`if (period > 0)`) the task runs once and is never re-armed, so the ISR never shrinks for lag. The model
   * follows 3.4+ (the loader keeps older presets out).
   */
  private get isrExpirationPeriodMs(): number {
    return Math.trunc(this.lagMs / 2);
  }

  private scheduleIsrExpiration(delayMs: number): void {
    if (this.stopped || this.isrExpirationTimer !== null) return;
    this.isrExpirationTimer = this.services.context.setTimer(ms(delayMs), TAG_ISR_EXPIRATION);
  }

  /** The isr-expiration task (Partition.maybeShrinkIsr on every leader partition). */
  maybeShrinkIsr(): void {
    const nowMs = this.services.nowMs();
    for (const partition of this.allPartitions.values()) {
      if (!partition.isLeader || partition.pendingIsr !== null) continue;
      partition.checkLeaderInvariants();
      const outOfSync = partition.outOfSyncReplicas(nowMs, this.lagMs);
      if (outOfSync.length === 0) continue;
      this.proposeIsr(
        partition,
        "shrink",
        partition.isr.filter((id) => !outOfSync.includes(id)),
      );
    }
  }

  private proposeIsr(partition: Partition, kind: PendingIsr["kind"], proposedIsr: number[]): void {
    assert(partition.pendingIsr === null, `${partition.topicPartition}: one ISR change at a time`);
    assert(proposedIsr.includes(this.services.brokerId), `${partition.topicPartition}: the leader stays in the ISR`);
    const maximalIsr = kind === "expand" ? proposedIsr : partition.isr;
    const pending: PendingIsr = { kind, proposedIsr, maximalIsr, leaderEpoch: partition.leaderEpoch };
    partition.pendingIsr = pending;
    this.isrUpdater.submit(partition, pending);
  }

  /** The answer to an ISR change: adopt it (trace isr-shrink / isr-expand) or keep the old ISR. */
  private onIsrUpdateResult(partition: Partition, pending: PendingIsr, outcome: IsrUpdateOutcome): void {
    if (partition.pendingIsr !== pending || !partition.isLeader || partition.leaderEpoch !== pending.leaderEpoch) return;
    const context = this.services.context;
    if (!outcome.ok) {
      if (outcome.revert) partition.pendingIsr = null;
      if (context.tracing) {
        context.trace("isr-update-failed", {
          topicPartition: partition.topicPartition,
          leaderEpoch: partition.leaderEpoch,
          proposedIsr: [...pending.proposedIsr],
          reason: outcome.reason,
        });
      }
      return;
    }
    // Partition's isrChangeListener.markShrink / markExpand, once the change is committed.
    (pending.kind === "expand" ? this.services.metrics.isrExpands : this.services.metrics.isrShrinks).mark();
    const previousIsr = partition.isr;
    partition.isr = [...outcome.isr];
    partition.zkVersion = outcome.zkVersion;
    partition.pendingIsr = null;
    if (context.tracing) {
      context.trace(pending.kind === "expand" ? "isr-expand" : "isr-shrink", {
        topicPartition: partition.topicPartition,
        leaderEpoch: partition.leaderEpoch,
        isr: [...partition.isr],
        previousIsr: [...previousIsr],
        zkVersion: partition.zkVersion,
      });
    }
    partition.checkLeaderInvariants();
    // The ISR may be down to the leader: the HW may move, and acks=all produces may now complete.
    partition.maybeIncrementLeaderHighWatermark(this.services.nowMs(), this.lagMs);
    this.tryCompleteDelayedRequests(partition.topicPartition);
  }

  private tryCompleteDelayedRequests(key: string): void {
    this.producePurgatory.checkAndComplete(key);
    this.fetchPurgatory.checkAndComplete(key);
  }
}
