/**
 * The consumer half of the Java consumer's group coordinator, as Kafka 3.6's ConsumerCoordinator: the JoinGroup
 * protocols (one ConsumerProtocolSubscription per configured assignor, with ownedPartitions and generationId),
 * the leader's assignment (the assignor named by the group's protocol, over the metadata's partition counts; a
 * COOPERATIVE assignment may not hand an owned partition to another member), onJoinPrepare (the auto-commit
 * before a rebalance, waited for up to max.poll.interval.ms; then EAGER revokes everything, COOPERATIVE only
 * unsubscribed topics, and a member whose generation was reset loses its partitions), onJoinComplete (EAGER
 * assigns everything; COOPERATIVE, KIP-429, revokes owned-but-unassigned partitions and rejoins for a second
 * rebalance, and assigns only the added ones), the committed offsets of newly assigned partitions (OffsetFetch,
 * recorded as the `offset-fetch` op), commits (auto-commit in poll, commitSync retried until
 * default.api.timeout.ms, commitAsync; recorded as `commit` ops; OffsetCommitResponseHandler's error handling) and
 * close (auto-commit, revoke, LeaveGroup). Simplifications: the subscription is a fixed topic list (no patterns,
 * no unsubscribe); rebalance callbacks are trace events (partitions-revoked / -assigned / -lost) and listener
 * calls that cannot fail; no interceptors or offset metadata.
 */

import {
  INVALID_OFFSET,
  UNKNOWN_GENERATION_ID,
  UNKNOWN_MEMBER_ID,
  type ConsumerProtocolAssignment,
  type JoinGroupProtocol,
  type JoinGroupResponse,
  type OffsetCommitPartition,
  type OffsetCommitRequest,
  type OffsetCommitResponse,
  type OffsetFetchRequest,
  type OffsetFetchResponse,
  type SyncGroupRequest,
} from "../../protocol/group.ts";
import { REQUEST_HEADER_BYTES, type TopicPartitionRef } from "../../protocol/kafka.ts";
import { assert } from "../../sim/assert.ts";
import { ms, type Micros } from "../../sim/time.ts";
import { AbstractCoordinator, NO_GENERATION, sameGeneration, type CoordinatorHost, type Generation } from "./abstract-coordinator.ts";
import type { ConsumerPartitionAssignor, RebalanceProtocol, Subscription } from "./assignors/partition-assignor.ts";
import { clientError, RequestFuture, type ClientError } from "./request-future.ts";

export type CommitMode = "auto" | "sync" | "async";

/** What the consumer coordinator needs from KafkaConsumer besides the network: its SubscriptionState. */
export interface ConsumerCoordinatorHost extends CoordinatorHost {
  /** The assigned partitions, sorted by topic then partition. */
  assignedPartitions(): TopicPartitionRef[];
  /** SubscriptionState.assignFromSubscribed: partitions kept keep their positions. */
  assignFromSubscribed(partitions: readonly TopicPartitionRef[]): void;
  /** SubscriptionState.allConsumed: the position of every partition that has a valid one. */
  allConsumed(): OffsetCommitPartition[];
  /** Stops fetching and returning records of these partitions until they are revoked. */
  markPendingRevocation(partitions: readonly TopicPartitionRef[]): void;
  /** The assigned partitions awaiting their committed offset (INITIALIZING). */
  initializingPartitions(): TopicPartitionRef[];
  /** seekUnvalidated to a committed offset, if the partition still awaits one. */
  seekToCommitted(partition: TopicPartitionRef, offset: number, leaderEpoch: number): void;
  /** The metadata's partition count of a topic (0: unknown). */
  partitionCount(topic: string): number;
  /** Adds topics to the metadata's interest; true when some were new (a metadata update is then due). */
  addMetadataTopics(topics: readonly string[]): boolean;
  /** ConsumerRebalanceListener, after the trace events. */
  onPartitionsRevoked(partitions: readonly TopicPartitionRef[]): void;
  onPartitionsAssigned(partitions: readonly TopicPartitionRef[]): void;
  onPartitionsLost(partitions: readonly TopicPartitionRef[]): void;
}

/** A commitSync (or close's auto-commit) in progress: retried until its deadline. */
interface SyncCommit {
  readonly opId: number;
  readonly mode: CommitMode;
  readonly offsets: OffsetCommitPartition[];
  readonly deadlineUs: Micros;
  future: RequestFuture<void> | null;
  retryAtUs: Micros;
  readonly done: (error: ClientError | null) => void;
}

