/**
 * The leader's Produce path (ReplicaManager.appendRecords → appendToLocalLog → Partition.appendRecordsToLeader):
 * per partition the acks, leadership, min.insync.replicas and idempotence checks, the append, then the answer
 * (acks 1) or a DelayedProduce (acks all). Simplification: an append that starts a flush (flush.messages) returns
 * before the fsync, so the request waits for it (Log.whenAppendsFlushed) before its next partition, where
 * Kafka's request handler thread is held inside UnifiedLog.append.
 * KIP-890 part 1 (compat.transactionVerification, 3.6's transaction.partition.verification.enable): a client's
 * transactional batch for a producer with no open transaction on the partition is first verified with the
 * transaction coordinator (AddPartitionsToTxnManager) under a verification guard, and appended only if the
 * coordinator answers that the partition is in the transaction and the guard still holds.
 */

import type { Acks, KafkaError, ProducePartitionResponse, ProduceRequest } from "../../protocol/kafka.ts";
import { topicPartitionKey } from "../../protocol/kafka.ts";
import { TRANSACTION_STATE_TOPIC_NAME } from "../../protocol/transaction.ts";
import { partitionForTransactionalId } from "../coordinator/transaction/transaction-state-manager.ts";
import { ProducerStateManager } from "../idempotence/producer-state-manager.ts";
import type { VerificationGuard } from "../idempotence/verification-state-entry.ts";
import type { Log } from "../log/log.ts";
import type { AppendOrigin } from "../log/producer-state.ts";
import type { RecordBatch } from "../log/records.ts";
import type { AddPartitionsToTxnManager } from "./add-partitions-to-txn-manager.ts";
import { DelayedProduce, produceResponse, type ProducePartitionStatus } from "./delayed-produce.ts";
import type { Partition } from "./partition.ts";
import type { ReplicaHost } from "./replica-host.ts";

/** What the produce path reaches of the ReplicaManager beyond ReplicaHost. */
export interface ProduceHost extends ReplicaHost {
  /** A leader's log grew: maybe advance the HW (completing parked requests), else wake parked follower fetches. */
  onLeaderAppended(partition: Partition): void;
  /** An acks=all produce: completes now or parks in the produce purgatory for `timeoutMs`. */
  watchProduce(produce: DelayedProduce, timeoutMs: number): void;
  /** KIP-890 part 1: the verifications of transactional produces. */
  readonly addPartitionsToTxnManager: AddPartitionsToTxnManager;
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
  appendClientRecords(host, request, (responses) => {
    for (const response of responses) metrics.markError("Produce", response.error);
    host.services.send(from, produceResponse(request.correlationId, responses));
  });
}

/** One appendRecords call: the request, its callback, the statuses so far and what verification decided. */
interface AppendState {
  readonly request: AppendRequest;
  readonly callback: AppendCallback;
  /**
   * One per partition, in request order: the first `done` are set. Sized to the request's partitions up front (an
   * empty array's first push would reserve 16 slots; most Produces carry one or two partitions).
   */
  readonly statuses: ProducePartitionStatus[];
  /** How many partitions are done (appended or answered without an append). */
  done: number;
  /** AppendOrigin.CLIENT: the transactional checks of analyzeAndValidateProducerState apply. */
  readonly fromClient: boolean;
  /**
   * Per partition index, the verification guard the append must still match (KIP-890 part 1). Null until a
   * transactional verification sets one: most Produces verify nothing, and allocate nothing for it.
   */
  guards: Map<number, VerificationGuard> | null;
  /** Per partition index, the answer without an append (a failed verification, or partitionEntriesForVerification's error); null when none. */
  errors: Map<number, KafkaError> | null;
}

function newAppendState(request: AppendRequest, callback: AppendCallback, fromClient: boolean): AppendState {
  return { request, callback, statuses: new Array<ProducePartitionStatus>(request.partitions.length), done: 0, fromClient, guards: null, errors: null };
}

