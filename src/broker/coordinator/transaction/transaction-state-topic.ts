/**
 * __transaction_state as an internal topic (internal-topic.ts creates it on the first FindCoordinator with key
 * type 1): transaction.state.log.num.partitions partitions, transaction.state.log.replication.factor replicas, the
 * topic config of TransactionStateManager.transactionTopicConfigs (cleanup.policy=compact,
 * min.insync.replicas=transaction.state.log.min.isr, segment.bytes, unclean.leader.election.enable=false; a
 * segment.bytes LogConfig refuses → INVALID_CONFIG, nothing created, as for __consumer_offsets). Also
 * the link to the ReplicaManager (one record per append, origin COORDINATOR, acks = -1) and the leadership hooks.
 */

import { TRANSACTION_STATE_TOPIC_NAME } from "../../../protocol/transaction.ts";
import type { ReplicationConfig } from "../../config.ts";
import { makeBatch } from "../../log/records.ts";
import type { Partition } from "../../replica/partition.ts";
import type { LeadershipListener, ReplicaManager } from "../../replica/replica-manager.ts";
import type { TransactionLogStorage } from "./transaction-state-manager.ts";
import { SEGMENT_BYTES_MIN } from "../group/offsets-topic.ts";
import { InternalTopicCreator, type InternalTopicHost, type InternalTopicSpec } from "../internal-topic.ts";

/** TransactionStateManager.transactionTopicConfigs. */
export function transactionTopicConfigs(config: ReplicationConfig): Record<string, unknown> {
  return {
    "cleanup.policy": "compact",
    "min.insync.replicas": config["transaction.state.log.min.isr"],
    "segment.bytes": config["transaction.state.log.segment.bytes"],
    "unclean.leader.election.enable": false,
  };
}

export type TransactionStateTopicHost = InternalTopicHost;
export type TransactionStateTopicCreator = InternalTopicCreator;

export const TRANSACTION_STATE_TOPIC: InternalTopicSpec = {
  name: TRANSACTION_STATE_TOPIC_NAME,
  tracePrefix: "transaction-state-topic",
  rngStream: "auto-topic-creation-transaction-state",
  partitions: (config) => config["transaction.state.log.num.partitions"],
  replicationFactor: (config) => config["transaction.state.log.replication.factor"],
  topicConfig: transactionTopicConfigs,
  invalidConfig: (config) => (config["transaction.state.log.segment.bytes"] < SEGMENT_BYTES_MIN ? "segment.bytes below 14" : null),
};

/** The creator of __transaction_state for a broker. */
export function transactionStateTopicCreator(host: TransactionStateTopicHost): TransactionStateTopicCreator {
  return new InternalTopicCreator(host, TRANSACTION_STATE_TOPIC);
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