interface CloseState {
  phase: "commit" | "async" | "leave" | "await" | "closed";
  readonly deadlineUs: Micros;
  readonly done: () => void;
}

/** KafkaConsumer.DEFAULT_CLOSE_TIMEOUT_MS. */
const CLOSE_TIMEOUT_MS = 30_000;
const COOPERATIVE_STICKY = "cooperative-sticky";

function key(tp: TopicPartitionRef): string {
  return `${tp.topic}-${tp.partition}`;
}

/** ConsumerCoordinator's COMPARATOR: by topic, then partition. */
export function sortPartitions(partitions: readonly TopicPartitionRef[]): TopicPartitionRef[] {
  return [...partitions].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
}

function minus(a: readonly TopicPartitionRef[], b: readonly TopicPartitionRef[]): TopicPartitionRef[] {
  const keys = new Set(b.map(key));
  return a.filter((tp) => !keys.has(key(tp)));
}

/** The highest rebalance protocol every assignor supports (ConsumerCoordinator's constructor); null: none. */
export function commonProtocol(assignors: readonly ConsumerPartitionAssignor[]): RebalanceProtocol | null {
  let common: RebalanceProtocol[] = ["EAGER", "COOPERATIVE"];
  for (const assignor of assignors) common = common.filter((p) => assignor.supportedProtocols.includes(p));
  if (common.length === 0) return null;
  return common.includes("COOPERATIVE") ? "COOPERATIVE" : "EAGER";
}

export class ConsumerCoordinator extends AbstractCoordinator {
  readonly protocol: RebalanceProtocol;
  private readonly autoCommitEnabled: boolean;
  private nextAutoCommitDeadlineUs: Micros;
  private autoCommitOffsetRequestFuture: RequestFuture<void> | null = null;
  private joinPrepareDeadlineUs: Micros | null = null;
  private joinPrepareRetryAtUs: Micros = 0;
  private isLeader = false;
  /** The partition counts the leader assigned from (assignmentSnapshot); null for followers. */
  private assignmentSnapshot: Map<string, number> | null = null;
  /** A leader's assignment waiting for metadata about new topics. */
  private pendingAssignment: { readonly response: JoinGroupResponse; readonly future: RequestFuture<SyncGroupRequest["assignments"]> } | null = null;
  private pendingOffsetFetch: { readonly partitions: string; readonly generation: Generation | null; readonly future: RequestFuture<Map<string, { offset: number; leaderEpoch: number }>> } | null = null;
  private offsetFetchRetryAtUs: Micros = 0;
  private syncCommit: SyncCommit | null = null;
  private inFlightAsyncCommits = 0;
  private nextOpId = 1;
  private closing: CloseState | null = null;

  constructor(
    host: ConsumerCoordinatorHost,
    readonly subscription: readonly string[],
    private readonly assignors: readonly ConsumerPartitionAssignor[],
  ) {
    super(host);
    assert(assignors.length > 0, "a group consumer needs at least one assignor");
    assert(subscription.length > 0, "a group consumer subscribes to at least one topic");
    const protocol = commonProtocol(assignors);
    assert(protocol !== null, "the configured assignors share no rebalance protocol");
    this.protocol = protocol;
    this.autoCommitEnabled = host.config["enable.auto.commit"];
    this.nextAutoCommitDeadlineUs = host.nowUs() + ms(host.config["auto.commit.interval.ms"]);
  }

  private get consumer(): ConsumerCoordinatorHost {
    return this.host as ConsumerCoordinatorHost;
  }

  private lookupAssignor(name: string | null): ConsumerPartitionAssignor | null {
    return this.assignors.find((assignor) => assignor.name === name) ?? null;
  }

  // ---- poll() ----

  /**
   * ConsumerCoordinator.poll (waitForJoinGroup false): pollHeartbeat, the coordinator, the join; then the periodic
   * auto-commit. True when the group is active.
   */
  poll(nowUs: Micros): boolean {
    if (!this.pollHeartbeat(nowUs)) return false;
    if (!this.ensureCoordinatorReady()) return false;
    if (this.rejoinNeededOrPending()) {
      if (!this.joinGroupIfNeeded()) return false;
    }
    this.maybeAutoCommitOffsetsAsync(nowUs);
    return true;
  }

  /** The leader rejoins when the partition counts it assigned from have changed (assignmentSnapshot). */
  override rejoinNeededOrPending(): boolean {
    if (this.assignmentSnapshot !== null) {
      for (const [topic, count] of this.assignmentSnapshot) {
        if (this.consumer.partitionCount(topic) === count) continue;
        this.requestRejoinIfNecessary("cached metadata has changed");
        return true;
      }
    }
    return super.rejoinNeededOrPending();
  }

