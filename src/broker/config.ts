/**
 * The broker's replication and controller configuration (KafkaConfig / ReplicationConfigs keys with Kafka's
 * defaults), the `compat` switches that restore historical behaviour, and the `cluster.version` presets that
 * set an era's defaults. The log layer's own keys (log.*, segment.*, retention.*) stay in log/config.ts; a
 * broker's settings map holds both. Simplification: one listener, no racks, no quotas.
 */

export type TruncationMode = "high-watermark" | "kip-101" | "kip-279" | "kip-320";
export type IsrUpdateMode = "zk-direct" | "alter-isr";
export type OutOfRangeTruncation = "halt-unless-unclean" | "truncate";
export type FetcherRestart = "leader-change" | "epoch-skip" | "epoch-change";

export interface Compat {
  /** How a follower finds its truncation point (before 0.11: its own HW; 0.11: KIP-101; 2.0: KIP-279; 2.1+: KIP-320). */
  truncation: TruncationMode;
  /** Who writes ISR changes: the leader directly to ZooKeeper (before 2.7) or the controller via AlterIsr (KIP-497). */
  isrUpdate: IsrUpdateMode;
  /**
   * KAFKA-7415 (2.1.0, commit f2dd6aa2698; backported to 2.0.1): Partition.makeLeader writes (leader epoch, log
   * end offset) into the new leader's epoch cache on election, and LeaderEpochFileCache.endOffsetFor answers an
   * epoch below every cached one with (that epoch, the first cached start offset). Off (2.0.0 and before): the
   * new epoch reaches the cache only with the leader's first append in it (Log.append), and an epoch below every
   * cached one is answered UNDEFINED, so the follower truncates to its own high watermark.
   */
  epochCacheOnElection: boolean;
  /**
   * KAFKA-7152 (2.1.0, commit 9a7f29c1ede; not in 2.0.1): Partition.getOutOfSyncReplicas never removes an ISR
   * follower whose log end offset equals the leader's. Off (2.0.0 and before): any ISR follower not caught up for
   * replica.lag.time.max.ms is shrunk, even an idle one that holds every record.
   */
  caughtUpFollowerStaysInSync: boolean;
  /**
   * KAFKA-7128 (2.1.0, commit 70c51633f2f; backported to 2.0.1): Partition.maybeExpandIsr / isFollowerInSync
   * adds a follower back to the ISR only when its log end offset is >= the high watermark and >= the leader's
   * epoch start offset. Off (2.0.0 and before): log end offset >= the high watermark is enough, so a follower
   * can rejoin without the records a new leader had between its (stale) HW and its log end at election.
   */
  isrJoinNeedsEpochStart: boolean;
  /**
   * KAFKA-7414 (2.1.0, commit c5ef614bbf1; backported to 2.0.1): a follower whose fetch offset is out of range
   * with the leader's log end offset below its own truncates to the leader's log end offset ("truncate").
   * Before ("halt-unless-unclean", ReplicaFetcherThread.handleOffsetOutOfRange up to 2.0.0): unless the topic
   * allows unclean leader election, the follower broker exits ("Exiting because log truncation is not allowed").
   */
  outOfRangeTruncation: OutOfRangeTruncation;
  /**
   * KAFKA-7164 (2.1.0, commit 69283b4038a): Partition.makeFollower restarts the follower's fetcher (and so its
   * truncation) on any leader epoch change ("epoch-change"). 2.0.1's backport (5152c80129c) skips a restart when
   * the leader is unchanged and the epoch grew by one ("epoch-skip"); up to 2.0.0 only a new leader id restarts
   * it ("leader-change"), so a follower that missed an intermediate leader keeps fetching without truncating.
   */
  fetcherRestart: FetcherRestart;
  /**
   * KIP-380 (2.2.0, KAFKA-7235, commit 2155c6d54b0): brokers register with a broker epoch (their znode's czxid);
   * the controller detects a bounce (same id, newer epoch) in BrokerChange and handles it as a failure plus a
   * startup, and brokers reject controller requests carrying a stale broker epoch (STALE_BROKER_EPOCH). Off (2.1
   * and before): BrokerChange compares broker-id sets only, so a fast bounce inside one watch is missed.
   */
  brokerEpochs: boolean;
  /**
   * KIP-841 (3.3.0): the controller rejects an AlterIsr / AlterPartition whose new ISR names a replica that is
   * fenced or shutting down (INELIGIBLE_REPLICA; KafkaController.processAlterPartition, ControllerContext.liveBrokerIds).
   * Off (2.7 to 3.2): the controller checks only the leader epoch and partition epoch of an AlterIsr.
   */
  ineligibleReplicaCheck: boolean;
  /**
   * KAFKA-3143 (2.3.0, commit 423610f3d08; trunk d77bac1c930): on failover, ReplicaStateMachine.startup moves the
   * replicas of unregistered brokers to OfflineReplica, which removes them from their ISRs (removeReplicasFromIsr;
   * never the last member). So a broker that died while no controller watched it (the old controller itself) leaves
   * the ISRs at the new controller's start. Off (2.2 and before): startup moves only live replicas (to
   * OnlineReplica); the dead follower stays in the ISR until its leader shrinks it after replica.lag.time.max.ms.
   */
  offlineReplicasOnFailover: boolean;
  /**
   * KAFKA-7537 (2.2.0, commit 7b5ffa0a070): KafkaController.onBrokerStartup sends UpdateMetadata without partition
   * states to the existing brokers and the full partition state only to the new ones, two batches of their own
   * (sendUpdateMetadataRequest(existingBrokers, Set.empty), then (newBrokers, partitionLeadershipInfo.keySet)).
   * Off (2.1 and before): one sendUpdateMetadataRequest(liveOrShuttingDownBrokerIds) whose empty partition set
   * means every partition, so each broker start sends every partition's state to every broker.
   */
  fullMetadataToNewBrokersOnly: boolean;
  /**
   * 3.3.0 (commit a5f7c82a867, "MINOR: Refactor kafka.cluster.Replica", part of KAFKA-13790): when a leader is
   * re-elected (a new epoch, same leader), Replica.resetReplicaState gives a follower outside the ISR
   * lastFetchTimeMs 0, so its first fetch after the election makes it caught up only if it reaches the leader's log
   * end as of that fetch. Off (up to 3.2): Partition.makeLeader's resetLastCaughtUpTime records (log end at
   * election, now) as every follower's previous fetch, so a non-ISR follower whose first fetch is at or past the
   * election log end counts as caught up at the election and holds the HW back for up to replica.lag.time.max.ms.
   * (A new leader forgets its followers' fetches in every release: not a switch.)
   */
  reelectionResetsNonIsrFetchTime: boolean;
  /**
   * KAFKA-15583 (3.7.0, commit edc7e10a745): Partition.maybeIncrementLeaderHW returns without moving the high
   * watermark while Partition.isUnderMinIsr, i.e. while the committed ISR (partitionState.isr, not the maximal ISR)
   * is smaller than Partition.effectiveMinIsr = min(the topic's min.insync.replicas, the replica count); ZooKeeper
   * and KRaft mode alike. The same commit caps min.insync.replicas at the replica count in the acks=all checks
   * (appendRecordsToLeader, checkEnoughReplicasReachOffset). Off (3.6 and before): the HW advances with any ISR, so
   * acks=0/1 records a lone leader holds become committed (and visible to consumers) under min ISR.
   */
  hwNeedsMinIsr: boolean;
  /**
   * KIP-227 (1.1.0, KAFKA-6254): incremental fetch sessions for replica fetchers (Fetch v7; FetchSession.scala,
   * FetchSessionHandler.java). On: a follower's first fetch is full and creates a session on the leader; later
   * fetches carry only the partitions added or changed, and the leader answers only partitions with news. Off
   * (0.10.2, 0.11): every Fetch names and answers every partition. The consumers fetch without sessions either way.
   */
  fetchSessions: boolean;
  /** Controller ZooKeeper writes fenced by a check on /controller_epoch's zkVersion (KAFKA-6082, commit 297fb396a00, first in 2.1.0). */
  controllerEpochCheck: boolean;
  /**
   * KIP-890 part 1 (3.6, transaction.partition.verification.enable, default true): a partition leader verifies with
   * the transaction coordinator (AddPartitionsToTxn verifyOnly) before a producer's first transactional append,
   * which closes KAFKA-14402's hanging transaction (a late Produce landing after the abort markers).
   */
  transactionVerification: boolean;
  /**
   * KIP-890 part 2 (transaction version 2, shipped with 4.0, so in no ZooKeeper-era release; settable to replay
   * the fix): every EndTxn bumps the producer epoch, the markers carry it and the producer adopts it, so a
   * delayed batch of the previous transaction is fenced (KAFKA-17754).
   */
  epochBumpPerTransaction: boolean;
  /** KIP-394 (2.2): a dynamic member joining with an empty member id gets MEMBER_ID_REQUIRED and a pending id. */
  memberIdRequired: boolean;
  /** Up to 2.5: a Heartbeat while the group is CompletingRebalance is answered REBALANCE_IN_PROGRESS. */
  rebalanceInProgressOnSyncHeartbeat: boolean;
  /** KAFKA-12890 (3.0): DelayedSync removes members that send no SyncGroup within the rebalance timeout. */
  pendingSyncTimeout: boolean;
  /** KIP-345 (2.3): static membership; without it a JoinGroup with a group.instance.id → UNSUPPORTED_VERSION. */
  staticMembership: boolean;
}

