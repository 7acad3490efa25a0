/**
 * The leader's reads for Fetch (ReplicaManager.readFromLocalLog): per partition the KIP-320 epoch check, the
 * leadership check, then a read from fetchOffset bounded by the log end (followers) or the high watermark
 * (read_uncommitted consumers) or the last stable offset (read_committed, FetchIsolation.TXN_COMMITTED), within
 * the request's maxBytes, at least one batch for the first partition with data; a read_committed read also
 * carries the aborted transactions overlapping the data read (LocalLog.addAbortedTransactions: from the fetch
 * offset to just past the last batch returned, where Kafka bounds by the next batch's offset in the segment —
 * the same transactions for the client). Also the FetchResponse built from the reads.
 */

import type { FetchPartition, FetchPartitionResponse, FetchRequest, FetchResponse, KafkaError } from "../../protocol/kafka.ts";
import { REQUEST_HEADER_BYTES } from "../../protocol/kafka.ts";
import type { AbortedTxn } from "../log/producer-state.ts";
import { nextOffset, type RecordBatch } from "../log/records.ts";
import type { ReplicaHost } from "./replica-host.ts";

export interface LogReadResult {
  readonly request: FetchPartition;
  error: KafkaError;
  batches: RecordBatch[];
  sizeBytes: number;
  /** The leader's HW, LSO, log start and log end at the time of the read. */
  highWatermark: number;
  lastStableOffset: number;
  /** read_committed only: the aborted transactions in the range read. */
  abortedTransactions?: AbortedTxn[];
  logStartOffset: number;
  logEndOffset: number;
}

const EMPTY: RecordBatch[] = [];

export function readFromLocalLog(host: ReplicaHost, request: FetchRequest): LogReadResult[] {
  const isFollower = request.replicaId >= 0;
  let remainingBytes = request.maxBytes;
  let minOneBatch = true;
  return request.partitions.map((fetch) => {
    const result: LogReadResult = { request: fetch, error: "NONE", batches: EMPTY, sizeBytes: 0, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, logEndOffset: -1 };
    const partition = host.partition(fetch.topic, fetch.partition);
    if (partition === undefined) {
      result.error = host.notHostedError(fetch.topic, fetch.partition);
      return result;
    }
    const epochError = partition.checkCurrentLeaderEpoch(fetch.currentLeaderEpoch);
    if (epochError !== "NONE") {
      result.error = epochError;
      return result;
    }
    if (!partition.isLeader) {
      result.error = "NOT_LEADER_OR_FOLLOWER";
      return result;
    }
    const log = partition.log;
    result.highWatermark = log.highWatermark;
    result.lastStableOffset = log.lastStableOffset;
    result.logStartOffset = log.logStartOffset;
    result.logEndOffset = log.logEndOffset;
    const readCommitted = !isFollower && request.isolationLevel === 1;
    const maxOffset = isFollower ? log.logEndOffset : readCommitted ? result.lastStableOffset : log.highWatermark;
    const read = log.read(fetch.fetchOffset, Math.min(fetch.partitionMaxBytes, remainingBytes), maxOffset, minOneBatch);
    if (read.error !== null) {
      result.error = read.error === "UNEXPECTED_APPEND_OFFSET" ? "UNKNOWN_SERVER_ERROR" : read.error;
      return result;
    }
    result.batches = read.batches;
    result.sizeBytes = read.sizeBytes;
    if (readCommitted) {
      const upperBoundOffset = read.batches.length === 0 ? fetch.fetchOffset : nextOffset(read.batches[read.batches.length - 1]);
      result.abortedTransactions = read.batches.length === 0 ? [] : log.producerState.collectAbortedTransactions(fetch.fetchOffset, upperBoundOffset);
    }
    if (read.batches.length > 0) minOneBatch = false;
    remainingBytes = Math.max(0, remainingBytes - read.sizeBytes);
    return result;
  });
}

export function fetchResponse(correlationId: number, reads: readonly LogReadResult[]): FetchResponse {
  let sizeBytes = REQUEST_HEADER_BYTES;
  const partitions: FetchPartitionResponse[] = reads.map((read) => {
    sizeBytes += 32 + read.sizeBytes + 12 * (read.abortedTransactions?.length ?? 0);
    const response: FetchPartitionResponse = {
      topic: read.request.topic,
      partition: read.request.partition,
      error: read.error,
      highWatermark: read.highWatermark,
      lastStableOffset: read.lastStableOffset,
      logStartOffset: read.logStartOffset,
      batches: read.batches,
    };
    if (read.abortedTransactions !== undefined) {
      response.abortedTransactions = read.abortedTransactions.map((txn) => ({ producerId: txn.producerId, firstOffset: txn.firstOffset }));
    }
    return response;
  });
  return { type: "FetchResponse", correlationId, error: "NONE", partitions, sizeBytes };
}
