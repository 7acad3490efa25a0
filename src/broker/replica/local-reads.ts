/**
 * The leader's reads for Fetch (ReplicaManager.readFromLocalLog): per partition the KIP-320 epoch check, the
 * leadership check, then a read from fetchOffset bounded by the log end (followers) or the high watermark
 * (read_uncommitted consumers) or the last stable offset (read_committed, FetchIsolation.TXN_COMMITTED), within
 * the request's maxBytes, at least one batch for the first partition with data; a read_committed read also
 * carries the aborted transactions overlapping the data read (LocalLog.addAbortedTransactions: from the fetch
 * offset to just past the last batch returned, where Kafka bounds by the next batch's offset in the segment —
 * the same transactions for the client). The response is the FetchContext's (fetch-session.ts).
 *
 * The reads are the response's partitions themselves (Kafka builds a LogReadResult and then a
 * FetchPartitionData from it): what the leader needs besides — the bytes read and the log end offset at the
 * read — goes into a LocalReads owned by the caller and reused from fetch to fetch.
 */

import type { FetchPartition, FetchPartitionResponse, FetchRequest } from "../../protocol/kafka.ts";
import { nextOffset, type RecordBatch } from "../log/records.ts";
import type { ReplicaHost } from "./replica-host.ts";

/**
 * Per partition of the last readFromLocalLog (same index as the request's and the response's partitions): the
 * bytes read and the leader's log end offset at the time of the read (-1 on an error). Reused: one per replica
 * manager, valid until its next read.
 */
export class LocalReads {
  readonly sizeBytes: number[] = [];
  readonly logEndOffsets: number[] = [];
}

const EMPTY: RecordBatch[] = [];

/**
 * One response partition per partition fetched, in order; `reads` gets the rest. `fetches` are the request's
 * partitions, or an incremental fetch's whole session (fetch-session.ts).
 */
export function readFromLocalLog(host: ReplicaHost, request: FetchRequest, fetches: readonly FetchPartition[], reads: LocalReads): FetchPartitionResponse[] {
  const isFollower = request.replicaId >= 0;
  const responses = new Array<FetchPartitionResponse>(fetches.length);
  const sizes = reads.sizeBytes;
  const logEndOffsets = reads.logEndOffsets;
  sizes.length = fetches.length;
  logEndOffsets.length = fetches.length;
  let remainingBytes = request.maxBytes;
  let minOneBatch = true;
  for (let i = 0; i < fetches.length; i++) {
    const fetch = fetches[i];
    const response: FetchPartitionResponse = {
      topic: fetch.topic,
      partition: fetch.partition,
      error: "NONE",
      highWatermark: -1,
      lastStableOffset: -1,
      logStartOffset: -1,
      batches: EMPTY,
    };
    responses[i] = response;
    sizes[i] = 0;
    logEndOffsets[i] = -1;
    const partition = host.partition(fetch.topic, fetch.partition);
    if (partition === undefined) {
      response.error = host.notHostedError(fetch.topic, fetch.partition);
      continue;
    }
    const epochError = partition.checkCurrentLeaderEpoch(fetch.currentLeaderEpoch);
    if (epochError !== "NONE") {
      response.error = epochError;
      continue;
    }
    if (!partition.isLeader) {
      response.error = "NOT_LEADER_OR_FOLLOWER";
      continue;
    }
    const log = partition.log;
    response.highWatermark = log.highWatermark;
    response.lastStableOffset = log.lastStableOffset;
    response.logStartOffset = log.logStartOffset;
    logEndOffsets[i] = log.logEndOffset;
    const readCommitted = !isFollower && request.isolationLevel === 1;
    const maxOffset = isFollower ? log.logEndOffset : readCommitted ? response.lastStableOffset : log.highWatermark;
    const read = log.read(fetch.fetchOffset, Math.min(fetch.partitionMaxBytes, remainingBytes), maxOffset, minOneBatch);
    if (read.error !== null) {
      response.error = read.error === "UNEXPECTED_APPEND_OFFSET" ? "UNKNOWN_SERVER_ERROR" : read.error;
      continue;
    }
    response.batches = read.batches;
    sizes[i] = read.sizeBytes;
    if (readCommitted) {
      const upperBoundOffset = read.batches.length === 0 ? fetch.fetchOffset : nextOffset(read.batches[read.batches.length - 1]);
      const aborted = read.batches.length === 0 ? [] : log.producerState.collectAbortedTransactions(fetch.fetchOffset, upperBoundOffset);
      response.abortedTransactions = aborted.map((txn) => ({ producerId: txn.producerId, firstOffset: txn.firstOffset }));
    }
    if (read.batches.length > 0) minOneBatch = false;
    remainingBytes = Math.max(0, remainingBytes - read.sizeBytes);
  }
  return responses;
}