export const DEFAULT_COMPAT: Readonly<Compat> = Object.freeze({
  truncation: "kip-320",
  isrUpdate: "alter-isr",
  controllerEpochCheck: true,
  fetchSessions: true,
  epochCacheOnElection: true,
  caughtUpFollowerStaysInSync: true,
  isrJoinNeedsEpochStart: true,
  outOfRangeTruncation: "truncate",
  fetcherRestart: "epoch-change",
  brokerEpochs: true,
  offlineReplicasOnFailover: true,
  fullMetadataToNewBrokersOnly: true,
  reelectionResetsNonIsrFetchTime: true,
  hwNeedsMinIsr: true,
  ineligibleReplicaCheck: true,
  transactionVerification: true,
  epochBumpPerTransaction: false,
  memberIdRequired: true,
  rebalanceInProgressOnSyncHeartbeat: false,
  pendingSyncTimeout: true,
  staticMembership: true,
});

/**
 * The group coordinator's broker keys (KafkaConfig, Kafka 3.6: GroupConfig and OffsetConfig). offsets.* describe
 * the internal __consumer_offsets topic the coordinator creates and appends to; group.* bound the members.
 */
export interface GroupCoordinatorConfig {
  "offsets.topic.num.partitions": number;
  "offsets.topic.replication.factor": number;
  "offsets.commit.timeout.ms": number;
  "offsets.topic.segment.bytes": number;
  "offsets.retention.minutes": number;
  "offsets.retention.check.interval.ms": number;
  "group.min.session.timeout.ms": number;
  "group.max.session.timeout.ms": number;
  "group.initial.rebalance.delay.ms": number;
  "group.max.size": number;
}

