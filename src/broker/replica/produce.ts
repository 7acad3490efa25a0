/**
 * The leader's Produce path (ReplicaManager.appendRecords → appendToLocalLog → Partition.appendRecordsToLeader):
 * per partition the acks, leadership, min.insync.replicas and idempotence checks, the append, then the answer
 * (acks 1) or a DelayedProduce (acks all). Simplification: an append that starts a flush (flush.messages) returns
 * before the fsync, so the request waits for it (Log.whenAppendsFlushed) before its next partition, where
 * Kafka's request handler thread is held inside UnifiedLog.append.
 */

import type { Acks, KafkaError, ProducePartitionResponse, ProduceRequest } from "../../protocol/kafka.ts";
import type { AppendOrigin } from "../log/producer-state.ts";
import type { RecordBatch } from "../log/records.ts";
import { DelayedProduce, produceResponse, type ProducePartitionStatus } from "./delayed-produce.ts";
import type { Partition } from "./partition.ts";
import type { ReplicaHost } from "./replica-host.ts";

/** What the produce path reaches of the ReplicaManager beyond ReplicaHost. */
export interface ProduceHost extends ReplicaHost {
  /** A leader's log grew: maybe advance the HW (completing parked requests), else wake parked follower fetches. */
  onLeaderAppended(partition: Partition): void;
  /** An acks=all produce: completes now or parks in the produce purgatory for `timeoutMs`. */
  watchProduce(produce: DelayedProduce, timeoutMs: number): void;
}

/** Errors appendToLocalLog answers without marking FailedProduceRequestsPerSec (its first catch clause). */
const EXPECTED_PRODUCE_ERRORS: ReadonlySet<KafkaError> = new Set<KafkaError>([
  "UNKNOWN_TOPIC_OR_PARTITION",
  "NOT_LEADER_OR_FOLLOWER",
  "KAFKA_STORAGE_ERROR",
  "INVALID_REQUIRED_ACKS",
]);

/** What appendRecords appends: a client's Produce, or a coordinator's internal write (AppendOrigin.COORDINATOR). */
export interface AppendRequest {
  readonly acks: Acks;
  readonly timeoutMs: number;
  /** The Produce's correlation id (traced by the purgatory); -1 for an internal append. */
  readonly correlationId: number;
  readonly partitions: ProduceRequest["partitions"];
  /** AppendOrigin: CLIENT (a Produce, the default) or COORDINATOR (no duplicate or sequence checks). */
  readonly origin?: AppendOrigin;
}

/** ReplicaManager.appendRecords' responseCallback: the per-partition results, once known (never for acks 0). */
export type AppendCallback = (responses: ProducePartitionResponse[]) => void;

/**
 * KafkaApis.handleProduceRequest: appendRecords with a callback that answers the client (and marks the request's
 * RequestsPerSec and per-error meters, which only network requests have).
 */
export function handleProduce(host: ProduceHost, from: string, request: ProduceRequest): void {
  const metrics = host.services.metrics;
  metrics.markRequest("Produce");
  appendRecords(host, request, (responses) => {
    for (const response of responses) metrics.markError("Produce", response.error);
    host.services.send(from, produceResponse(request.correlationId, responses));
  });
}

/**
 * ReplicaManager.appendRecords: appendToLocalLog appends to each partition in turn, then the callback runs
 * (acks 1) or the request parks in the purgatory (acks all) and the callback runs when it completes. An append
 * that triggers a flush (flush.messages) returns only once the fsync did, as UnifiedLog.append flushes inside
 * the append: the request then waits for it, so nothing is answered before its records are durable here. The
 * Produce handler and the group coordinator (GroupMetadataManager.appendForGroup) share this one path.
 */
export function appendRecords(host: ProduceHost, request: AppendRequest, callback: AppendCallback): void {
  appendToLocalLog(host, request, callback, []);
}

/** appendToLocalLog's loop, from the next partition (one status per partition done); it stops at a flush. */
function appendToLocalLog(host: ProduceHost, request: AppendRequest, callback: AppendCallback, statuses: ProducePartitionStatus[]): void {
  while (statuses.length < request.partitions.length) {
    if (appendRecordsToLeader(host, request, callback, statuses)) return;
  }
  if (request.acks === 0) return;
  if (request.acks !== -1 || !statuses.some((s) => s.acksPending)) {
    callback(statuses.map((s) => s.response));
    return;
  }
  host.watchProduce(new DelayedProduce(host, request.correlationId, statuses, callback), request.timeoutMs);
}