  /** A metadata update arrived: a leader waiting for it assigns now. */
  onMetadataUpdate(): void {
    const pending = this.pendingAssignment;
    if (pending === null) return;
    this.pendingAssignment = null;
    this.assign(pending.response, pending.future);
  }

  // ---- The join ----

  protected metadata(): JoinGroupProtocol[] {
    const topics = [...this.subscription];
    const ownedPartitions = this.consumer.assignedPartitions();
    return this.assignors.map((assignor) => ({
      name: assignor.name,
      metadata: { topics, userData: assignor.subscriptionUserData(topics), ownedPartitions, generationId: this.generation.generationId },
    }));
  }

  protected onLeaderElected(response: JoinGroupResponse): RequestFuture<SyncGroupRequest["assignments"]> {
    const future = new RequestFuture<SyncGroupRequest["assignments"]>();
    this.isLeader = true;
    const topics = new Set<string>();
    for (const member of response.members) for (const topic of member.metadata.topics) topics.add(topic);
    // updateGroupSubscription: the leader watches every member's topics; new ones need fresh metadata first.
    if (this.consumer.addMetadataTopics([...topics].sort())) {
      this.consumer.requestMetadataUpdate();
      this.pendingAssignment = { response, future };
      return future;
    }
    this.assign(response, future);
    return future;
  }

  /** performAssignment with the assignor the group's protocol names. */
  private assign(response: JoinGroupResponse, future: RequestFuture<SyncGroupRequest["assignments"]>): void {
    const assignor = this.lookupAssignor(response.protocolName);
    if (assignor === null) {
      future.raise({ name: "IllegalStateException", retriable: false });
      return;
    }
    if (response.skipAssignment) {
      // KIP-814: a static leader replaced without a rebalance keeps its assignment.
      future.complete([]);
      return;
    }
    const subscriptions = new Map<string, Subscription>();
    const topics = new Set<string>();
    for (const member of response.members) {
      const { topics: memberTopics, userData, ownedPartitions, generationId } = member.metadata;
      subscriptions.set(member.memberId, { topics: memberTopics, userData, ownedPartitions, generationId, groupInstanceId: member.groupInstanceId });
      for (const topic of memberTopics) topics.add(topic);
    }
    const partitionsPerTopic = new Map<string, number>();
    for (const topic of [...topics].sort()) {
      const count = this.consumer.partitionCount(topic);
      if (count > 0) partitionsPerTopic.set(topic, count);
    }
    const assignments = assignor.assign(partitionsPerTopic, subscriptions);
    if (this.protocol === "COOPERATIVE" && assignor.name !== COOPERATIVE_STICKY && !this.validCooperativeAssignment(subscriptions, assignments)) {
      future.raise({ name: "IllegalStateException", retriable: false });
      return;
    }
    this.assignmentSnapshot = new Map([...topics].sort().map((topic) => [topic, this.consumer.partitionCount(topic)]));
    this.host.traceEvent("consumer-assignment-computed", {
      ...this.memberFields,
      assignor: assignor.name,
      assignment: Object.fromEntries([...assignments].map(([member, partitions]) => [member, sortPartitions(partitions).map(key)])),
    });
    future.complete(response.members.map((member) => ({ memberId: member.memberId, assignment: { assignedPartitions: assignments.get(member.memberId) ?? [], userData: null } })));
  }

  /** validateCooperativeAssignment: no partition moves straight from one owner to another. */
  private validCooperativeAssignment(subscriptions: ReadonlyMap<string, Subscription>, assignments: ReadonlyMap<string, TopicPartitionRef[]>): boolean {
    const added = new Set<string>();
    const revoked = new Set<string>();
    for (const [member, partitions] of assignments) {
      const owned = subscriptions.get(member)?.ownedPartitions ?? [];
      for (const tp of minus(partitions, owned)) added.add(key(tp));
      for (const tp of minus(owned, partitions)) revoked.add(key(tp));
    }
    for (const tp of added) if (revoked.has(tp)) return false;
    return true;
  }

