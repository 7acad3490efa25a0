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
 * FetchPartitionData from it): what the leader needs besides — the error, the bytes read and the log end offset
 * at the read — goes into a LocalReads owned by the caller and reused from fetch to fetch.
 *
 * An incremental fetch session (KIP-227) answers only the partitions with records, a changed HW or log start
 * offset, or an error (CachedPartition.maybeUpdateResponseData). A session partition that is quiet — led here,
 * fetch offset at the read bound (nothing to read), HW and log start offset as last sent, no transactions — gets
 * no response object (null): the answer, the bytes, the order of the reads and the state are those of a full read
 * of it (0 bytes leave the response's byte budget and minOneBatch as they were). At thousands of partitions the
 * leader then builds nothing for the idle majority of a session on each of its fetches.
 */

import type { FetchPartition, FetchPartitionResponse, FetchRequest, KafkaError } from "../../protocol/kafka.ts";
import type { Log } from "../log/log.ts";
import { nextOffset, type RecordBatch } from "../log/records.ts";
import { CachedPartition } from "./fetch-session.ts";
import type { Partition } from "./partition.ts";
import type { ReplicaHost } from "./replica-host.ts";

/**
 * Per partition of the last readFromLocalLog (same index as the request's and the response's partitions): the
 * bytes read and the leader's log end offset at the time of the read (-1 on an error). Reused: one per replica
 * manager, valid until its next read, for indexes below the read's partition count (entries beyond it are stale).
 */
export class LocalReads {
  readonly errors: KafkaError[] = [];
  readonly sizeBytes: number[] = [];
  readonly logEndOffsets: number[] = [];
  /** Per partition, whether an incremental fetch's response answered it (fetch-session.ts), at its response. */
  readonly answered: boolean[] = [];
}

/** A read's response partition, or null for a quiet session partition (answered by nothing; see above). */
export type LocalRead = FetchPartitionResponse | null;

/**
 * host.partition(topic, partition), through the partition a fetch session's entry remembers while it is still
 * hosted (then it is the one the lookup finds): a session's partitions are read on every fetch of the session.
 */
export function hostedPartition(host: ReplicaHost, fetch: FetchPartition): Partition | undefined {
  if (!(fetch instanceof CachedPartition)) return host.partition(fetch.topic, fetch.partition);
  const known = fetch.hosted;
  if (known !== null && known.hosted) return known;
  const found = host.partition(fetch.topic, fetch.partition);
  fetch.hosted = found ?? null;
  return found;
}

/**
 * UnifiedLog.lastStableOffset without its producer-state walk when the log never held a transactional batch (then
 * no transaction is ongoing or unreplicated, and the LSO is the high watermark).
 */
function lastStableOffset(log: Log): number {
  return log.producerState.hasTransactions ? log.lastStableOffset : log.highWatermark;
}

const EMPTY: RecordBatch[] = [];

/**
 * One response partition per partition fetched, in order; `reads` gets the rest. `fetches` are the request's
 * partitions, or an incremental fetch's whole session (fetch-session.ts); with `changedOnly` (an incremental
 * context) a quiet session partition reads as null.
 */
export function readFromLocalLog(host: ReplicaHost, request: FetchRequest, fetches: readonly FetchPartition[], reads: LocalReads, changedOnly: boolean): LocalRead[] {
  const isFollower = request.replicaId >= 0;
  const readCommitted = !isFollower && request.isolationLevel === 1;
  const responses = new Array<LocalRead>(fetches.length);
  const errors = reads.errors;
  const sizes = reads.sizeBytes;
  const logEndOffsets = reads.logEndOffsets;
  // Entries [0, fetches.length) are written below, in order; the arrays only grow (no length set per read: a
  // shorter length would trim them and the next longer read grow them again). Readers stop at fetches.length.
  let remainingBytes = request.maxBytes;
  let minOneBatch = true;
  for (let i = 0; i < fetches.length; i++) {
    const fetch = fetches[i];
    sizes[i] = 0;
    logEndOffsets[i] = -1;
    errors[i] = "NONE";
    const partition = hostedPartition(host, fetch);
    if (changedOnly && partition !== undefined && partition.isLeader && partition.checkCurrentLeaderEpoch(fetch.currentLeaderEpoch) === "NONE") {
      const log = partition.log;
      if (isQuiet(log, fetch as CachedPartition, isFollower)) {
        responses[i] = null;
        logEndOffsets[i] = log.logEndOffset;
        continue;
      }
    }
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
    if (partition === undefined) {
      errors[i] = response.error = host.notHostedError(fetch.topic, fetch.partition);
      continue;
    }
    const epochError = partition.checkCurrentLeaderEpoch(fetch.currentLeaderEpoch);
    if (epochError !== "NONE") {
      errors[i] = response.error = epochError;
      continue;
    }
    if (!partition.isLeader) {
      errors[i] = response.error = "NOT_LEADER_OR_FOLLOWER";
      continue;
    }
    const log = partition.log;
    response.highWatermark = log.highWatermark;
    response.lastStableOffset = lastStableOffset(log);
    response.logStartOffset = log.logStartOffset;
    logEndOffsets[i] = log.logEndOffset;
    const maxOffset = isFollower ? log.logEndOffset : readCommitted ? response.lastStableOffset : log.highWatermark;
    const read = log.read(fetch.fetchOffset, Math.min(fetch.partitionMaxBytes, remainingBytes), maxOffset, minOneBatch);
    if (read.error !== null) {
      errors[i] = response.error = read.error === "UNEXPECTED_APPEND_OFFSET" ? "UNKNOWN_SERVER_ERROR" : read.error;
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

/**
 * A quiet session partition of a led, epoch-checked log: the read from the fetch offset finds nothing and no error
 * (Log.read: online, the offset within [log start, log end] and at or past the bound), and the HW and log start
 * offset are those last sent. A log with transactions is always read (its LSO walk prunes producer state).
 */
function isQuiet(log: Log, cached: CachedPartition, isFollower: boolean): boolean {
  if (log.producerState.hasTransactions || log.offline) return false;
  const fetchOffset = cached.fetchOffset;
  const highWatermark = log.highWatermark;
  if (highWatermark !== cached.highWatermark || log.logStartOffset !== cached.localLogStartOffset) return false;
  if (fetchOffset < log.logStartOffset || fetchOffset > log.logEndOffset) return false;
  // The bound: the log end for a follower, else the HW (without transactions the LSO is the HW).
  const maxOffset = isFollower ? log.logEndOffset : highWatermark;
  return fetchOffset >= maxOffset;
}