/** Answers the request's partition `index` with `error`, without an append. */
function setError(state: AppendState, index: number, error: KafkaError): void {
  (state.errors ??= new Map()).set(index, error);
}

/** The log's ProducerStateManager (null: a log without producer state, which verifies nothing). */
function producerStateOf(log: Log): ProducerStateManager | null {
  return log.producerState instanceof ProducerStateManager ? log.producerState : null;
}

/**
 * ReplicaManager.appendRecords for a client's Produce (KafkaApis passes the transactional id and its
 * __transaction_state partition). With compat.transactionVerification and a transactional id:
 * partitionEntriesForVerification (a transactional batch for a producer without an open transaction here gets a
 * verification guard; a partition not led here is answered at once), then one AddPartitionsToTxn verifyOnly for
 * the unverified partitions to the coordinator (getTransactionCoordinator: the leader of the transactional id's
 * __transaction_state partition in the metadata cache, else COORDINATOR_NOT_AVAILABLE), and the append
 * (appendEntries) once it answers, the unverified partitions failed with 3.6's client errors.
 */
function appendClientRecords(host: ProduceHost, request: ProduceRequest, callback: AppendCallback): void {
  const state = newAppendState(request, callback, true);
  const services = host.services;
  const transactionalId = request.transactionalId;
  const validAcks = request.acks === 0 || request.acks === 1 || request.acks === -1;
  if (!services.compat.transactionVerification || transactionalId === null || transactionalId === "" || !validAcks) {
    appendToLocalLog(host, state);
    return;
  }
  const unverified: number[] = [];
  const producerIds = new Set<number>();
  request.partitions.forEach(({ topic, partition: partitionId, batch }, index) => {
    if (batch.producerId < 0 || !batch.isTransactional) return;
    producerIds.add(batch.producerId);
    const partition = host.partition(topic, partitionId);
    if (partition === undefined) return void setError(state, index, host.notHostedError(topic, partitionId));
    if (!partition.isLeader) return void setError(state, index, "NOT_LEADER_OR_FOLLOWER");
    const guard = producerStateOf(partition.log)?.maybeStartTransactionVerification(batch.producerId, batch.baseSequence, batch.producerEpoch, services.nowMs()) ?? null;
    if (guard === null) return;
    (state.guards ??= new Map()).set(index, guard);
    unverified.push(index);
  });
  if (producerIds.size > 1) {
    // InvalidPidMappingException out of appendRecords: KafkaApis answers every partition with it.
    if (request.acks === 0) return;
    callback(request.partitions.map(({ topic, partition }) => ({ topic, partition, error: "INVALID_PRODUCER_ID_MAPPING", baseOffset: -1, logStartOffset: -1 })));
    return;
  }
  if (unverified.length === 0) {
    appendToLocalLog(host, state);
    return;
  }
  const first = request.partitions[unverified[0]].batch;
  const onVerified = (failed: ReadonlyMap<string, KafkaError>): void => {
    for (const index of unverified) {
      const { topic, partition } = request.partitions[index];
      const error = failed.get(topicPartitionKey(topic, partition));
      const context = services.context;
      if (context.tracing) {
        context.trace("txn-verification", { topic, partition, producerId: first.producerId, producerEpoch: first.producerEpoch, transactionalId, result: error ?? "verified" });
      }
      if (error !== undefined) setError(state, index, verificationErrorForClient(error));
    }
    appendToLocalLog(host, state);
  };
  const txnPartition = partitionForTransactionalId(transactionalId, services.config["transaction.state.log.num.partitions"]);
  const coordinator = transactionCoordinatorNode(host, txnPartition);
  if (coordinator === null) {
    onVerified(new Map(unverified.map((i) => [topicPartitionKey(request.partitions[i].topic, request.partitions[i].partition), "COORDINATOR_NOT_AVAILABLE"])));
    return;
  }
  const partitions = unverified.map((i) => ({ topic: request.partitions[i].topic, partition: request.partitions[i].partition }));
  host.addPartitionsToTxnManager.addTxnData(coordinator, { transactionalId, producerId: first.producerId, producerEpoch: first.producerEpoch, partitions }, onVerified);
}

