/**
 * __transaction_state: its creation on the first FindCoordinator with key type 1 (KafkaApis.getCoordinator →
 * AutoTopicCreationManager.createTopics, Kafka 3.6 in ZooKeeper mode, as offsets-topic.ts does for
 * __consumer_offsets): transaction.state.log.num.partitions partitions, transaction.state.log.replication.factor
 * replicas over the live brokers (too few → nothing is created and FindCoordinator keeps answering
 * COORDINATOR_NOT_AVAILABLE), the topic config of TransactionStateManager.transactionTopicConfigs
 * (cleanup.policy=compact, min.insync.replicas=transaction.state.log.min.isr, segment.bytes,
 * unclean.leader.election.enable=false) in /config/topics and the shared registry, then the assignment in
 * /brokers/topics. Also the link to the ReplicaManager (one record per append, origin COORDINATOR, acks = -1) and
 * the leadership hooks. Simplifications: one creation in flight per broker; no compression.type.
 */

import type { Disk } from "../../../disk/disk.ts";
import { TRANSACTION_STATE_TOPIC_NAME } from "../../../protocol/transaction.ts";
import type { ZkReply } from "../../../protocol/zk.ts";
import type { ProcessContext } from "../../../sim/host.ts";
import type { Rng } from "../../../sim/rng.ts";
import type { ZkClient } from "../../../zk/client.ts";
import { assignReplicasToBrokers } from "../../admin.ts";
import type { ReplicationConfig } from "../../config.ts";
import { makeBatch } from "../../log/records.ts";
import type { MetadataCache } from "../../metadata-cache.ts";
import type { Partition } from "../../replica/partition.ts";
import type { LeadershipListener, ReplicaManager } from "../../replica/replica-manager.ts";
import { encodeTopicAssignment, encodeTopicConfig, topicConfigPath, topicPath } from "../../zk-data.ts";
import type { TransactionLogStorage } from "./transaction-state-manager.ts";

const INFLIGHT_STALE_US = 30_000_000;

export interface TransactionStateTopicHost {
  readonly context: ProcessContext<Disk>;
  readonly config: ReplicationConfig;
  readonly metadataCache: MetadataCache;
  zk(): ZkClient;
  readonly topicConfigs: Map<string, Readonly<Record<string, unknown>>>;
}

/** TransactionStateManager.transactionTopicConfigs. */
export function transactionTopicConfigs(config: ReplicationConfig): Record<string, unknown> {
  return {
    "cleanup.policy": "compact",
    "min.insync.replicas": config["transaction.state.log.min.isr"],
    "segment.bytes": config["transaction.state.log.segment.bytes"],
    "unclean.leader.election.enable": false,
  };
}

export class TransactionStateTopicCreator {
  private inflightSinceUs: number | null = null;
  private rng: Rng | null = null;

  constructor(private readonly host: TransactionStateTopicHost) {}

  /** createTopics for __transaction_state (the caller answers COORDINATOR_NOT_AVAILABLE meanwhile). */
  maybeCreate(): void {
    const context = this.host.context;
    const nowUs = context.now();
    if (this.inflightSinceUs !== null && nowUs - this.inflightSinceUs < INFLIGHT_STALE_US) return;
    const config = this.host.config;
    const partitions = config["transaction.state.log.num.partitions"];
    const replicationFactor = config["transaction.state.log.replication.factor"];
    const brokers = [...this.host.metadataCache.aliveBrokers.keys()];
    if (brokers.length < replicationFactor) {
      if (context.tracing) context.trace("transaction-state-topic-create-failed", { error: "INVALID_REPLICATION_FACTOR", partitions, replicationFactor, liveBrokers: brokers.length });
      return;
    }
    const started = (this.inflightSinceUs = nowUs);
    const rng = (this.rng ??= context.rng.fork("auto-topic-creation-transaction-state"));
    const assignment = assignReplicasToBrokers(brokers, partitions, replicationFactor, (bound) => rng.int(0, bound - 1));
    const topicConfig = transactionTopicConfigs(config);
    this.host.topicConfigs.set(TRANSACTION_STATE_TOPIC_NAME, topicConfig);
    const zk = this.host.zk();
    const done = (result: string): void => {
      if (this.inflightSinceUs === started) this.inflightSinceUs = null;
      if (result === "OK" && context.tracing) context.trace("transaction-state-topic-created", { partitions, replicationFactor, assignment });
    };
    zk.create(topicConfigPath(TRANSACTION_STATE_TOPIC_NAME), encodeTopicConfig(topicConfig), {}, (configReply: ZkReply) => {
      if (configReply.code !== "OK" && configReply.code !== "NODEEXISTS") return done(configReply.code);
      const data = encodeTopicAssignment({ partitions: new Map(assignment.map((replicas, p) => [p, replicas])), addingReplicas: new Map(), removingReplicas: new Map() });
      zk.create(topicPath(TRANSACTION_STATE_TOPIC_NAME), data, {}, (created: ZkReply) => done(created.code));
    });
  }
}

/** The transaction log's storage on a broker's ReplicaManager. */
export function transactionLogStorage(replicaManager: () => ReplicaManager, nowMs: () => number): TransactionLogStorage {
  return {
    append(partition, key, value, timeoutMs, callback) {
      const batch = makeBatch({ baseOffset: 0, partitionLeaderEpoch: -1, records: [{ key, value, timestamp: nowMs() }] });
      replicaManager().appendRecords({ acks: -1, timeoutMs, correlationId: -1, partitions: [{ topic: TRANSACTION_STATE_TOPIC_NAME, partition, batch }] }, (responses) => callback(responses[0].error));
    },
    log(partition) {
      return replicaManager().partition(TRANSACTION_STATE_TOPIC_NAME, partition)?.log ?? null;
    },
  };
}

/** What the coordinator does on leadership changes of __transaction_state partitions. */
export interface TxnLeadershipHandler {
  onElection(partition: number, coordinatorEpoch: number): void;
  onResignation(partition: number, coordinatorEpoch: number | null): void;
}

/**
 * RequestHandlerHelper.onLeadershipChange for both coordinators: the group coordinator's listener gets every
 * change as before; __transaction_state partitions go to the transaction coordinator.
 */
export function withTransactionCoordinator(groupListener: LeadershipListener, txn: TxnLeadershipHandler): LeadershipListener {
  return {
    onLeadershipChange(leaders: readonly Partition[], followers: readonly Partition[]) {
      groupListener.onLeadershipChange(leaders, followers);
      for (const p of leaders) if (p.topic === TRANSACTION_STATE_TOPIC_NAME) txn.onElection(p.partition, p.leaderEpoch);
      for (const p of followers) if (p.topic === TRANSACTION_STATE_TOPIC_NAME) txn.onResignation(p.partition, p.leaderEpoch);
    },
    onReplicaDeleted(topic: string, partition: number, leaderEpoch: number) {
      groupListener.onReplicaDeleted(topic, partition, leaderEpoch);
      if (topic === TRANSACTION_STATE_TOPIC_NAME) txn.onResignation(partition, leaderEpoch >= 0 ? leaderEpoch : null);
    },
  };
}

