/**
 * How the producer classifies produce errors, as Kafka's exception hierarchy does: RetriableException
 * subclasses are retried, InvalidMetadataException subclasses also trigger a metadata update. A third set is
 * the model's own, for the history: errors a broker returns before anything was appended, so a batch that
 * only ever met these surely is not in the log.
 */

import type { Acks } from "../../protocol/kafka.ts";

/** RetriableException subclasses among produce errors (and the client-side timeout and disconnect). */
const RETRIABLE: ReadonlySet<string> = new Set([
  "NOT_LEADER_OR_FOLLOWER",
  "NOT_ENOUGH_REPLICAS",
  "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
  "UNKNOWN_TOPIC_OR_PARTITION",
  "LEADER_NOT_AVAILABLE",
  "REPLICA_NOT_AVAILABLE",
  "FENCED_LEADER_EPOCH",
  "UNKNOWN_LEADER_EPOCH",
  "REQUEST_TIMED_OUT",
  "NETWORK_EXCEPTION",
  "KAFKA_STORAGE_ERROR",
  "CORRUPT_MESSAGE",
]);

/** InvalidMetadataException subclasses: the producer's metadata is stale. */
const INVALID_METADATA: ReadonlySet<string> = new Set([
  "NOT_LEADER_OR_FOLLOWER",
  "UNKNOWN_TOPIC_OR_PARTITION",
  "LEADER_NOT_AVAILABLE",
  "REPLICA_NOT_AVAILABLE",
  "FENCED_LEADER_EPOCH",
  "KAFKA_STORAGE_ERROR",
  "NETWORK_EXCEPTION",
]);

/** Errors a broker answers before appending (validation, leadership, min.insync.replicas, sequence checks). */
const BEFORE_APPEND: ReadonlySet<string> = new Set([
  "NOT_LEADER_OR_FOLLOWER",
  "NOT_ENOUGH_REPLICAS",
  "UNKNOWN_TOPIC_OR_PARTITION",
  "LEADER_NOT_AVAILABLE",
  "REPLICA_NOT_AVAILABLE",
  "BROKER_NOT_AVAILABLE",
  "FENCED_LEADER_EPOCH",
  "UNKNOWN_LEADER_EPOCH",
  "CORRUPT_MESSAGE",
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_REQUIRED_ACKS",
  "OUT_OF_ORDER_SEQUENCE_NUMBER",
  "UNKNOWN_PRODUCER_ID",
  "INVALID_PRODUCER_EPOCH",
]);

export function isRetriable(error: string): boolean {
  return RETRIABLE.has(error);
}

export function isInvalidMetadata(error: string): boolean {
  return INVALID_METADATA.has(error);
}

/**
 * Whether a produce attempt that ended with `error` may have appended its batch. With acks=all the produce
 * purgatory answers NOT_LEADER_OR_FOLLOWER (and REQUEST_TIMED_OUT) after the append (DelayedProduce).
 */
export function mayHaveAppended(error: string, acks: Acks): boolean {
  if (error === "NOT_LEADER_OR_FOLLOWER" && acks === -1) return true;
  return !BEFORE_APPEND.has(error);
}