/** ReplicaManager.getTransactionCoordinator: the live leader of the __transaction_state partition, or null. */
function transactionCoordinatorNode(host: ProduceHost, txnPartition: number): number | null {
  const cache = host.services.metadataCache;
  const leader = cache.partition(TRANSACTION_STATE_TOPIC_NAME, txnPartition)?.leader;
  return leader !== undefined && leader >= 0 && cache.aliveBrokers.has(leader) ? leader : null;
}

/**
 * appendEntries' unverified results (3.6): INVALID_TXN_STATE ("Partition was not added to the transaction") as is;
 * the coordinator's retriable errors become NotEnoughReplicasException so the producer retries; the rest as is.
 */
export function verificationErrorForClient(error: KafkaError): KafkaError {
  switch (error) {
    case "CONCURRENT_TRANSACTIONS":
    case "COORDINATOR_LOAD_IN_PROGRESS":
    case "COORDINATOR_NOT_AVAILABLE":
    case "NOT_COORDINATOR":
      return "NOT_ENOUGH_REPLICAS";
    default:
      return error;
  }
}

/**
 * ReplicaManager.appendRecords: appendToLocalLog appends to each partition in turn, then the callback runs
 * (acks 1) or the request parks in the purgatory (acks all) and the callback runs when it completes. An append
 * that triggers a flush (flush.messages) returns only once the fsync did, as UnifiedLog.append flushes inside
 * the append: the request then waits for it, so nothing is answered before its records are durable here. The
 * Produce handler and the group coordinator (GroupMetadataManager.appendForGroup) share this one path.
 */
export function appendRecords(host: ProduceHost, request: AppendRequest, callback: AppendCallback): void {
  appendToLocalLog(host, newAppendState(request, callback, false));
}

/** appendToLocalLog's loop, from the next partition (one status per partition done); it stops at a flush. */
function appendToLocalLog(host: ProduceHost, state: AppendState): void {
  const { request, callback, statuses } = state;
  while (state.done < request.partitions.length) {
    const error = state.errors?.get(state.done);
    if (error !== undefined) {
      // Not appended: unverifiedResults / errorResults (no FailedProduceRequestsPerSec mark).
      const { topic, partition } = request.partitions[state.done];
      statuses[state.done++] = { requiredOffset: -1, acksPending: false, waited: false, response: { topic, partition, error, baseOffset: -1, logStartOffset: -1 }, partition: null };
      continue;
    }
    if (appendRecordsToLeader(host, state)) return;
  }
  if (request.acks === 0) return;
  if (request.acks !== -1 || !anyAcksPending(statuses)) {
    callback(statuses.map((s) => s.response));
    return;
  }
  host.watchProduce(new DelayedProduce(host, request.correlationId, statuses, callback), request.timeoutMs);
}

/**
 * Partition.appendRecordsToLeader for the request's next partition: pushes its status. Returns true when the
 * append started a flush: appendToLocalLog then goes on once it returned.
 */
