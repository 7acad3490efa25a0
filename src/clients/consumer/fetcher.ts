/**
 * The consumer's Fetcher (Kafka's AbstractFetch / FetchCollector): one Fetch per leader at a time for every
 * fetchable partition it leads, from the position, with the position's leader epoch (KIP-320's
 * currentLeaderEpoch), fetch.min.bytes / fetch.max.wait.ms (the broker long-polls), fetch.max.bytes and
 * max.partition.fetch.bytes. A response applies only if the partition is still fetching at the fetched offset;
 * its records advance the position and the offset epoch (the leader epoch of the last record's batch) and are
 * recorded as one `ok` poll per partition. Errors: NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH,
 * UNKNOWN_TOPIC_OR_PARTITION and other stale-metadata errors request a metadata update; UNKNOWN_LEADER_EPOCH
 * (the broker is behind) only waits; OFFSET_OUT_OF_RANGE resets by auto.offset.reset. Simplifications: no fetch
 * sessions (KIP-227), no preferred read replica (KIP-392); without a group, records reach the application as
 * soon as the response arrives (a group consumer buffers them for poll(), fetch-buffer.ts); after a partition error the partition waits retry.backoff.ms
 * before its next fetch, where the Java consumer's poll loop may fetch again at once.
 * read_committed (isolation.level): the broker reads only up to the LSO and lists the aborted transactions in the
 * range; CompletedFetch skips each aborted producer's transactional batches from the transaction's first offset to
 * its ABORT marker (readCommittedBatches), and control batches are never returned (either isolation level).
 */

import {
  CONSUMER_REPLICA_ID,
  REQUEST_HEADER_BYTES,
  type FetchPartition,
  type FetchPartitionResponse,
  type FetchRequest,
  type FetchResponse,
  type KafkaError,
} from "../../protocol/kafka.ts";
import { lastOffset, withoutRecords, type RecordBatch } from "../../broker/log/records.ts";
import { ms } from "../../sim/time.ts";
import type { ConsumerCore } from "./core.ts";
import type { TopicPartitionState } from "./subscription-state.ts";

/** Errors after which the metadata is suspect (FetchCollector.handleInitializeErrors' requestMetadataUpdate). */
const REFRESH_METADATA: ReadonlySet<KafkaError> = new Set<KafkaError>([
  "NOT_LEADER_OR_FOLLOWER",
  "REPLICA_NOT_AVAILABLE",
  "KAFKA_STORAGE_ERROR",
  "FENCED_LEADER_EPOCH",
  "UNKNOWN_TOPIC_OR_PARTITION",
  "LEADER_NOT_AVAILABLE",
]);

/** Fetcher.prepareFetchRequests: leader id → the partitions to fetch from it, for leaders without a pending fetch. */
export function prepareFetches(core: ConsumerCore, pendingNodes: ReadonlySet<number>): Map<number, FetchPartition[]> {
  const now = core.nowUs();
  const byNode = new Map<number, FetchPartition[]>();
  for (const state of core.assignment) {
    if (!state.isFetchable(now) || state.position === null) continue;
    const { leader, epoch } = state.position.currentLeader;
    if (leader < 0) {
      core.metadata.requestUpdate();
      continue;
    }
    if (pendingNodes.has(leader) || core.hasBufferedData(state)) continue;
    let partitions = byNode.get(leader);
    if (partitions === undefined) {
      partitions = [];
      byNode.set(leader, partitions);
    }
    partitions.push({
      topic: state.topic,
      partition: state.partition,
      currentLeaderEpoch: epoch,
      fetchOffset: state.position.offset,
      logStartOffset: -1,
      partitionMaxBytes: core.config["max.partition.fetch.bytes"],
      // Consumers do not send lastFetchedEpoch: they validate with OffsetsForLeaderEpoch instead.
      lastFetchedEpoch: -1,
    });
  }
  return byNode;
}

export function fetchRequest(core: ConsumerCore, correlationId: number, partitions: FetchPartition[]): FetchRequest {
  return {
    type: "Fetch",
    correlationId,
    replicaId: CONSUMER_REPLICA_ID,
    replicaEpoch: -1,
    maxWaitMs: core.config["fetch.max.wait.ms"],
    minBytes: core.config["fetch.min.bytes"],
    maxBytes: core.config["fetch.max.bytes"],
    isolationLevel: core.config["isolation.level"] === "read_committed" ? 1 : 0,
    partitions,
    sizeBytes: REQUEST_HEADER_BYTES + 32 * partitions.length,
  };
}

export function handleFetchResponse(core: ConsumerCore, request: FetchRequest, response: FetchResponse, leaderHost: string): void {
  if (response.error !== "NONE") {
    handleFetchFailure(core, request);
    return;
  }
  for (const answer of response.partitions) {
    const sent = request.partitions.find((p) => p.topic === answer.topic && p.partition === answer.partition);
    const state = core.stateOf(answer.topic, answer.partition);
    if (sent === undefined || state === undefined) continue;
    handlePartition(core, state, sent, answer, leaderHost);
  }
}

