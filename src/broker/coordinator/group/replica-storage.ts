/**
 * The group coordinator's link to the broker's ReplicaManager: its offsets-topic storage (one batch of records
 * through ReplicaManager.appendRecords, origin COORDINATOR, with the internal completion callback; the local log
 * for loading) and its leadership hooks (RequestHandlerHelper.onLeadershipChange: onElection for
 * __consumer_offsets partitions this broker now leads, onResignation for those it follows or deleted on
 * StopReplica). A TxnOffsetCommit's records are one transactional batch of the producer (AppendOrigin.COORDINATOR).
 * Simplification: record timestamps are the broker's clock (CREATE_TIME set by the coordinator).
 */

import { GROUP_METADATA_TOPIC_NAME } from "../../../protocol/group.ts";
import { makeBatch } from "../../log/records.ts";
import type { Partition } from "../../replica/partition.ts";
import type { LeadershipListener, ReplicaManager } from "../../replica/replica-manager.ts";
import type { GroupCoordinator } from "./group-coordinator.ts";
import type { GroupRecord, OffsetsTopicStorage } from "./group-metadata-manager.ts";

export function replicaStorage(replicaManager: () => ReplicaManager, nowMs: () => number): OffsetsTopicStorage {
  return {
    append(partition, records: readonly GroupRecord[], acks, timeoutMs, callback, producer) {
      const timestamp = nowMs();
      // A TxnOffsetCommit's batch: transactional, of the producer, at sequence 0 (MemoryRecords.builder's baseSequence).
      const txn = producer === undefined ? {} : { producerId: producer.producerId, producerEpoch: producer.producerEpoch, baseSequence: 0, isTransactional: true };
      const batch = makeBatch({ baseOffset: 0, partitionLeaderEpoch: -1, ...txn, records: records.map((r) => ({ key: r.key, value: r.value, timestamp })) });
      replicaManager().appendRecords({ acks, timeoutMs, correlationId: -1, origin: "COORDINATOR", partitions: [{ topic: GROUP_METADATA_TOPIC_NAME, partition, batch }] }, (responses) =>
        callback(responses[0].error, responses[0].baseOffset),
      );
    },
    log(partition) {
      return replicaManager().partition(GROUP_METADATA_TOPIC_NAME, partition)?.log ?? null;
    },
  };
}

export function coordinatorLeadershipListener(coordinator: GroupCoordinator): LeadershipListener {
  return {
    onLeadershipChange(leaders: readonly Partition[], followers: readonly Partition[]) {
      for (const p of leaders) if (p.topic === GROUP_METADATA_TOPIC_NAME) coordinator.onElection(p.partition, p.leaderEpoch);
      for (const p of followers) if (p.topic === GROUP_METADATA_TOPIC_NAME) coordinator.onResignation(p.partition, p.leaderEpoch);
    },
    onReplicaDeleted(topic: string, partition: number, leaderEpoch: number) {
      if (topic === GROUP_METADATA_TOPIC_NAME) coordinator.onResignation(partition, leaderEpoch >= 0 ? leaderEpoch : null);
    },
  };
}