export const DEFAULT_GROUP_COORDINATOR_CONFIG: Readonly<GroupCoordinatorConfig> = Object.freeze({
  "offsets.topic.num.partitions": 50,
  "offsets.topic.replication.factor": 3,
  "offsets.commit.timeout.ms": 5000,
  "offsets.topic.segment.bytes": 104_857_600,
  "offsets.retention.minutes": 10_080,
  "offsets.retention.check.interval.ms": 600_000,
  "group.min.session.timeout.ms": 6000,
  "group.max.session.timeout.ms": 1_800_000,
  "group.initial.rebalance.delay.ms": 3000,
  "group.max.size": 2_147_483_647,
});

/**
 * The transaction coordinator's broker keys (KafkaConfig, Kafka 3.6: TransactionLogConfig and
 * TransactionStateManagerConfig). transaction.state.log.* describe the internal __transaction_state topic.
 */
export interface TransactionCoordinatorConfig {
  "transaction.state.log.num.partitions": number;
  "transaction.state.log.replication.factor": number;
  "transaction.state.log.min.isr": number;
  "transaction.state.log.segment.bytes": number;
  "transaction.max.timeout.ms": number;
  "transaction.abort.timed.out.transaction.cleanup.interval.ms": number;
  "transactional.id.expiration.ms": number;
}

