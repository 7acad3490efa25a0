/**
 * Kafka's transaction protocol as plain data (KIP-98, Kafka 2.5–3.9, with KIP-890's verification): FindCoordinator
 * with key type 1 (protocol/group.ts), InitProducerId with a transactional.id (protocol/kafka.ts), AddPartitionsToTxn
 * (v4+ verifyOnly, KIP-890 part 1), AddOffsetsToTxn, EndTxn, WriteTxnMarkers (coordinator → partition leaders) and
 * TxnOffsetCommit (producer → group coordinator), with the field names of Kafka's message JSON specs.
 * Simplifications: topics and partitions as flat {topic, partition} lists; one transaction per AddPartitionsToTxn
 * (the v4 batched broker form carries one); no request versions (the behaviour a version selects is a compat switch).
 */

import type { KafkaError, KafkaRequestBase, KafkaResponseBase, TopicPartitionRef } from "./kafka.ts";

/** The internal transaction log (Topic.TRANSACTION_STATE_TOPIC_NAME). */
export const TRANSACTION_STATE_TOPIC_NAME = "__transaction_state";

/** Transaction result of EndTxn and of a marker (TransactionResult). */
export type TransactionResult = "COMMIT" | "ABORT";

// ---- AddPartitionsToTxn ----

export interface AddPartitionsToTxnRequest extends KafkaRequestBase {
  type: "AddPartitionsToTxn";
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  /** KIP-890 part 1 (v4+, broker to coordinator): only check that the partitions are in the ongoing transaction. */
  verifyOnly: boolean;
  partitions: readonly TopicPartitionRef[];
}

export interface AddPartitionsToTxnResponse extends KafkaResponseBase {
  type: "AddPartitionsToTxnResponse";
  /** Top-level error (v4+), else NONE. */
  error: KafkaError;
  /** One result per partition (OPERATION_NOT_ATTEMPTED for the others when one fails). */
  partitions: readonly { readonly topic: string; readonly partition: number; readonly error: KafkaError }[];
}

// ---- AddOffsetsToTxn ----

export interface AddOffsetsToTxnRequest extends KafkaRequestBase {
  type: "AddOffsetsToTxn";
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  /** The consumer group whose offsets the transaction commits (its __consumer_offsets partition is added). */
  groupId: string;
}

export interface AddOffsetsToTxnResponse extends KafkaResponseBase {
  type: "AddOffsetsToTxnResponse";
  error: KafkaError;
}

// ---- EndTxn ----

export interface EndTxnRequest extends KafkaRequestBase {
  type: "EndTxn";
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  /** true: commit; false: abort (EndTxnRequest.committed). */
  committed: boolean;
}

export interface EndTxnResponse extends KafkaResponseBase {
  type: "EndTxnResponse";
  error: KafkaError;
  /** KIP-890 part 2 (compat.epochBumpPerTransaction): the producer's epoch after the bump; -1 otherwise. */
  producerId: number;
  producerEpoch: number;
}

// ---- WriteTxnMarkers (coordinator → partition leaders) ----

export interface WritableTxnMarker {
  readonly producerId: number;
  readonly producerEpoch: number;
  /** true: COMMIT marker; false: ABORT marker. */
  readonly transactionResult: boolean;
  readonly partitions: readonly TopicPartitionRef[];
  /** The coordinator's epoch (its __transaction_state partition's leader epoch): a stale one is fenced. */
  readonly coordinatorEpoch: number;
}

export interface WriteTxnMarkersRequest extends KafkaRequestBase {
  type: "WriteTxnMarkers";
  markers: readonly WritableTxnMarker[];
}

export interface WriteTxnMarkersResponse extends KafkaResponseBase {
  type: "WriteTxnMarkersResponse";
  markers: readonly {
    readonly producerId: number;
    readonly partitions: readonly { readonly topic: string; readonly partition: number; readonly error: KafkaError }[];
  }[];
}

// ---- TxnOffsetCommit (producer → group coordinator, KIP-447 member fields) ----

export interface TxnOffsetCommitRequest extends KafkaRequestBase {
  type: "TxnOffsetCommit";
  transactionalId: string;
  groupId: string;
  producerId: number;
  producerEpoch: number;
  /** KIP-447: the consumer's group metadata (-1 / "" / null when not given). */
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  partitions: readonly { readonly topic: string; readonly partition: number; readonly committedOffset: number; readonly committedLeaderEpoch: number; readonly committedMetadata: string | null }[];
}

export interface TxnOffsetCommitResponse extends KafkaResponseBase {
  type: "TxnOffsetCommitResponse";
  partitions: readonly { readonly topic: string; readonly partition: number; readonly error: KafkaError }[];
}

export type TransactionRequest = AddPartitionsToTxnRequest | AddOffsetsToTxnRequest | EndTxnRequest | WriteTxnMarkersRequest | TxnOffsetCommitRequest;

export type TransactionResponse = AddPartitionsToTxnResponse | AddOffsetsToTxnResponse | EndTxnResponse | WriteTxnMarkersResponse | TxnOffsetCommitResponse;