/**
 * Partition.appendRecordsToLeader for the request's next partition: pushes its status. Returns true when the
 * append started a flush: appendToLocalLog then goes on once it returned.
 */
function appendRecordsToLeader(host: ProduceHost, request: AppendRequest, callback: AppendCallback, statuses: ProducePartitionStatus[]): boolean {
  const { topic, partition: partitionId, batch } = request.partitions[statuses.length];
  const response: ProducePartitionResponse = { topic, partition: partitionId, error: "NONE", baseOffset: -1, logStartOffset: -1 };
  const fail = (error: KafkaError): false => {
    // ReplicaManager.appendToLocalLog marks FailedProduceRequestsPerSec except for the errors it expects.
    if (!EXPECTED_PRODUCE_ERRORS.has(error)) host.services.metrics.failedProduceRequests.mark();
    response.error = error;
    statuses.push({ requiredOffset: -1, acksPending: false, waited: false, response });
    return false;
  };
  if (request.acks !== 0 && request.acks !== 1 && request.acks !== -1) return fail("INVALID_REQUIRED_ACKS");
  const partition = host.partition(topic, partitionId);
  if (partition === undefined) return fail(host.notHostedError(topic, partitionId));
  if (!partition.isLeader) return fail("NOT_LEADER_OR_FOLLOWER");
  const minIsr = host.minInsyncReplicas(topic);
  if (request.acks === -1 && partition.isr.length < minIsr) return fail("NOT_ENOUGH_REPLICAS");
  const log = partition.log;
  // Idempotence (UnifiedLog.analyzeAndValidateProducerState, AppendOrigin.Client): dedup, epoch, sequence.
  const check = log.producerState.checkLeaderAppend(batch, request.origin);
  if (check.kind === "error") return fail(check.error);
  if (check.kind === "duplicate") {
    // Not appended again: the original offsets, error NONE; acks=all waits for the original to commit.
    const context = host.services.context;
    if (context.tracing) {
      context.trace("producer-dedup", {
        topicPartition: partition.topicPartition,
        producerId: batch.producerId,
        producerEpoch: batch.producerEpoch,
        baseSequence: batch.baseSequence,
        originalOffset: check.firstOffset,
      });
    }
    response.baseOffset = check.firstOffset;
    response.logStartOffset = log.logStartOffset;
    statuses.push({ requiredOffset: check.lastOffset + 1, acksPending: request.acks === -1, waited: request.acks === -1, response });
    return false;
  }
  const flushesBefore = log.appendFlushCount;
  const appended = log.appendAsLeader(batch, partition.leaderEpoch);
  if (appended.error !== null) return fail(appended.error === "UNEXPECTED_APPEND_OFFSET" ? "UNKNOWN_SERVER_ERROR" : appended.error);
  const status = { requiredOffset: appended.lastOffset + 1, acksPending: request.acks === -1, waited: request.acks === -1, response };
  statuses.push(status);
  const firstOffset = appended.firstOffset;
  if (!appended.flushing) {
    afterLeaderAppend(host, status, partition, batch, firstOffset);
    return false;
  }
  log.whenAppendsFlushed((error) => {
    if (error !== null) {
      // UnifiedLog.append's KafkaStorageException: the partition answers KAFKA_STORAGE_ERROR (an expected error).
      response.error = error;
      status.acksPending = false;
      status.waited = false;
    } else {
      afterLeaderAppend(host, status, partition, batch, firstOffset);
    }
    appendToLocalLog(host, request, callback, statuses);
  }, flushesBefore);
  return true;
}

/**
 * appendRecordsToLeader's tail, once the append returned: the offsets answered, the byte and message rates,
 * the HW (a single-replica ISR commits at once), parked follower fetches woken for the new data.
 */
function afterLeaderAppend(host: ProduceHost, status: ProducePartitionStatus, partition: Partition, batch: RecordBatch, firstOffset: number): void {
  status.response.baseOffset = firstOffset;
  status.response.logStartOffset = partition.log.logStartOffset;
  // Successfully appended bytes and messages (BrokerTopicStats' bytesInRate and messagesInRate).
  host.services.metrics.bytesIn.mark(batch.sizeBytes);
  host.services.metrics.messagesIn.mark(batch.records.length);
  host.onLeaderAppended(partition);
}
