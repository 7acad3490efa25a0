/**
 * The views the state inspector reads: the cluster as the trace says it was at one playback position
 * (Timeline.stateAt). Plain data plus one method, ReplicaView.window, so the UI can draw a log strip without
 * materialising whole logs. Names are Kafka's (leaderEpoch, highWatermark, logEndOffset, isr, zkVersion).
 */

export interface LogRecord {
  offset: number;
  value: string | null;
  /** The batch's partitionLeaderEpoch. */
  epoch: number;
  /** Index of the event that put the record on this replica (log-append, or log-loaded after a power loss). */
  appendedSeq: number;
  /** Index of the event that removed it (truncation, recovery, retention, deletion); set only once it happened. */
  truncatedSeq?: number;
  /** A transactional batch's producer id (log-append's `producerId`; absent for other records). */
  producerId?: number;
  /** A control record (a transaction marker): its ControlRecordType. */
  control?: "COMMIT" | "ABORT";
  /**
   * A transactional data record at this position: "open" until its producer's next marker on this replica,
   * then "committed" or "aborted" by that marker's type.
   */
  txn?: "open" | "committed" | "aborted";
}

export type ReplicaRole = "leader" | "follower" | "none";

export interface ReplicaView {
  host: string;
  brokerId: number;
  topicPartition: string;
  /** The host is up (running or paused). A down host's replica shows what its disk held when it went down. */
  up: boolean;
  /** The broker's log dir failed (log-dir-failure): the replica is offline until the broker restarts. */
  offline: boolean;
  /** "none" while no LeaderAndIsr has made this broker leader or follower (or its host is down). */
  role: ReplicaRole;
  /** -1 while role is "none". */
  leaderEpoch: number;
  /** The leader's committed ISR as the leader knows it; null on followers. */
  isr: number[] | null;
  logStartOffset: number;
  logEndOffset: number;
  highWatermark: number;
  /**
   * The last stable offset (txn-lso) while this replica leads and the leader traced one (a log that has held a
   * transactional batch); null otherwise. read_committed consumers read below it.
   */
  lastStableOffset: number | null;
  /**
   * Records present at this moment with offsets in [from, to), plus records removed within the last `recentUs`
   * (default 2 s of virtual time) flagged by truncatedSeq, in offset order (a removed record before the one
   * that replaced it).
   */
  window(from: number, to: number, recentUs?: number): LogRecord[];
}

export interface PartitionView {
  topicPartition: string;
  topic: string;
  partition: number;
  /** The assignment (/brokers/topics/<topic>). */
  replicas: number[];
  /** From the partition state znode: -1 when none. */
  leader: number;
  leaderEpoch: number;
  isr: number[];
  /** The partition state znode's version. */
  zkVersion?: number;
  controllerEpoch?: number;
  /** Every broker holding a log of this partition, by broker id. */
  replicaViews: ReplicaView[];
}

export type HostState = "up" | "down" | "paused";

export interface HostView {
  name: string;
  state: HostState;
  incarnation: number;
}

export interface OpView {
  process: string;
  f: string;
  opId?: number;
  value?: unknown;
  type: "invoke" | "ok" | "fail" | "info";
  invokeSeq: number;
  completeSeq?: number;
  partition?: number;
  offset?: number;
  error?: string;
}

export interface ZnodeView {
  path: string;
  data: string;
  version: number;
  /** The owning session (hex) of an ephemeral znode. */
  ephemeralOwner?: string;
}

export interface SessionView {
  sessionId: string;
  /** The host that opened it (from zk-session-created), "" if unknown. */
  client: string;
  /** "open", or "expiring" once the leader started expiring it. */
  state: string;
}

export interface ClusterView {
  /** The playback position: state after events[0..index]. */
  index: number;
  /** Virtual µs of events[index] (0 before any). */
  t: number;
  hosts: HostView[];
  zkLeader: string | null;
  /** The active controller with the newest epoch (a paused zombie with an older epoch may also think it is). */
  controller: string | null;
  /** /controller_epoch in ZooKeeper (0 before the first election). */
  controllerEpoch: number;
  /** Every live broker that believes it is the controller, with its epoch. */
  activeControllers: { host: string; controllerEpoch: number }[];
  partitions: PartitionView[];
  zk: { znodes: ZnodeView[]; sessions: SessionView[] };
  ops: { open: OpView[]; recent: OpView[] };
  /** Consumer groups, by group id (empty for traces without groups). */
  groups: GroupView[];
  /** Transactional ids, by id (empty for traces without transactions). */
  transactions: TxnView[];
}

/** One transactional.id at the playback position: its coordinator's view and its producer's. */
export interface TxnView {
  transactionalId: string;
  /** The coordinator's state (TransactionState): Empty, Ongoing, PrepareCommit … ("Unknown" before any txn-state). */
  state: string;
  previousState: string | null;
  producerId: number;
  producerEpoch: number;
  /** The transaction's partitions as the coordinator lists them. */
  partitions: string[];
  coordinatorEpoch: number;
  /** The id's __transaction_state partition (-1 if unknown). */
  partition: number;
  coordinator: string | null;
  coordinatorStatus: "active" | "loading" | "unloaded" | "down";
  /** Index of the event that set the coordinator's status (-1: none). */
  since: number;
  /** The producer client (from producer-txn-state) and its TransactionManager state and last error. */
  client: string | null;
  producerState: string | null;
  producerError: string | null;
  /** Completed txn operations so far: committed, aborted, failed or unknown (fail / info). */
  commits: number;
  aborts: number;
  failed: number;
}

/** One member of a consumer group as the coordinator lists it, or a consumer that still owns partitions. */
export interface GroupMemberView {
  memberId: string;
  /** group.instance.id of a static member (KIP-345), else null. */
  instanceId: string | null;
  /** The client (process) running it, when a client event names the member id; null if unknown. */
  client: string | null;
  /** In the coordinator's member list at this position (false: a consumer that still believes it owns partitions). */
  inGroup: boolean;
  leader: boolean;
  /** What the client owns: partitions-assigned minus partitions-revoked / -lost; empty once its host went down. */
  assignment: string[];
  /** The generation of the client's last assignment event (-1 if none). */
  assignmentGeneration: number;
  /** records-lag per partition from the client's last metrics sample (empty if not sampled). */
  lag: { topicPartition: string; lag: number }[];
  /** records-lag-max from that sample (null if none). */
  lagMax: number | null;
}

/** The last committed offset of one partition, as a coordinator announced it (group-offsets-committed). */
export interface CommittedOffsetView {
  topicPartition: string;
  offset: number;
  /** The committing member (null when it came from a coordinator's load). */
  member: string | null;
  generation: number;
  /** Index of the event that announced it. */
  seq: number;
}

/** A consumer group at the playback position. */
export interface GroupView {
  group: string;
  /** The broker that last announced it; see coordinatorStatus for whether it still serves it. */
  coordinator: string | null;
  coordinatorStatus: "active" | "loading" | "unloaded" | "down";
  /** Empty, PreparingRebalance, CompletingRebalance, Stable, Dead. */
  state: string;
  previousState: string | null;
  generation: number;
  protocol: string | null;
  leader: string | null;
  /** The group's __consumer_offsets partition (-1 if unknown). */
  partition: number;
  members: GroupMemberView[];
  /** By topic, then partition. */
  committed: CommittedOffsetView[];
  /** Transitions into PreparingRebalance so far. */
  rebalances: number;
  /** Index of the event that set the current status. */
  since: number;
}
