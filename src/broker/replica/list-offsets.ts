/**
 * The leader's answer to ListOffsets (Partition.fetchOffsetForTimestamp): the latest offset (the HW for
 * read_uncommitted consumers, the last stable offset for read_committed ones, the log end offset for a follower resetting after OFFSET_OUT_OF_RANGE), the earliest (the log
 * start), or the first offset whose batch has a timestamp at or after the one asked. KIP-320 epoch check first,
 * then leadership. Simplification: no time index lookup (batches are scanned).
 */

import type { KafkaError, ListOffsetsRequest } from "../../protocol/kafka.ts";
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, UNDEFINED_EPOCH } from "../../protocol/kafka.ts";
import { lastOffset } from "../log/records.ts";
import type { ReplicaHost } from "./replica-host.ts";

export interface ListOffsetAnswer {
  error: KafkaError;
  timestamp: number;
  offset: number;
  leaderEpoch: number;
}

export function listOffset(host: ReplicaHost, request: ListOffsetsRequest, asked: ListOffsetsRequest["partitions"][number]): ListOffsetAnswer {
  const none = (error: KafkaError): ListOffsetAnswer => ({ error, timestamp: -1, offset: -1, leaderEpoch: UNDEFINED_EPOCH });
  const partition = host.partition(asked.topic, asked.partition);
  if (partition === undefined) return none(host.notHostedError(asked.topic, asked.partition));
  const epochError = partition.checkCurrentLeaderEpoch(asked.currentLeaderEpoch);
  if (epochError !== "NONE") return none(epochError);
  if (!partition.isLeader) return none("NOT_LEADER_OR_FOLLOWER");
  const log = partition.log;
  // Partition.fetchOffsetForTimestamp's lastFetchableOffset by isolation level.
  const lastFetchable = request.replicaId >= 0 ? log.logEndOffset : request.isolationLevel === 1 ? log.lastStableOffset : log.highWatermark;
  if (asked.timestamp === LATEST_TIMESTAMP) return { error: "NONE", timestamp: -1, offset: lastFetchable, leaderEpoch: partition.leaderEpoch };
  if (asked.timestamp === EARLIEST_TIMESTAMP) {
    return { error: "NONE", timestamp: -1, offset: log.logStartOffset, leaderEpoch: log.leaderEpochCache.epochForOffset(log.logStartOffset) };
  }
  for (const batch of log.batchesFrom(log.logStartOffset)) {
    if (batch.baseOffset >= lastFetchable) break;
    if (batch.maxTimestamp < asked.timestamp) continue;
    for (const record of batch.records) {
      const offset = batch.baseOffset + record.offsetDelta;
      const timestamp = batch.firstTimestamp + record.timestampDelta;
      if (offset >= log.logStartOffset && offset < lastFetchable && offset <= lastOffset(batch) && timestamp >= asked.timestamp) {
        return { error: "NONE", timestamp, offset, leaderEpoch: batch.partitionLeaderEpoch };
      }
    }
  }
  return { error: "NONE", timestamp: -1, offset: -1, leaderEpoch: UNDEFINED_EPOCH };
}