function appendRecordsToLeader(host: ProduceHost, state: AppendState): boolean {
  const request = state.request;
  const index = state.done;
  const { topic, partition: partitionId, batch } = request.partitions[index];
  const response: ProducePartitionResponse = { topic, partition: partitionId, error: "NONE", baseOffset: -1, logStartOffset: -1 };
  if (request.acks !== 0 && request.acks !== 1 && request.acks !== -1) return failAppend(host, state, response, "INVALID_REQUIRED_ACKS");
  const partition = host.partition(topic, partitionId);
  if (partition === undefined) return failAppend(host, state, response, host.notHostedError(topic, partitionId));
  if (!partition.isLeader) return failAppend(host, state, response, "NOT_LEADER_OR_FOLLOWER");
  if (request.acks === -1 && partition.isr.length < partition.effectiveMinIsr) return failAppend(host, state, response, "NOT_ENOUGH_REPLICAS");
  const log = partition.log;
  // Idempotence (UnifiedLog.analyzeAndValidateProducerState, AppendOrigin.Client): dedup, epoch, sequence.
  const check = log.producerState.checkLeaderAppend(batch, request.origin ?? "CLIENT");
  if (check.kind !== "duplicate" && missingRequiredVerification(host, state, log, batch, index)) return failAppend(host, state, response, "INVALID_TXN_STATE");
  if (check.kind === "error") return failAppend(host, state, response, check.error);
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
    state.statuses[state.done++] = { requiredOffset: check.lastOffset + 1, acksPending: request.acks === -1, waited: request.acks === -1, response, partition };
    return false;
  }
  const flushesBefore = log.appendFlushCount;
  const appended = log.appendAsLeader(batch, partition.leaderEpoch);
  if (appended.error !== null) return failAppend(host, state, response, appended.error === "UNEXPECTED_APPEND_OFFSET" ? "UNKNOWN_SERVER_ERROR" : appended.error);
  const status: ProducePartitionStatus = { requiredOffset: appended.lastOffset + 1, acksPending: request.acks === -1, waited: request.acks === -1, response, partition };
  state.statuses[state.done++] = status;
  const firstOffset = appended.firstOffset;
  if (!appended.flushing) {
    afterLeaderAppend(host, status, partition, batch, firstOffset);
    return false;
  }
  host.appendFlushStarted = true;
  log.whenAppendsFlushed((error) => {
    if (error !== null) {
      // UnifiedLog.append's KafkaStorageException: the partition answers KAFKA_STORAGE_ERROR (an expected error).
      response.error = error;
      status.acksPending = false;
      status.waited = false;
    } else {
      afterLeaderAppend(host, status, partition, batch, firstOffset);
    }
    appendToLocalLog(host, state);
  }, flushesBefore);
  return true;
}

/** appendRecordsToLeader's failure: the partition's status with `error` and no append. */
function failAppend(host: ProduceHost, state: AppendState, response: ProducePartitionResponse, error: KafkaError): false {
  // ReplicaManager.appendToLocalLog marks FailedProduceRequestsPerSec except for the errors it expects.
  if (!EXPECTED_PRODUCE_ERRORS.has(error)) host.services.metrics.failedProduceRequests.mark();
  response.error = error;
  state.statuses[state.done++] = { requiredOffset: -1, acksPending: false, waited: false, response, partition: null };
  return false;
}

function anyAcksPending(statuses: readonly ProducePartitionStatus[]): boolean {
  for (const status of statuses) if (status.acksPending) return true;
  return false;
}

/**
 * analyzeAndValidateProducerState's KIP-890 check (AppendOrigin.CLIENT, after the duplicate check): a transactional
 * batch for a producer with no open transaction here needs the guard of a verification still pending on the
 * partition (batchMissingRequiredVerification); a marker or data batch appended since cleared it, so a
 * verification answered before an ABORT marker cannot open a transaction after it ("Record was not part of an
 * ongoing transaction", INVALID_TXN_STATE).
 */
function missingRequiredVerification(host: ProduceHost, state: AppendState, log: Log, batch: RecordBatch, index: number): boolean {
  if (!state.fromClient || !host.services.compat.transactionVerification || !batch.isTransactional || batch.producerId < 0) return false;
  const producerState = producerStateOf(log);
  if (producerState === null || producerState.hasOngoingTransaction(batch.producerId)) return false;
  const guard = state.guards?.get(index) ?? null;
  return guard === null || guard !== producerState.verificationGuard(batch.producerId);
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
  host.services.metrics.messagesIn.mark(batch.recordCount);
  host.onLeaderAppended(partition);
}