/** The request timed out (NetworkClient disconnects the node and asks for fresh metadata). */
export function handleFetchFailure(core: ConsumerCore, request: FetchRequest): void {
  core.metadata.requestUpdate();
  for (const sent of request.partitions) {
    const state = core.stateOf(sent.topic, sent.partition);
    if (state !== undefined) backOff(core, state);
  }
}

function handlePartition(core: ConsumerCore, state: TopicPartitionState, sent: FetchPartition, answer: FetchPartitionResponse, leaderHost: string): void {
  // A stale response: the partition was reset, sought or is being validated since.
  if (!state.hasValidPosition || state.failed !== null || state.position === null || state.position.offset !== sent.fetchOffset) return;
  const error = answer.error;
  if (error === "NONE") {
    consume(core, state, sent, answer, leaderHost);
    return;
  }
  if (error === "OFFSET_OUT_OF_RANGE") {
    const strategy = core.defaultResetStrategy;
    const fields = { fetchOffset: sent.fetchOffset, leaderEpoch: sent.currentLeaderEpoch, leader: leaderHost };
    if (strategy === null) {
      core.fail(state, "OFFSET_OUT_OF_RANGE", fields);
      return;
    }
    core.history("info", state, { error: "OFFSET_OUT_OF_RANGE", ...fields, resetTo: strategy });
    state.requestReset(strategy);
    return;
  }
  if (REFRESH_METADATA.has(error)) core.metadata.requestUpdate();
  core.traceEvent("consumer-fetch-error", { topicPartition: state.topicPartition, error, fetchOffset: sent.fetchOffset, leader: leaderHost });
  backOff(core, state);
}

/**
 * CompletedFetch.nextFetchedBatch's read_committed filter: the aborted transactions (by first offset) become
 * "aborted producer ids" as batches reach them (consumeAbortedTransactionsUpTo); a transactional batch of an
 * aborted producer is skipped — here: kept with no records, so the position still moves past it — and that
 * producer's ABORT marker ends the skipping. Control batches pass through (every caller skips them).
 */
export function readCommittedBatches(batches: readonly RecordBatch[], abortedTransactions: readonly { producerId: number; firstOffset: number }[]): RecordBatch[] {
  const pending = [...abortedTransactions].sort((a, b) => a.firstOffset - b.firstOffset || a.producerId - b.producerId);
  const abortedProducerIds = new Set<number>();
  let next = 0;
  return batches.map((batch) => {
    if (batch.producerId < 0) return batch;
    while (next < pending.length && pending[next].firstOffset <= lastOffset(batch)) abortedProducerIds.add(pending[next++].producerId);
    if (batch.isControl) {
      if (batch.controlType === "ABORT") abortedProducerIds.delete(batch.producerId);
      return batch;
    }
    if (batch.isTransactional && abortedProducerIds.has(batch.producerId)) return withoutRecords(batch);
    return batch;
  });
}

function consume(core: ConsumerCore, state: TopicPartitionState, sent: FetchPartition, received: FetchPartitionResponse, leaderHost: string): void {
  const readCommitted = core.config["isolation.level"] === "read_committed";
  const answer = readCommitted ? { ...received, batches: readCommittedBatches(received.batches, received.abortedTransactions ?? []) } : received;
  state.highWatermark = answer.highWatermark;
  if (core.bufferFetch(state, answer, sent.currentLeaderEpoch, leaderHost)) return;
  const position = state.position!;
  let nextOffset = position.offset;
  let offsetEpoch = position.offsetEpoch;
  const offsets: number[] = [];
  const values: (string | null)[] = [];
  for (const batch of answer.batches) {
    if (lastOffset(batch) < nextOffset) continue;
    if (!batch.isControl) {
      const count = batch.recordCount;
      for (let i = 0; i < count; i++) {
        const offset = batch.baseOffset + batch.offsetDeltaAt(i);
        if (offset < nextOffset) continue;
        offsets.push(offset);
        values.push(batch.valueAt(i));
        if (batch.partitionLeaderEpoch >= 0) offsetEpoch = batch.partitionLeaderEpoch;
      }
    }
    nextOffset = lastOffset(batch) + 1;
  }
  if (nextOffset !== position.offset) state.advance(nextOffset, offsetEpoch);
  // FetchCollector: the records returned, then the lag = the response's HW minus the new position.
  const nowUs = core.nowUs();
  core.metrics.recordsConsumed.record(offsets.length, nowUs);
  // FetchCollector: read_committed measures the lag to the last stable offset.
  const end = readCommitted ? answer.lastStableOffset : answer.highWatermark;
  core.metrics.recordPartitionLag(state.topicPartition, end - state.position!.offset, nowUs);
  if (offsets.length === 0) return;
  core.history("ok", state, { offsets, values, leaderEpoch: sent.currentLeaderEpoch, leader: leaderHost, highWatermark: answer.highWatermark });
}

function backOff(core: ConsumerCore, state: TopicPartitionState): void {
  state.fetchBackoffUntilUs = core.nowUs() + ms(core.config["retry.backoff.ms"]);
}