export const DEFAULT_TRANSACTION_COORDINATOR_CONFIG: Readonly<TransactionCoordinatorConfig> = Object.freeze({
  "transaction.state.log.num.partitions": 50,
  "transaction.state.log.replication.factor": 3,
  "transaction.state.log.min.isr": 2,
  "transaction.state.log.segment.bytes": 104_857_600,
  "transaction.max.timeout.ms": 900_000,
  "transaction.abort.timed.out.transaction.cleanup.interval.ms": 10_000,
  "transactional.id.expiration.ms": 604_800_000,
});

/** Replication, controller, ZooKeeper, group and transaction coordinator settings of a broker (KafkaConfig keys). */
export interface ReplicationConfig extends GroupCoordinatorConfig, TransactionCoordinatorConfig {
  "zookeeper.session.timeout.ms": number;
  "zookeeper.connection.timeout.ms": number;
  "replica.lag.time.max.ms": number;
  "replica.fetch.wait.max.ms": number;
  "replica.fetch.min.bytes": number;
  "replica.fetch.max.bytes": number;
  "replica.fetch.response.max.bytes": number;
  "replica.fetch.backoff.ms": number;
  "replica.socket.timeout.ms": number;
  "min.insync.replicas": number;
  "unclean.leader.election.enable": boolean;
  "default.replication.factor": number;
  "num.partitions": number;
  "controller.socket.timeout.ms": number;
  "controlled.shutdown.enable": boolean;
  "controlled.shutdown.max.retries": number;
  "controlled.shutdown.retry.backoff.ms": number;
  "auto.leader.rebalance.enable": boolean;
  "leader.imbalance.check.interval.seconds": number;
  "leader.imbalance.per.broker.percentage": number;
  "delete.topic.enable": boolean;
  /** How often a leader propagates ISR changes to /isr_change_notification (ReplicaManager, 2500 ms). */
  "isr.change.propagation.interval.ms": number;
  "request.timeout.ms": number;
  /** KIP-227: how many fetch sessions the leader keeps (FetchSessionCache's maxEntries; 0: none). */
  "max.incremental.fetch.session.cache.slots": number;
}

export const DEFAULT_REPLICATION_CONFIG: Readonly<ReplicationConfig> = Object.freeze({
  ...DEFAULT_GROUP_COORDINATOR_CONFIG,
  ...DEFAULT_TRANSACTION_COORDINATOR_CONFIG,
  "zookeeper.session.timeout.ms": 18_000,
  "zookeeper.connection.timeout.ms": 18_000,
  "replica.lag.time.max.ms": 30_000,
  "replica.fetch.wait.max.ms": 500,
  "replica.fetch.min.bytes": 1,
  "replica.fetch.max.bytes": 1024 * 1024,
  "replica.fetch.response.max.bytes": 10 * 1024 * 1024,
  "replica.fetch.backoff.ms": 1000,
  "replica.socket.timeout.ms": 30_000,
  "min.insync.replicas": 1,
  "unclean.leader.election.enable": false,
  "default.replication.factor": 1,
  "num.partitions": 1,
  "controller.socket.timeout.ms": 30_000,
  "controlled.shutdown.enable": true,
  "controlled.shutdown.max.retries": 3,
  "controlled.shutdown.retry.backoff.ms": 5000,
  "auto.leader.rebalance.enable": true,
  "leader.imbalance.check.interval.seconds": 300,
  "leader.imbalance.per.broker.percentage": 10,
  "delete.topic.enable": true,
  "isr.change.propagation.interval.ms": 2500,
  "request.timeout.ms": 30_000,
  "max.incremental.fetch.session.cache.slots": 1000,
});

export type KafkaVersion = "0.10.2" | "0.11" | "1.1" | "2.0" | "2.1" | "2.2" | "2.4" | "2.7" | "3.3" | "3.x";
/** Oldest first: the loader's "before release X" rules compare positions in this list. */
export const KAFKA_VERSIONS: readonly KafkaVersion[] = ["0.10.2", "0.11", "1.1", "2.0", "2.1", "2.2", "2.4", "2.7", "3.3", "3.x"];

