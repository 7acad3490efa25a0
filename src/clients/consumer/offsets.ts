/**
 * The consumer's position resets and validations (Kafka's OffsetFetcher / OffsetsForLeaderEpochClient and
 * SubscriptionState.maybeCompleteValidation). Reset: ListOffsets (EARLIEST_TIMESTAMP or LATEST_TIMESTAMP) to the
 * partition's leader; the answer becomes the position without an offset epoch, so it is not validated. Validation
 * (KIP-320, after the leader or its epoch changed): OffsetsForLeaderEpoch(position's offset epoch) to the leader;
 * an end offset below the position means the log was truncated under us — with a reset policy the position moves
 * to that end offset (an undefined answer resets by the policy), without one poll() would throw
 * LogTruncationException. Both are recorded as info polls. A request in flight holds its partitions for
 * request.timeout.ms; errors and timeouts retry after retry.backoff.ms with a metadata update.
 */

import {
  CONSUMER_REPLICA_ID,
  EARLIEST_TIMESTAMP,
  LATEST_TIMESTAMP,
  REQUEST_HEADER_BYTES,
  type ListOffsetsRequest,
  type ListOffsetsResponse,
  type OffsetsForLeaderEpochRequest,
  type OffsetsForLeaderEpochResponse,
} from "../../protocol/kafka.ts";
import { ms } from "../../sim/time.ts";
import type { ConsumerCore } from "./core.ts";
import { samePosition, type FetchPosition, type ResetStrategy, type TopicPartitionState } from "./subscription-state.ts";

export interface SentReset {
  readonly state: TopicPartitionState;
  readonly strategy: ResetStrategy;
  readonly currentLeaderEpoch: number;
}

export interface SentValidation {
  readonly state: TopicPartitionState;
  readonly position: FetchPosition;
}

/** Partitions awaiting a reset, grouped by leader id (leaders unknown: a metadata update first). */
export function prepareResets(core: ConsumerCore): Map<number, SentReset[]> {
  const now = core.nowUs();
  const byNode = new Map<number, SentReset[]>();
  for (const state of core.assignment) {
    if (state.failed !== null || state.fetchState !== "AWAIT_RESET" || state.nextRetryUs > now || state.resetStrategy === null) continue;
    const { leader, epoch } = core.metadata.currentLeader(state.topic, state.partition);
    if (leader < 0) {
      core.metadata.requestUpdate();
      continue;
    }
    state.nextRetryUs = now + ms(core.config["request.timeout.ms"]);
    const sent = byNode.get(leader) ?? [];
    byNode.set(leader, sent);
    sent.push({ state, strategy: state.resetStrategy, currentLeaderEpoch: epoch });
  }
  return byNode;
}

export function listOffsetsRequest(core: ConsumerCore, correlationId: number, sent: readonly SentReset[]): ListOffsetsRequest {
  return {
    type: "ListOffsets",
    correlationId,
    replicaId: CONSUMER_REPLICA_ID,
    isolationLevel: core.config["isolation.level"] === "read_committed" ? 1 : 0,
    partitions: sent.map(({ state, strategy, currentLeaderEpoch }) => ({
      topic: state.topic,
      partition: state.partition,
      currentLeaderEpoch,
      timestamp: strategy === "earliest" ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP,
    })),
    sizeBytes: REQUEST_HEADER_BYTES + 24 * sent.length,
  };
}

export function handleListOffsets(core: ConsumerCore, sent: readonly SentReset[], response: ListOffsetsResponse): void {
  for (const { state, strategy } of sent) {
    const answer = response.partitions.find((p) => p.topic === state.topic && p.partition === state.partition);
    // maybeSeekUnvalidated: only if the partition still awaits this reset.
    if (state.fetchState !== "AWAIT_RESET" || state.resetStrategy !== strategy || state.failed !== null) continue;
    if (answer === undefined || answer.error !== "NONE" || answer.offset < 0) {
      retryLater(core, state);
      continue;
    }
    if (answer.leaderEpoch >= 0) core.metadata.updateLastSeenEpochIfNewer(state.topicPartition, answer.leaderEpoch);
    // No offset epoch: a reset position is not validated (Fetcher.resetPositionIfNeeded).
    state.seekUnvalidated({ offset: answer.offset, offsetEpoch: -1, currentLeader: core.metadata.currentLeader(state.topic, state.partition) });
    core.traceEvent("consumer-reset", { topicPartition: state.topicPartition, strategy, offset: answer.offset });
  }
}