  protected onJoinPrepare(generationId: number, memberId: string): boolean {
    const now = this.host.nowUs();
    if (this.joinPrepareDeadlineUs === null) this.joinPrepareDeadlineUs = now + ms(this.host.config["max.poll.interval.ms"]);
    if (now < this.joinPrepareRetryAtUs) {
      this.host.wakeMainAt(this.joinPrepareRetryAtUs);
      return false;
    }
    // The auto-commit before a rebalance, unless one is in flight.
    if (this.autoCommitEnabled && this.autoCommitOffsetRequestFuture === null) {
      if (this.protocol === "EAGER") this.consumer.markPendingRevocation(this.consumer.assignedPartitions());
      this.autoCommitOffsetRequestFuture = this.autoCommitOffsetsAsync();
    }
    const future = this.autoCommitOffsetRequestFuture;
    if (future !== null) {
      let completed = true;
      if (now >= this.joinPrepareDeadlineUs) completed = true;
      else if (!future.isDone) completed = false;
      else if (future.failed && future.isRetriable) completed = false;
      if (future.isDone) this.autoCommitOffsetRequestFuture = null;
      if (!completed) {
        if (future.isDone) this.joinPrepareRetryAtUs = now + Math.min(ms(this.host.config["retry.backoff.ms"]), this.joinPrepareDeadlineUs - now);
        this.host.wakeMainAt(future.isDone ? this.joinPrepareRetryAtUs : this.joinPrepareDeadlineUs);
        return false;
      }
    }
    const owned = this.consumer.assignedPartitions();
    if (generationId === NO_GENERATION.generationId || memberId === NO_GENERATION.memberId) {
      // The generation was reset (heartbeat errors, poll timeout): whatever was owned is lost.
      if (owned.length > 0) {
        this.partitionsEvent("partitions-lost", owned);
        this.consumer.assignFromSubscribed([]);
        this.consumer.onPartitionsLost(owned);
      }
    } else if (this.protocol === "EAGER") {
      if (owned.length > 0) this.partitionsEvent("partitions-revoked", owned);
      this.consumer.onPartitionsRevoked(owned);
      this.consumer.assignFromSubscribed([]);
    } else {
      const revoked = owned.filter((tp) => !this.subscription.includes(tp.topic));
      if (revoked.length > 0) {
        this.partitionsEvent("partitions-revoked", revoked);
        this.consumer.onPartitionsRevoked(revoked);
        this.consumer.assignFromSubscribed(minus(owned, revoked));
      }
    }
    this.isLeader = false;
    this.pendingAssignment = null;
    this.joinPrepareDeadlineUs = null;
    this.autoCommitOffsetRequestFuture = null;
    return true;
  }

  /**
   * KafkaConsumer.groupMetadata (KIP-447), what a transactional producer's TxnOffsetCommit carries: set when a
   * join completes and never reset (ConsumerCoordinator.groupMetadata), so a member that lost its generation still
   * presents its last one — and the group coordinator fences its offsets (ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID).
   */
  groupMetadata: { readonly groupId: string; readonly generationId: number; readonly memberId: string; readonly groupInstanceId: string | null } = {
    groupId: this.groupId,
    generationId: UNKNOWN_GENERATION_ID,
    memberId: UNKNOWN_MEMBER_ID,
    groupInstanceId: this.groupInstanceId,
  };

  protected onJoinComplete(generation: Generation, assignment: ConsumerProtocolAssignment): void {
    if (!this.isLeader) this.assignmentSnapshot = null;
    const assignor = this.lookupAssignor(generation.protocolName);
    if (assignor === null) {
      this.fatalError = { name: "IllegalStateException", retriable: false };
      return;
    }
    this.groupMetadata = { groupId: this.groupId, generationId: generation.generationId, memberId: generation.memberId, groupInstanceId: this.groupInstanceId };
    const owned = this.consumer.assignedPartitions();
    const assigned = sortPartitions(assignment.assignedPartitions);
    if (assigned.some((tp) => !this.subscription.includes(tp.topic))) {
      this.requestRejoin("received assignment does not match the current subscription");
      return;
    }
    const added = minus(assigned, owned);
    this.host.traceEvent("consumer-group-joined", {
      process: this.host.config["client.id"],
      ...this.memberFields,
      leader: this.isLeader,
      protocol: generation.protocolName,
      rebalanceProtocol: this.protocol,
    });
    if (this.protocol === "COOPERATIVE") {
      const revoked = minus(owned, assigned);
      if (revoked.length > 0) {
        // KIP-429: give up what moves, then rejoin so the next rebalance can hand it out.
        this.partitionsEvent("partitions-revoked", revoked);
        this.consumer.onPartitionsRevoked(revoked);
        this.requestRejoin("need to revoke partitions and re-join");
      }
    }
    assignor.onAssignment(assigned, generation.generationId);
    if (this.autoCommitEnabled) this.nextAutoCommitDeadlineUs = this.host.nowUs() + ms(this.host.config["auto.commit.interval.ms"]);
    this.consumer.assignFromSubscribed(assigned);
    this.partitionsEvent("partitions-assigned", added);
    this.consumer.onPartitionsAssigned(added);
  }

