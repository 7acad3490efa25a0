/**
 * One partition as a broker hosts it (Partition.scala + Replica.scala): its local log, the leader and leader
 * epoch the controller last assigned, the replicas, the ISR (committed, plus an ISR change in flight), the
 * partition epoch (zkVersion) and, on the leader, what it knows of each follower (logEndOffset,
 * lastCaughtUpTimeMs). It computes the leader's high watermark and the ISR decisions; ReplicaManager drives it.
 * Simplifications: no future replicas (alter log dirs), no log-start-offset low watermark, no fetch sessions.
 */

import type { LeaderAndIsrPartitionState, KafkaError } from "../../protocol/kafka.ts";
import { UNDEFINED_EPOCH } from "../../protocol/kafka.ts";
import { assert } from "../../sim/assert.ts";
import type { Log } from "../log/log.ts";
import type { BrokerServices } from "../services.ts";
import type { FetcherRestart } from "../config.ts";

/** The leader's view of a follower (Replica.scala). logEndOffset -1 = unknown (UnknownOffsetMetadata). */

/**
 * "Never caught up". Kafka resets to 0L, which with its epoch-millisecond clock is decades ago; the simulated
 * clocks start at 0, so 0 would read as "just now" for the first replica.lag.time.max.ms of a run.
 */
const NEVER_MS = Number.MIN_SAFE_INTEGER;

export interface RemoteReplica {
  readonly brokerId: number;
  logEndOffset: number;
  lastCaughtUpTimeMs: number;
  lastFetchLeaderLogEndOffset: number;
  lastFetchTimeMs: number;
}

/** An ISR change sent to ZooKeeper or the controller and not yet answered (IsrState's Pending states). */
export interface PendingIsr {
  readonly kind: "expand" | "shrink";
  readonly proposedIsr: number[];
  /** The ISR the high watermark is computed over while pending: current ∪ the replica being added. */
  readonly maximalIsr: number[];
  readonly leaderEpoch: number;
}

/** A topic's min.insync.replicas (LogConfig): its override, else the broker's setting. */
function topicMinInsyncReplicas(services: BrokerServices, topic: string): number {
  const override = services.topicConfig(topic)["min.insync.replicas"];
  return override === undefined ? services.config["min.insync.replicas"] : Number(override);
}

export type HighWatermarkRole = "leader" | "follower";