/** True when `version` is older than `release` (both presets). */
export function versionBefore(version: KafkaVersion, release: KafkaVersion): boolean {
  return KAFKA_VERSIONS.indexOf(version) < KAFKA_VERSIONS.indexOf(release);
}

export interface VersionPreset {
  config: Partial<ReplicationConfig>;
  compat: Partial<Compat>;
  description: string;
}

/** Transactions before KIP-890 part 1 (3.6): no verification, so KAFKA-14402's hanging transaction can happen. */
const PRE_KIP_890_TRANSACTIONS: Partial<Compat> = { transactionVerification: false };

/**
 * Replication before Kafka 2.1.0 (2.0.0 and earlier): without KAFKA-7415, KAFKA-7152, KAFKA-7128, KAFKA-7414,
 * KAFKA-7164 and KAFKA-6082. The "2.0" preset means 2.0.0: 2.0.1 backported KAFKA-7415, KAFKA-7128, KAFKA-7414
 * and half of KAFKA-7164 (not KAFKA-7152 nor KAFKA-6082).
 */
const PRE_2_1_REPLICATION: Partial<Compat> = {
  epochCacheOnElection: false,
  caughtUpFollowerStaysInSync: false,
  isrJoinNeedsEpochStart: false,
  outOfRangeTruncation: "halt-unless-unclean",
  fetcherRestart: "leader-change",
  controllerEpochCheck: false,
};

/** Fetch before KIP-227 (1.1.0): no fetch sessions, every Fetch names every partition. */
const PRE_KIP_227_FETCH: Partial<Compat> = { fetchSessions: false };

/** Partition.makeLeader before 3.3.0's Replica.resetReplicaState: a re-elected leader records its election as every follower's last fetch. */
const PRE_3_3_REPLICA_STATE: Partial<Compat> = { reelectionResetsNonIsrFetchTime: false };

/** Partition.maybeIncrementLeaderHW before 3.7.0's KAFKA-15583: the HW advances even while the ISR is under min.insync.replicas. */
const PRE_3_7_REPLICATION: Partial<Compat> = { hwNeedsMinIsr: false };

/** The controller before KAFKA-3143 (2.2 and earlier): failover leaves dead replicas in their ISRs. */
const PRE_2_3_CONTROLLER: Partial<Compat> = { offlineReplicasOnFailover: false };

/** The controller before KIP-380 and KAFKA-7537 (2.1 and earlier): no broker epochs, full metadata to every broker on a broker start, nor KAFKA-3143. */
const PRE_2_2_CONTROLLER: Partial<Compat> = { brokerEpochs: false, fullMetadataToNewBrokersOnly: false, ...PRE_2_3_CONTROLLER };

/** The group coordinator before KIP-394 and KIP-345 (0.10.2 to 2.1). */
const PRE_KIP_345_GROUPS: Partial<Compat> = {
  memberIdRequired: false,
  rebalanceInProgressOnSyncHeartbeat: true,
  pendingSyncTimeout: false,
  staticMembership: false,
};

/** The group coordinator of 2.2 (KIP-394's member id, no static membership yet). */
const KIP_394_GROUPS: Partial<Compat> = { ...PRE_KIP_345_GROUPS, memberIdRequired: true };

/** Up to 2.4: replica.lag.time.max.ms 10 s and zookeeper.session.timeout.ms 6 s (KIP-537 raised both in 2.5). */
const PRE_2_5_TIMEOUTS: Partial<ReplicationConfig> = { "replica.lag.time.max.ms": 10_000, "zookeeper.session.timeout.ms": 6000 };

/** Up to 2.3: group.max.session.timeout.ms 5 minutes (KIP-468 raised it to 30 minutes in 2.4). */
const PRE_2_4_GROUP_CONFIG: Partial<ReplicationConfig> = { "group.max.session.timeout.ms": 300_000 };