  private partitionsEvent(kind: "partitions-assigned" | "partitions-revoked" | "partitions-lost", partitions: readonly TopicPartitionRef[]): void {
    this.host.traceEvent(kind, { process: this.host.config["client.id"], ...this.memberFields, partitions: partitions.map(key), protocol: this.protocol });
  }

  // ---- Committed offsets ----

  /**
   * refreshCommittedOffsetsIfNeeded as a step: the committed offsets of the partitions awaiting them (one
   * OffsetFetch, reused while the same partitions and generation wait); true once none await.
   */
  refreshCommittedOffsetsIfNeeded(): boolean {
    const partitions = this.consumer.initializingPartitions();
    if (partitions.length === 0) return true;
    const asked = partitions.map(key).join(",");
    const generation = this.generationIfStable();
    const pending = this.pendingOffsetFetch;
    if (pending !== null && (pending.partitions !== asked || !sameNullableGeneration(pending.generation, generation))) this.pendingOffsetFetch = null;
    if (!this.ensureCoordinatorReady()) return false;
    const now = this.host.nowUs();
    if (this.pendingOffsetFetch === null) {
      if (now < this.offsetFetchRetryAtUs) {
        this.host.wakeMainAt(this.offsetFetchRetryAtUs);
        return false;
      }
      this.pendingOffsetFetch = { partitions: asked, generation, future: this.sendOffsetFetchRequest(partitions) };
    }
    const future = this.pendingOffsetFetch.future;
    if (!future.isDone) return false;
    this.pendingOffsetFetch = null;
    if (future.failed) {
      if (!future.isRetriable) this.fatalError = future.error;
      else {
        this.offsetFetchRetryAtUs = now + ms(this.host.config["retry.backoff.ms"]);
        this.host.wakeMainAt(this.offsetFetchRetryAtUs);
      }
      return false;
    }
    const offsets = future.value;
    this.host.traceEvent("op", {
      process: this.host.config["client.id"],
      type: "ok",
      f: "offset-fetch",
      ...this.memberFields,
      offsets: partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition, offset: offsets.get(key(tp))?.offset ?? INVALID_OFFSET })),
    });
    for (const tp of partitions) {
      const committed = offsets.get(key(tp));
      if (committed !== undefined && committed.offset >= 0) this.consumer.seekToCommitted(tp, committed.offset, committed.leaderEpoch);
    }
    return true;
  }

  private sendOffsetFetchRequest(partitions: readonly TopicPartitionRef[]): RequestFuture<Map<string, { offset: number; leaderEpoch: number }>> {
    const sent = this.sendToCoordinator(
      (correlationId): OffsetFetchRequest => ({
        type: "OffsetFetch",
        correlationId,
        groupId: this.groupId,
        partitions: partitions.map(({ topic, partition }) => ({ topic, partition })),
        requireStable: true,
        sizeBytes: REQUEST_HEADER_BYTES + 24 + 8 * partitions.length,
      }),
      "OffsetFetchResponse",
    );
    sent.addListener({ onSuccess: () => this.host.wakeMain(), onFailure: () => this.host.wakeMain() });
    return this.compose(sent, (message, future) => {
      const response = message as OffsetFetchResponse;
      // OffsetFetchResponseHandler.
      if (response.error !== "NONE") {
        this.host.traceEvent("consumer-offset-fetch-error", { ...this.memberFields, error: response.error });
        if (response.error === "COORDINATOR_LOAD_IN_PROGRESS") future.raise(response.error);
        else if (response.error === "NOT_COORDINATOR") {
          this.markCoordinatorUnknown(`error response ${response.error}`);
          future.raise(response.error);
        } else future.raise({ name: response.error, retriable: false });
        return;
      }
      const offsets = new Map<string, { offset: number; leaderEpoch: number }>();
      let unstable = false;
      for (const answer of response.partitions) {
        if (answer.error === "UNSTABLE_OFFSET_COMMIT") unstable = true;
        else if (answer.error !== "NONE") {
          future.raise({ name: answer.error, retriable: false });
          return;
        } else offsets.set(key(answer), { offset: answer.committedOffset, leaderEpoch: answer.committedLeaderEpoch });
      }
      if (unstable) future.raise("UNSTABLE_OFFSET_COMMIT");
      else future.complete(offsets);
    });
  }

  // ---- Commits ----

  /** maybeAutoCommitOffsetsAsync(now): the auto-commit when its interval has passed. */
  private maybeAutoCommitOffsetsAsync(nowUs: Micros): void {
    if (!this.autoCommitEnabled) return;
    if (nowUs < this.nextAutoCommitDeadlineUs) {
      this.host.wakeMainAt(this.nextAutoCommitDeadlineUs);
      return;
    }
    this.nextAutoCommitDeadlineUs = nowUs + ms(this.host.config["auto.commit.interval.ms"]);
    this.host.wakeMainAt(this.nextAutoCommitDeadlineUs);
    this.autoCommitOffsetsAsync();
  }

  /** autoCommitOffsetsAsync: the positions, asynchronously; a retriable failure brings the next one closer. */
  private autoCommitOffsetsAsync(): RequestFuture<void> | null {
    const offsets = this.consumer.allConsumed();
    if (offsets.length === 0) return null;
    const future = this.commitOffsetsAsync(offsets, "auto");
    future.addListener({
      onSuccess: () => {},
      onFailure: (error) => {
        if (error.retriable) this.nextAutoCommitDeadlineUs = this.host.nowUs() + ms(this.host.config["retry.backoff.ms"]);
      },
    });
    return future;
  }

  /** commitAsync(): the positions (or the given offsets), once, without retries. */
  commitAsync(offsets: OffsetCommitPartition[] | null = null): RequestFuture<void> | null {
    const committing = offsets ?? this.consumer.allConsumed();
    if (committing.length === 0) return null;
    return this.commitOffsetsAsync(committing, "async");
  }

  private commitOffsetsAsync(offsets: OffsetCommitPartition[], mode: CommitMode): RequestFuture<void> {
    const opId = this.commitInvoke(mode, offsets);
    const result = new RequestFuture<void>();
    this.inFlightAsyncCommits++;
    result.addListener({
      onSuccess: () => this.commitCompleted(opId, mode, offsets, null),
      onFailure: (error) => this.commitCompleted(opId, mode, offsets, error),
    });
    const doCommit = (): void => {
      const sent = this.sendOffsetCommitRequest(offsets);
      sent.addListener({
        onSuccess: () => result.complete(undefined),
        // A retriable failure reaches the callback as RetriableCommitFailedException.
        onFailure: (error) => result.raise(error.retriable ? { name: error.name, retriable: true } : error),
      });
    };
    if (!this.coordinatorUnknown()) doCommit();
    else {
      const lookup = this.lookupCoordinator();
      if (lookup === null) result.raise(clientError("COORDINATOR_NOT_AVAILABLE"));
      else lookup.addListener({ onSuccess: doCommit, onFailure: (error) => result.raise({ name: error.name, retriable: true }) });
    }
    return result;
  }

  /**
   * commitSync(): the positions (or the given offsets), retrying retriable errors until default.api.timeout.ms
   * (or `timeoutMs`); `done` gets null, the exception (CommitFailedException…), or TimeoutException.
   */
  commitSync(offsets: OffsetCommitPartition[] | null, done: (error: ClientError | null) => void, mode: CommitMode = "sync", timeoutMs?: number): void {
    assert(this.syncCommit === null, "one commitSync at a time");
    const committing = offsets ?? this.consumer.allConsumed();
    if (committing.length === 0) {
      done(null);
      return;
    }
    const deadlineUs = this.host.nowUs() + ms(timeoutMs ?? this.host.config["default.api.timeout.ms"]);
    this.syncCommit = { opId: this.commitInvoke(mode, committing), mode, offsets: committing, deadlineUs, future: null, retryAtUs: 0, done };
    this.stepSyncCommit();
  }

  get commitSyncInProgress(): boolean {
    return this.syncCommit !== null;
  }

  /** One turn of commitOffsetsSync's loop. */
  stepSyncCommit(): void {
    const commit = this.syncCommit;
    if (commit === null) return;
    const now = this.host.nowUs();
    if (commit.future !== null) {
      if (!commit.future.isDone) {
        // client.poll(future, timer) gives up when the timer expires; the request's outcome is then unknown.
        if (now >= commit.deadlineUs) return this.finishSyncCommit(commit, { name: "TimeoutException", retriable: true });
        this.host.wakeMainAt(commit.deadlineUs);
        return;
      }
      const future = commit.future;
      commit.future = null;
      if (future.succeeded) return this.finishSyncCommit(commit, null);
      if (!future.isRetriable) return this.finishSyncCommit(commit, future.error);
      commit.retryAtUs = now + ms(this.host.config["retry.backoff.ms"]);
    }
    if (now >= commit.deadlineUs) return this.finishSyncCommit(commit, { name: "TimeoutException", retriable: true });
    this.host.wakeMainAt(commit.deadlineUs);
    if (now < commit.retryAtUs) {
      this.host.wakeMainAt(commit.retryAtUs);
      return;
    }
    if (!this.ensureCoordinatorReady()) return;
    commit.future = this.sendOffsetCommitRequest(commit.offsets);
    commit.future.addListener({ onSuccess: () => this.host.wakeMain(), onFailure: () => this.host.wakeMain() });
  }

  private finishSyncCommit(commit: SyncCommit, error: ClientError | null): void {
    this.syncCommit = null;
    this.commitCompleted(commit.opId, commit.mode, commit.offsets, error, false);
    commit.done(error);
  }

  private commitInvoke(mode: CommitMode, offsets: readonly OffsetCommitPartition[]): number {
    const opId = this.nextOpId++;
    this.commitOp("invoke", opId, mode, offsets, null);
    return opId;
  }

  private commitCompleted(opId: number, mode: CommitMode, offsets: readonly OffsetCommitPartition[], error: ClientError | null, async = true): void {
    if (async) this.inFlightAsyncCommits--;
    if (error === null) this.commitOp("ok", opId, mode, offsets, null);
    else this.commitOp(commitOutcomeUnknown(error) ? "info" : "fail", opId, mode, offsets, error.name);
    this.host.wakeMain();
  }

  private commitOp(type: "invoke" | "ok" | "fail" | "info", opId: number, mode: CommitMode, offsets: readonly OffsetCommitPartition[], error: string | null): void {
    this.host.traceEvent("op", {
      process: this.host.config["client.id"],
      type,
      f: "commit",
      opId,
      mode,
      ...this.memberFields,
      offsets: offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.committedOffset })),
      ...(error === null ? {} : { error }),
    });
  }

  /** sendOffsetCommitRequest: with the generation if STABLE; outside an active group the commit fails at once. */
  private sendOffsetCommitRequest(offsets: readonly OffsetCommitPartition[]): RequestFuture<void> {
    if (this.coordinatorUnknown()) return RequestFuture.failure("COORDINATOR_NOT_AVAILABLE");
    const generation = this.generationIfStable();
    if (generation === null) {
      return RequestFuture.failure(this.rebalanceInProgress() ? { name: "RebalanceInProgressException", retriable: false } : { name: "CommitFailedException", retriable: false });
    }
    const sent = this.sendToCoordinator(
      (correlationId): OffsetCommitRequest => ({
        type: "OffsetCommit",
        correlationId,
        groupId: this.groupId,
        generationId: generation.generationId,
        memberId: generation.memberId,
        groupInstanceId: this.groupInstanceId,
        partitions: offsets,
        sizeBytes: REQUEST_HEADER_BYTES + 48 + 24 * offsets.length,
      }),
      "OffsetCommitResponse",
    );
    return this.compose<void>(sent, (message, future) => this.handleOffsetCommitResponse(message as OffsetCommitResponse, generation, future));
  }

  /** OffsetCommitResponseHandler: the first partition error decides. */
  private handleOffsetCommitResponse(response: OffsetCommitResponse, sentGeneration: Generation, future: RequestFuture<void>): void {
    this.host.coordinatorMetrics.recordCommit(this.responseLatencyMs, this.host.nowUs());
    for (const answer of response.partitions) {
      const error = answer.error;
      if (error === "NONE") continue;
      switch (error) {
        case "OFFSET_METADATA_TOO_LARGE":
        case "INVALID_COMMIT_OFFSET_SIZE":
          future.raise({ name: error, retriable: false });
          return;
        case "COORDINATOR_LOAD_IN_PROGRESS":
        case "UNKNOWN_TOPIC_OR_PARTITION":
          future.raise(error);
          return;
        case "COORDINATOR_NOT_AVAILABLE":
        case "NOT_COORDINATOR":
        case "REQUEST_TIMED_OUT":
          this.markCoordinatorUnknown(`error response ${error}`);
          future.raise(error);
          return;
        case "FENCED_INSTANCE_ID":
          if (sameGeneration(this.generation, sentGeneration)) future.raise({ name: error, retriable: false });
          else future.raise({ name: this.state === "PREPARING_REBALANCE" ? "RebalanceInProgressException" : "CommitFailedException", retriable: false });
          return;
        case "REBALANCE_IN_PROGRESS":
          this.requestRejoin("offset commit failed since group is already rebalancing");
          future.raise({ name: "RebalanceInProgressException", retriable: false });
          return;
        case "UNKNOWN_MEMBER_ID":
        case "ILLEGAL_GENERATION":
          if (!sameGeneration(this.generation, sentGeneration) && this.state === "PREPARING_REBALANCE") {
            future.raise({ name: "RebalanceInProgressException", retriable: false });
          } else {
            this.resetStateOnResponseError("OFFSET_COMMIT", error, error !== "ILLEGAL_GENERATION");
            future.raise({ name: "CommitFailedException", retriable: false });
          }
          return;
        default:
          future.raise({ name: error, retriable: false });
          return;
      }
    }
    future.complete(undefined);
  }

  // ---- close() ----

  /**
   * ConsumerCoordinator.close: the auto-commit (sync, bounded by the close timeout), the async commits in
   * flight, then the heartbeat thread stops and, with internal.leave.group.on.close, the partitions are revoked
   * (lost, if the generation is gone or a rebalance runs) and a dynamic member sends LeaveGroup; `done` once the
   * coordinator's requests are answered or the close timeout passes.
   */
  close(done: () => void): void {
    assert(this.closing === null, "a consumer closes once");
    this.closing = { phase: "commit", deadlineUs: this.host.nowUs() + ms(CLOSE_TIMEOUT_MS), done };
    if (this.autoCommitEnabled && this.syncCommit === null) {
      const remainingMs = CLOSE_TIMEOUT_MS;
      this.commitSync(null, () => this.stepClose(), "auto", remainingMs);
      if (this.syncCommit !== null) return;
    }
    this.stepClose();
  }

  get isClosed(): boolean {
    return this.closing?.phase === "closed";
  }

  /** One turn of close(). */
  stepClose(): void {
    const closing = this.closing;
    if (closing === null || closing.phase === "closed") return;
    const now = this.host.nowUs();
    const expired = now >= closing.deadlineUs;
    if (closing.phase === "commit") {
      if (this.syncCommit !== null) return;
      closing.phase = "async";
    }
    if (closing.phase === "async") {
      if (this.inFlightAsyncCommits > 0 && !expired) {
        this.host.wakeMainAt(closing.deadlineUs);
        return;
      }
      closing.phase = "leave";
    }
    if (closing.phase === "leave") {
      this.closeHeartbeatThread();
      if (this.host.config["internal.leave.group.on.close"]) {
        this.onLeavePrepare();
        this.maybeLeaveGroup("the consumer is being closed");
      }
      closing.phase = "await";
    }
    if (closing.phase === "await") {
      if (this.hasPendingToCoordinator() && !expired) {
        this.host.wakeMainAt(closing.deadlineUs);
        return;
      }
      closing.phase = "closed";
      this.host.traceEvent("consumer-closed", { process: this.host.config["client.id"], ...this.memberFields });
      closing.done();
    }
  }

  /** onLeavePrepare: revoke (or lose, without a generation or during a rebalance) every owned partition. */
  private onLeavePrepare(): void {
    const owned = this.consumer.assignedPartitions();
    if (owned.length === 0) return;
    const lost = this.generation.generationId === NO_GENERATION.generationId || this.generation.memberId === NO_GENERATION.memberId || this.rebalanceInProgress();
    this.partitionsEvent(lost ? "partitions-lost" : "partitions-revoked", owned);
    if (lost) this.consumer.onPartitionsLost(owned);
    else this.consumer.onPartitionsRevoked(owned);
    this.consumer.assignFromSubscribed([]);
  }

  private hasPendingToCoordinator(): boolean {
    return this.hasPending("OffsetCommitResponse") || this.hasPending("LeaveGroupResponse");
  }
}

function sameNullableGeneration(a: Generation | null, b: Generation | null): boolean {
  if (a === null || b === null) return a === b;
  return sameGeneration(a, b);
}

/**
 * Whether a failed commit may still have been applied: a lost connection or timeout, or the coordinator's
 * REQUEST_TIMED_OUT / COORDINATOR_NOT_AVAILABLE / NOT_COORDINATOR, which it also answers when the append to
 * __consumer_offsets did not complete in time (GroupMetadataManager.maybeConvertOffsetCommitError).
 */
function commitOutcomeUnknown(error: ClientError): boolean {
  return ["DisconnectException", "TimeoutException", "REQUEST_TIMED_OUT", "COORDINATOR_NOT_AVAILABLE", "NOT_COORDINATOR"].includes(error.name);
}