export class Partition {
  readonly topicPartition: string;
  /** The current leader's broker id (leaderReplicaIdOpt); -1 before the first LeaderAndIsr. */
  leaderId = -1;
  leaderEpoch = UNDEFINED_EPOCH;
  /** The partition state znode's version (partition epoch), the base of every conditional ISR write. */
  zkVersion = -1;
  /** The epoch of the controller that made the last leadership decision, written back with ISR changes. */
  controllerEpoch = -1;
  replicas: number[] = [];
  /** The committed ISR. */
  isr: number[] = [];
  pendingIsr: PendingIsr | null = null;
  /** The log end offset when this broker became leader at the current epoch (expansion needs followers past it). */
  leaderEpochStartOffset: number | null = null;
  readonly remoteReplicas = new Map<number, RemoteReplica>();
  /** The last LSO traced as txn-lso (-1: none yet). */
  private tracedLastStableOffset = -1;
  /** The HW when the current leadership began; the leader's HW never decreases below it. */
  private leaderHighWatermarkFloor = -1;
  /**
   * Still the ReplicaManager's partition for its topic-partition: false once StopReplica deleted it. A reference
   * kept elsewhere (a fetch session's partition) stands for ReplicaManager.partition() while this is true.
   */
  hosted = true;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly log: Log,
    private readonly services: BrokerServices,
  ) {
    this.topicPartition = `${topic}-${partition}`;
  }

  get brokerId(): number {
    return this.services.brokerId;
  }

  get isLeader(): boolean {
    return this.leaderId === this.brokerId;
  }

  /** The ISR the high watermark counts: the committed ISR plus a replica being added (IsrState.maximalIsr). */
  get maximalIsr(): number[] {
    return this.pendingIsr === null ? this.isr : this.pendingIsr.maximalIsr;
  }

  /**
   * Partition.makeLeader: adopt the controller's state, stamp the new epoch at the log end (so followers with
   * entries from later epochs can truncate correctly; KAFKA-7415, 2.1+, compat.epochCacheOnElection — before,
   * the epoch reaches the cache with the leader's first append in it), reset the followers' fetch state.
   * Returns whether this broker was not the leader before.
   */
  makeLeader(state: LeaderAndIsrPartitionState, nowMs: number): boolean {
    assert(state.leader === this.brokerId, `${this.topicPartition}: makeLeader for another leader`);
    assert(state.isr.includes(this.brokerId), `${this.topicPartition}: a new leader must be in its own ISR`);
    const isNewLeader = !this.isLeader;
    this.controllerEpoch = state.controllerEpoch;
    this.replicas = [...state.replicas];
    this.isr = [...state.isr];
    this.pendingIsr = null;
    this.leaderEpoch = state.leaderEpoch;
    this.zkVersion = state.zkVersion;
    const leaderEndOffset = this.log.logEndOffset;
    this.leaderEpochStartOffset = leaderEndOffset;
    if (this.services.compat.epochCacheOnElection) this.log.maybeAssignEpochStartOffset(state.leaderEpoch, leaderEndOffset);
    for (const id of [...this.remoteReplicas.keys()]) if (!this.replicas.includes(id)) this.remoteReplicas.delete(id);
    for (const id of this.replicas) {
      if (id === this.brokerId) continue;
      let replica = this.remoteReplicas.get(id);
      if (replica === undefined) {
        replica = { brokerId: id, logEndOffset: -1, lastCaughtUpTimeMs: NEVER_MS, lastFetchLeaderLogEndOffset: -1, lastFetchTimeMs: NEVER_MS };
        this.remoteReplicas.set(id, replica);
      }
      this.resetReplicaState(replica, leaderEndOffset, nowMs, isNewLeader);
    }
    this.leaderId = this.brokerId;
    this.leaderHighWatermarkFloor = this.log.highWatermark;
    return isNewLeader;
  }

  /**
   * Replica.resetReplicaState (3.3+; before, Partition.makeLeader's resetLastCaughtUpTime loop followed, for a new
   * leader, by updateLogReadResult(UnknownLogReadResult) in 2.0 / updateFetchState(Unknown…, 0, -1) in 2.1–3.2):
   * an ISR follower counts as caught up now, any other as never. A new leader forgets what it knew of the
   * follower: log end offset unknown, and no previous fetch (lastFetchLeaderLogEndOffset -1, lastFetchTimeMs
   * "never"), so the follower's first fetch marks it caught up only if it reaches the leader's log end as of that
   * fetch. A re-elected leader keeps the log end offset and records the election as the previous fetch: the log
   * end at election and, for an ISR follower, now; for any other follower, from 3.3.0 (compat.
   * reelectionResetsNonIsrFetchTime) "never", before it now too, so that follower's first fetch at or past the
   * election log end marks it caught up as of the election and holds the HW back for replica.lag.time.max.ms.
   */
  private resetReplicaState(replica: RemoteReplica, leaderEndOffset: number, nowMs: number, isNewLeader: boolean): void {
    const isFollowerInSync = this.isr.includes(replica.brokerId);
    replica.lastCaughtUpTimeMs = isFollowerInSync ? nowMs : NEVER_MS;
    if (isNewLeader) {
      replica.logEndOffset = -1;
      replica.lastFetchLeaderLogEndOffset = -1;
      replica.lastFetchTimeMs = NEVER_MS;
    } else {
      replica.lastFetchLeaderLogEndOffset = leaderEndOffset;
      replica.lastFetchTimeMs = isFollowerInSync || !this.services.compat.reelectionResetsNonIsrFetchTime ? nowMs : NEVER_MS;
    }
  }

  /**
   * Partition.makeFollower: adopt leader, epoch, ISR and replicas. Returns whether the fetcher must (re)start
   * (compat.fetcherRestart, KAFKA-7164): always on a new leader; with the same leader on any epoch change (2.1.0+),
   * only when the epoch skipped one (2.0.1's backport), or never (2.0.0 and before: a follower that missed an
   * intermediate leader keeps fetching without truncating).
   */
  makeFollower(state: LeaderAndIsrPartitionState, restart: FetcherRestart): boolean {
    const oldLeaderEpoch = this.leaderEpoch;
    const oldLeader = this.leaderId;
    this.controllerEpoch = state.controllerEpoch;
    this.replicas = [...state.replicas];
    this.isr = [...state.isr];
    this.pendingIsr = null;
    this.leaderEpoch = state.leaderEpoch;
    this.leaderEpochStartOffset = null;
    this.zkVersion = state.zkVersion;
    this.remoteReplicas.clear();
    this.leaderId = state.leader;
    this.leaderHighWatermarkFloor = -1;
    if (oldLeader !== state.leader) return true;
    if (restart === "epoch-change") return state.leaderEpoch !== oldLeaderEpoch;
    if (restart === "epoch-skip") return !(state.leaderEpoch === oldLeaderEpoch || state.leaderEpoch === oldLeaderEpoch + 1);
    return false;
  }

  /** KIP-320's check of a request's currentLeaderEpoch (-1: not checked). */
  checkCurrentLeaderEpoch(currentLeaderEpoch: number): KafkaError {
    if (currentLeaderEpoch === UNDEFINED_EPOCH) return "NONE";
    if (currentLeaderEpoch < this.leaderEpoch) return "FENCED_LEADER_EPOCH";
    if (currentLeaderEpoch > this.leaderEpoch) return "UNKNOWN_LEADER_EPOCH";
    return "NONE";
  }

  /**
   * Replica.updateFetchState: the follower fetched at `fetchOffset` (its log end offset). lastCaughtUpTimeMs
   * becomes the fetch time when it reached the leader's log end as of this fetch, else the previous fetch's
   * time when it reached the log end as of that one. Returns false for a replica not assigned here.
   */
  updateFollowerFetchState(followerId: number, fetchOffset: number, fetchTimeMs: number, leaderEndOffset: number): boolean {
    const replica = this.remoteReplicas.get(followerId);
    if (replica === undefined) return false;
    if (fetchOffset >= leaderEndOffset) replica.lastCaughtUpTimeMs = Math.max(replica.lastCaughtUpTimeMs, fetchTimeMs);
    else if (fetchOffset >= replica.lastFetchLeaderLogEndOffset) {
      replica.lastCaughtUpTimeMs = Math.max(replica.lastCaughtUpTimeMs, replica.lastFetchTimeMs);
    }
    replica.logEndOffset = fetchOffset;
    replica.lastFetchLeaderLogEndOffset = leaderEndOffset;
    replica.lastFetchTimeMs = fetchTimeMs;
    return true;
  }

  /**
   * Partition.canAddReplicaToIsr + isFollowerInSync (for expansion): from 3.3 (KIP-841, KAFKA-14140,
   * compat.ineligibleReplicaCheck with AlterIsr) only a follower the metadata cache knows alive
   * (isReplicaIsrEligible, ZK mode: hasAliveBroker; a broker in controlled shutdown is still alive there, the
   * controller rejects it); at or past the HW and (KAFKA-7128, 2.1+, compat.isrJoinNeedsEpochStart) past the
   * start of this leader's epoch; before 2.1 the HW alone.
   */
  canJoinIsr(followerId: number): boolean {
    // An ISR member first: every follower's fetch asks, and nearly all are members.
    if (this.isr.includes(followerId)) return false;
    const replica = this.remoteReplicas.get(followerId);
    if (replica === undefined || !this.replicas.includes(followerId)) return false;
    const compat = this.services.compat;
    if (compat.ineligibleReplicaCheck && compat.isrUpdate === "alter-isr" && !this.services.metadataCache.aliveBrokers.has(followerId)) return false;
    if (replica.logEndOffset < this.log.highWatermark) return false;
    if (!this.services.compat.isrJoinNeedsEpochStart) return true;
    return this.leaderEpochStartOffset !== null && replica.logEndOffset >= this.leaderEpochStartOffset;
  }

  /**
   * Partition.getOutOfSyncReplicas: ISR followers not caught up for `lagMs` and (KAFKA-7152, 2.1+,
   * compat.caughtUpFollowerStaysInSync) behind the leader's log end; before 2.1 a fully caught-up idle follower
   * whose fetches stopped completing is shrunk as well.
   */
  outOfSyncReplicas(nowMs: number, lagMs: number): number[] {
    const leaderEndOffset = this.log.logEndOffset;
    const caughtUpStays = this.services.compat.caughtUpFollowerStaysInSync;
    return this.isr.filter((id) => {
      if (id === this.brokerId) return false;
      const replica = this.remoteReplicas.get(id);
      if (replica === undefined) return true;
      if (caughtUpStays && replica.logEndOffset === leaderEndOffset) return false;
      return nowMs - replica.lastCaughtUpTimeMs > lagMs;
    });
  }

  /** The topic's min.insync.replicas: its override, else the broker's setting. */
  get minInsyncReplicas(): number {
    return topicMinInsyncReplicas(this.services, this.topic);
  }

  /**
   * Partition.effectiveMinIsr (KAFKA-15583, 3.7.0+, compat.hwNeedsMinIsr): min.insync.replicas capped at the
   * replica count (remoteReplicasMap.size + 1). Before 3.7.0, the configured value as is.
   */
  get effectiveMinIsr(): number {
    const minIsr = this.minInsyncReplicas;
    return this.services.compat.hwNeedsMinIsr ? Math.min(minIsr, this.remoteReplicas.size + 1) : minIsr;
  }

  /** Partition.isUnderMinIsr: a leader whose committed ISR (not the maximal one) is below the effective min ISR. */
  get isUnderMinIsr(): boolean {
    return this.isLeader && this.isr.length < this.effectiveMinIsr;
  }

  /**
   * Partition.maybeIncrementLeaderHW: the smallest log end offset among the leader, the maximal ISR and any
   * follower caught up within `lagMs` (so a replica about to join holds the HW back). Never lowers it. From
   * 3.7.0 (KAFKA-15583, commit edc7e10a745, compat.hwNeedsMinIsr) not at all while the partition is under min ISR.
   */
  maybeIncrementLeaderHighWatermark(nowMs: number, lagMs: number): boolean {
    if (!this.isLeader) return false;
    // Every follower fetch asks; when the HW is at the log end already, no candidate can be above it.
    if (this.log.logEndOffset <= this.log.highWatermark) return false;
    if (this.services.compat.hwNeedsMinIsr && this.isUnderMinIsr) return false;
    let newHighWatermark = this.log.logEndOffset;
    const maximal = this.maximalIsr;
    for (const replica of this.remoteReplicas.values()) {
      if (replica.logEndOffset >= newHighWatermark) continue;
      if (nowMs - replica.lastCaughtUpTimeMs <= lagMs || maximal.includes(replica.brokerId)) newHighWatermark = replica.logEndOffset;
    }
    const previous = this.log.highWatermark;
    if (newHighWatermark <= previous) return false;
    this.checkLeaderInvariants();
    this.log.maybeIncrementHighWatermark(newHighWatermark);
    this.leaderHighWatermarkFloor = newHighWatermark;
    this.traceHighWatermark(previous, "leader");
    this.maybeTraceLastStableOffset();
    return true;
  }

  /**
   * The leader's LSO (UnifiedLog.lastStableOffset) moved: a txn-lso event, only for a log that ever held a
   * transactional batch (so partitions without transactions trace exactly as before).
   */
  maybeTraceLastStableOffset(): void {
    if (!this.isLeader || !this.log.producerState.hasTransactions) return;
    const lastStableOffset = this.log.lastStableOffset;
    if (lastStableOffset === this.tracedLastStableOffset) return;
    this.tracedLastStableOffset = lastStableOffset;
    const context = this.services.context;
    if (context.tracing) context.trace("txn-lso", { topicPartition: this.topicPartition, lastStableOffset, highWatermark: this.log.highWatermark });
  }

  /** Follower: HW = min(the leader's HW, own log end offset) (it may move down after a truncation). */
  updateFollowerHighWatermark(leaderHighWatermark: number): void {
    const previous = this.log.highWatermark;
    this.log.updateHighWatermark(Math.min(leaderHighWatermark, this.log.logEndOffset));
    if (this.log.highWatermark !== previous) this.traceHighWatermark(previous, "follower");
  }

  /**
   * Partition.checkEnoughReplicasReachOffset (acks=all): done once the HW reached `requiredOffset`, with
   * NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR has meanwhile shrunk below min.insync.replicas. Kafka returns
   * (done, error); here the error once done, null while not (checked per parked produce per HW move: no pair).
   */
  checkEnoughReplicasReachOffset(requiredOffset: number): KafkaError | null {
    if (!this.isLeader) return "NOT_LEADER_OR_FOLLOWER";
    if (this.log.highWatermark < requiredOffset) return null;
    return this.isr.length >= this.effectiveMinIsr ? "NONE" : "NOT_ENOUGH_REPLICAS_AFTER_APPEND";
  }

  traceHighWatermark(previous: number, role: HighWatermarkRole): void {
    const context = this.services.context;
    if (!context.tracing) return;
    context.trace("hwm", {
      topicPartition: this.topicPartition,
      highWatermark: this.log.highWatermark,
      previous,
      leaderEpoch: this.leaderEpoch,
      role,
    });
  }

  /** Model invariants of a leader (one fact per assert). */
  checkLeaderInvariants(): void {
    // Messages built only on failure: checked on every HW move of the leader.
    if (!this.isr.includes(this.brokerId)) assert(false, `${this.topicPartition}: the leader is in its own ISR`);
    if (this.log.highWatermark > this.log.logEndOffset) assert(false, `${this.topicPartition}: HW <= LEO`);
    if (this.log.highWatermark < this.leaderHighWatermarkFloor) assert(false, `${this.topicPartition}: the leader's HW never decreases`);
  }
}