export function failResets(core: ConsumerCore, sent: readonly SentReset[]): void {
  for (const { state } of sent) if (state.fetchState === "AWAIT_RESET") retryLater(core, state);
}

/** Partitions awaiting validation, grouped by the leader their position names. */
export function prepareValidations(core: ConsumerCore): Map<number, SentValidation[]> {
  const now = core.nowUs();
  const byNode = new Map<number, SentValidation[]>();
  for (const state of core.assignment) {
    if (state.failed !== null || state.fetchState !== "AWAIT_VALIDATION" || state.nextRetryUs > now || state.position === null) continue;
    const leader = state.position.currentLeader.leader;
    if (leader < 0) {
      core.metadata.requestUpdate();
      continue;
    }
    state.nextRetryUs = now + ms(core.config["request.timeout.ms"]);
    const sent = byNode.get(leader) ?? [];
    byNode.set(leader, sent);
    sent.push({ state, position: state.position });
  }
  return byNode;
}

export function offsetsForLeaderEpochRequest(correlationId: number, sent: readonly SentValidation[]): OffsetsForLeaderEpochRequest {
  return {
    type: "OffsetsForLeaderEpoch",
    correlationId,
    replicaId: CONSUMER_REPLICA_ID,
    partitions: sent.map(({ state, position }) => ({
      topic: state.topic,
      partition: state.partition,
      currentLeaderEpoch: position.currentLeader.epoch,
      leaderEpoch: position.offsetEpoch,
    })),
    sizeBytes: REQUEST_HEADER_BYTES + 24 * sent.length,
  };
}

export function handleEpochs(core: ConsumerCore, sent: readonly SentValidation[], response: OffsetsForLeaderEpochResponse, leaderHost: string): void {
  for (const { state, position } of sent) {
    const answer = response.partitions.find((p) => p.topic === state.topic && p.partition === state.partition);
    if (answer === undefined || answer.error !== "NONE") {
      core.traceEvent("consumer-validate-error", { topicPartition: state.topicPartition, error: answer?.error ?? "MISSING", leader: leaderHost });
      if (state.fetchState === "AWAIT_VALIDATION" && samePosition(state.position, position)) retryLater(core, state);
      continue;
    }
    maybeCompleteValidation(core, state, position, answer.leaderEpoch, answer.endOffset, leaderHost);
  }
}

export function failValidations(core: ConsumerCore, sent: readonly SentValidation[]): void {
  for (const { state, position } of sent) if (state.fetchState === "AWAIT_VALIDATION" && samePosition(state.position, position)) retryLater(core, state);
}

/** SubscriptionState.maybeCompleteValidation. */
function maybeCompleteValidation(core: ConsumerCore, state: TopicPartitionState, requested: FetchPosition, endEpoch: number, endOffset: number, leaderHost: string): void {
  // The position moved on (a reset, another leader) since the request: this answer is stale.
  if (state.failed !== null || state.fetchState !== "AWAIT_VALIDATION" || !samePosition(state.position, requested)) return;
  const truncated = endOffset < 0 || endEpoch < 0 || endOffset < requested.offset;
  core.traceEvent("consumer-validate", {
    topicPartition: state.topicPartition,
    offset: requested.offset,
    offsetEpoch: requested.offsetEpoch,
    leaderEpoch: requested.currentLeader.epoch,
    endOffset,
    endEpoch,
    truncated,
  });
  if (!truncated) {
    state.completeValidation();
    return;
  }
  const fields = {
    position: requested.offset,
    offsetEpoch: requested.offsetEpoch,
    leaderEpoch: requested.currentLeader.epoch,
    leader: leaderHost,
    endOffset,
    endEpoch,
  };
  const strategy = core.defaultResetStrategy;
  if (strategy === null) {
    core.fail(state, "LOG_TRUNCATION", fields);
    return;
  }
  if (endOffset < 0 || endEpoch < 0) {
    // The leader knows no end for our epoch: reset by the policy.
    core.history("info", state, { error: "LOG_TRUNCATION", ...fields, resetTo: strategy });
    state.requestReset(strategy);
    return;
  }
  core.history("info", state, { error: "LOG_TRUNCATION", ...fields, resetTo: endOffset });
  state.seekValidated({ offset: endOffset, offsetEpoch: endEpoch, currentLeader: requested.currentLeader });
}

function retryLater(core: ConsumerCore, state: TopicPartitionState): void {
  state.nextRetryUs = core.nowUs() + ms(core.config["retry.backoff.ms"]);
  core.metadata.requestUpdate();
}