/**
 * What each era changed (docs/versions.md has the table, with the Kafka file and method of each switch).
 * 0.11: KIP-101 leader epochs, KIP-106 unclean election off by default, KIP-98 transactions, KIP-134 initial
 * rebalance delay. 1.1: delete.topic.enable on by default, KIP-227 fetch sessions. 2.0: KIP-279, KIP-211 offsets retention 7 days.
 * 2.1: KIP-320; KAFKA-7415, 7152, 7128, 7414, 7164; KAFKA-6082 controller epoch zkVersion check. 2.2: KIP-380
 * broker epochs, KAFKA-7537 startup metadata, KIP-394 member ids. 2.3: KIP-345 static membership, KAFKA-3143 offline replicas on failover. 2.4: KIP-468 group.max.session.timeout.ms.
 * 2.5: KIP-537 timeouts. 2.7: KIP-497 AlterIsr (maximal ISR). 3.0: KAFKA-12890 pending sync timeout, KIP-735
 * consumer session timeout. 3.3: KIP-841, Replica.resetReplicaState. 3.6: KIP-890 part 1. 3.7: KAFKA-15583 (no HW under min ISR). KIP-890 part 2 came with 4.0: off in every preset.
 */
export const VERSION_PRESETS: Readonly<Record<KafkaVersion, VersionPreset>> = Object.freeze({
  "0.10.2": {
    description: "Kafka 0.10.2.0: truncation to the high watermark, unclean leader election on, topic deletion off, no 2.1 replication fixes",
    config: {
      ...PRE_2_5_TIMEOUTS,
      ...PRE_2_4_GROUP_CONFIG,
      "unclean.leader.election.enable": true,
      "delete.topic.enable": false,
      "group.initial.rebalance.delay.ms": 0,
      "offsets.retention.minutes": 1440,
    },
    compat: { truncation: "high-watermark", isrUpdate: "zk-direct", ...PRE_KIP_227_FETCH, ...PRE_2_1_REPLICATION, ...PRE_2_2_CONTROLLER, ...PRE_KIP_345_GROUPS, ...PRE_3_3_REPLICA_STATE, ...PRE_3_7_REPLICATION, ...PRE_KIP_890_TRANSACTIONS },
  },
  "0.11": {
    description: "Kafka 0.11.0.0: KIP-101 leader epochs (offset-only answer), unclean leader election off, topic deletion off, no 2.1 replication fixes",
    config: { ...PRE_2_5_TIMEOUTS, ...PRE_2_4_GROUP_CONFIG, "delete.topic.enable": false, "offsets.retention.minutes": 1440 },
    compat: { truncation: "kip-101", isrUpdate: "zk-direct", ...PRE_KIP_227_FETCH, ...PRE_2_1_REPLICATION, ...PRE_2_2_CONTROLLER, ...PRE_KIP_345_GROUPS, ...PRE_3_3_REPLICA_STATE, ...PRE_3_7_REPLICATION, ...PRE_KIP_890_TRANSACTIONS },
  },
  "1.1": {
    description: "Kafka 1.1.0: KIP-101 leader epochs, KIP-227 fetch sessions, topic deletion on, no 2.1 replication fixes",
    config: { ...PRE_2_5_TIMEOUTS, ...PRE_2_4_GROUP_CONFIG, "offsets.retention.minutes": 1440 },
    compat: { truncation: "kip-101", isrUpdate: "zk-direct", ...PRE_2_1_REPLICATION, ...PRE_2_2_CONTROLLER, ...PRE_KIP_345_GROUPS, ...PRE_3_3_REPLICA_STATE, ...PRE_3_7_REPLICATION, ...PRE_KIP_890_TRANSACTIONS },
  },
  "2.0": {
    description: "Kafka 2.0.0: KIP-279 leader-epoch truncation, ISR written by leaders, no 2.1 replication fixes (KAFKA-7415, 7152, 7128, 7414, 7164, 6082)",
    config: { ...PRE_2_5_TIMEOUTS, ...PRE_2_4_GROUP_CONFIG },
    compat: { truncation: "kip-279", isrUpdate: "zk-direct", ...PRE_2_1_REPLICATION, ...PRE_2_2_CONTROLLER, ...PRE_KIP_345_GROUPS, ...PRE_3_3_REPLICA_STATE, ...PRE_3_7_REPLICATION, ...PRE_KIP_890_TRANSACTIONS },
  },
  "2.1": {
    description: "Kafka 2.1.0: KIP-320 epoch fencing, the 2.1 replication fixes and the controller epoch check; no broker epochs (KIP-380)",
    config: { ...PRE_2_5_TIMEOUTS, ...PRE_2_4_GROUP_CONFIG },
    compat: { truncation: "kip-320", isrUpdate: "zk-direct", ...PRE_2_2_CONTROLLER, ...PRE_KIP_345_GROUPS, ...PRE_3_3_REPLICA_STATE, ...PRE_3_7_REPLICATION, ...PRE_KIP_890_TRANSACTIONS },
  },
  "2.2": {
    description: "Kafka 2.2.0: broker epochs (KIP-380) and member ids (KIP-394); ISR written by leaders; failover keeps dead replicas in ISRs (before KAFKA-3143)",
    config: { ...PRE_2_5_TIMEOUTS, ...PRE_2_4_GROUP_CONFIG },
    compat: { truncation: "kip-320", isrUpdate: "zk-direct", ...PRE_2_3_CONTROLLER, ...KIP_394_GROUPS, ...PRE_3_3_REPLICA_STATE, ...PRE_3_7_REPLICATION, ...PRE_KIP_890_TRANSACTIONS },
  },
  "2.4": {
    description: "Kafka 2.4.0: KIP-320 epoch fencing, broker epochs, static membership, dead brokers out of the ISRs at controller failover (KAFKA-3143), ISR written by leaders",
    config: { ...PRE_2_5_TIMEOUTS },
    compat: { truncation: "kip-320", isrUpdate: "zk-direct", rebalanceInProgressOnSyncHeartbeat: true, pendingSyncTimeout: false, ...PRE_3_3_REPLICA_STATE, ...PRE_3_7_REPLICATION, ...PRE_KIP_890_TRANSACTIONS },
  },
  "2.7": {
    description: "Kafka 2.7.0: AlterIsr and the maximal ISR (KIP-497), 2.5's longer timeouts; no INELIGIBLE_REPLICA check yet (KIP-841)",
    config: {},
    compat: { truncation: "kip-320", isrUpdate: "alter-isr", ineligibleReplicaCheck: false, pendingSyncTimeout: false, ...PRE_3_3_REPLICA_STATE, ...PRE_3_7_REPLICATION, ...PRE_KIP_890_TRANSACTIONS },
  },
  "3.3": {
    description: "Kafka 3.3.0 in ZooKeeper mode: KIP-841's INELIGIBLE_REPLICA check; no transaction verification yet (KIP-890)",
    config: {},
    compat: { ...PRE_3_7_REPLICATION, ...PRE_KIP_890_TRANSACTIONS },
  },
  "3.x": {
    description: "Kafka 3.9 in ZooKeeper mode (the last ZooKeeper-era release): today's defaults",
    config: {},
    compat: {},
  },
});

export interface ResolvedBrokerSettings {
  replication: ReplicationConfig;
  compat: Compat;
  /** Every key given (log keys included), for the LogManager. */
  all: Readonly<Record<string, unknown>>;
}

/** Version preset, then explicit config and compat entries on top (explicit entries win). */
export function resolveBrokerSettings(
  version: KafkaVersion = "3.x",
  config: Readonly<Record<string, unknown>> = {},
  compat: Partial<Compat> = {},
): ResolvedBrokerSettings {
  const preset = VERSION_PRESETS[version];
  const replication = { ...DEFAULT_REPLICATION_CONFIG, ...preset.config } as ReplicationConfig;
  for (const key of Object.keys(DEFAULT_REPLICATION_CONFIG) as (keyof ReplicationConfig)[]) {
    if (config[key] !== undefined) (replication as unknown as Record<string, unknown>)[key] = config[key];
  }
  return {
    replication,
    compat: { ...DEFAULT_COMPAT, ...preset.compat, ...compat },
    all: { ...preset.config, ...config },
  };
}
