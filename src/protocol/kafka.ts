/**
 * Kafka's request/response protocol as plain data: the APIs brokers, the controller and clients exchange
 * (Produce, Fetch, Metadata, ListOffsets, OffsetsForLeaderEpoch, LeaderAndIsr, UpdateMetadata, StopReplica,
 * ControlledShutdown, AlterIsr) and the error codes of Errors.java by name. No bytes on the wire: each message
 * is an object whose `type` names it in the trace, and `sizeBytes` approximates its size for bandwidth caps.
 * Simplifications: one record batch per partition per Produce; no fetch sessions (KIP-227), throttling,
 * API versions negotiation or rack awareness; responses answer on the same link the request came on.
 */

import type { Message } from "../sim/host.ts";
import type { RecordBatch } from "../broker/log/records.ts";
import type { GroupRequest, GroupResponse } from "./group.ts";
import type { TransactionRequest, TransactionResponse } from "./transaction.ts";

/** Errors.java by name. NONE means success. Kafka errors are typed values, never exceptions. */
export type KafkaError =
  | "NONE"
  | "UNKNOWN_SERVER_ERROR"
  | "OFFSET_OUT_OF_RANGE"
  | "CORRUPT_MESSAGE"
  | "UNKNOWN_TOPIC_OR_PARTITION"
  | "LEADER_NOT_AVAILABLE"
  | "NOT_LEADER_OR_FOLLOWER"
  | "REQUEST_TIMED_OUT"
  | "BROKER_NOT_AVAILABLE"
  | "REPLICA_NOT_AVAILABLE"
  | "MESSAGE_TOO_LARGE"
  | "STALE_CONTROLLER_EPOCH"
  | "NETWORK_EXCEPTION"
  | "NOT_ENOUGH_REPLICAS"
  // ---- KIP-227 fetch sessions (Fetch v7+) ----
  | "FETCH_SESSION_ID_NOT_FOUND"
  | "INVALID_FETCH_SESSION_EPOCH"
  | "NOT_ENOUGH_REPLICAS_AFTER_APPEND"
  | "INVALID_REQUIRED_ACKS"
  | "NOT_CONTROLLER"
  | "RECORD_LIST_TOO_LARGE"
  | "KAFKA_STORAGE_ERROR"
  | "OUT_OF_ORDER_SEQUENCE_NUMBER"
  | "DUPLICATE_SEQUENCE_NUMBER"
  | "INVALID_PRODUCER_EPOCH"
  | "UNKNOWN_PRODUCER_ID"
  | "FENCED_LEADER_EPOCH"
  | "UNKNOWN_LEADER_EPOCH"
  | "STALE_BROKER_EPOCH"
  | "INVALID_UPDATE_VERSION"
  | "OPERATION_NOT_ATTEMPTED"
  | "TOPIC_ALREADY_EXISTS"
  | "INVALID_REPLICATION_FACTOR"
  | "ELECTION_NOT_NEEDED"
  | "PREFERRED_LEADER_NOT_AVAILABLE"
  | "INVALID_REQUEST"
  /** Retriable: the coordinator is loading (InitProducerId: no producer id block yet, as RPCProducerIdManager). */
  | "COORDINATOR_LOAD_IN_PROGRESS"
  | "NOT_COORDINATOR"
  /** AlterIsr (3.3+, KIP-841): a proposed ISR member is not live or not a replica. */
  | "INELIGIBLE_REPLICA"
  // ---- Consumer groups (protocol/group.ts) ----
  | "COORDINATOR_NOT_AVAILABLE"
  | "ILLEGAL_GENERATION"
  | "INCONSISTENT_GROUP_PROTOCOL"
  | "INVALID_GROUP_ID"
  | "UNKNOWN_MEMBER_ID"
  | "INVALID_SESSION_TIMEOUT"
  | "REBALANCE_IN_PROGRESS"
  | "INVALID_COMMIT_OFFSET_SIZE"
  | "OFFSET_METADATA_TOO_LARGE"
  | "GROUP_ID_NOT_FOUND"
  | "MEMBER_ID_REQUIRED"
  | "GROUP_MAX_SIZE_REACHED"
  | "FENCED_INSTANCE_ID"
  | "UNSTABLE_OFFSET_COMMIT"
  | "UNSUPPORTED_VERSION"
  // ---- Transactions (protocol/transaction.ts) ----
  | "CONCURRENT_TRANSACTIONS"
  | "INVALID_TXN_STATE"
  | "INVALID_PRODUCER_ID_MAPPING"
  | "INVALID_TRANSACTION_TIMEOUT"
  | "PRODUCER_FENCED"
  | "TRANSACTION_COORDINATOR_FENCED"
  | "TRANSACTIONAL_ID_NOT_FOUND"
  | "TRANSACTION_ABORTABLE";

/** Leader epoch / offset sentinels (RecordBatch.NO_PARTITION_LEADER_EPOCH, UNDEFINED_EPOCH_OFFSET). */
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;
/** Consumers fetch with replicaId -1 (FetchRequest.CONSUMER_REPLICA_ID); followers with their broker id. */
export const CONSUMER_REPLICA_ID = -1;
/** ListOffsets timestamps: the latest offset (the HW, or LSO for read_committed) and the log start. */
export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;
/** The leader id of a partition without a leader (LeaderAndIsr.NoLeader). */
export const NO_LEADER = -1;

/** Every Kafka request carries a correlation id; its response echoes it. */
export interface KafkaRequestBase extends Message {
  readonly correlationId: number;
}

export interface KafkaResponseBase extends Message {
  readonly correlationId: number;
}

export interface TopicPartitionRef {
  readonly topic: string;
  readonly partition: number;
}

// ---- Produce ----

/** acks: 0 (no response), 1 (leader append), -1 (all: the ISR, via the produce purgatory). */
export type Acks = 0 | 1 | -1;

export interface ProduceRequest extends KafkaRequestBase {
  type: "Produce";
  acks: Acks;
  /** How long the broker may hold an acks=all request in purgatory (the producer's request.timeout.ms). */
  timeoutMs: number;
  transactionalId: string | null;
  partitions: readonly { topic: string; partition: number; batch: RecordBatch }[];
}

export interface ProducePartitionResponse {
  topic: string;
  partition: number;
  error: KafkaError;
  /** The first offset assigned to the batch; -1 on error. */
  baseOffset: number;
  logStartOffset: number;
}

export interface ProduceResponse extends KafkaResponseBase {
  type: "ProduceResponse";
  partitions: ProducePartitionResponse[];
}

// ---- Fetch ----

export interface FetchPartition {
  topic: string;
  partition: number;
  /** KIP-320: the fetcher's view of the leader epoch (-1: not checked, as old clients). */
  currentLeaderEpoch: number;
  fetchOffset: number;
  /** The follower's log start offset (followers only). */
  logStartOffset: number;
  partitionMaxBytes: number;
  /** IBP 2.7+: the epoch of the last fetched batch, for divergence detection inside Fetch (-1: none). */
  lastFetchedEpoch: number;
}

/**
 * KIP-227's FetchMetadata (Fetch v7+): session id 0 (INVALID_SESSION_ID) is no session; epoch INITIAL_EPOCH (0)
 * asks for a full fetch that creates a session, FINAL_EPOCH (-1) for a full fetch without one; epochs 1, 2, …
 * are the incremental fetches of a session.
 */
export const INVALID_SESSION_ID = 0;
export const INITIAL_EPOCH = 0;
export const FINAL_EPOCH = -1;

/** FetchMetadata.nextEpoch: FINAL stays FINAL; after Int.MaxValue comes 1. */
export function nextFetchEpoch(epoch: number): number {
  if (epoch < 0) return FINAL_EPOCH;
  if (epoch === 2_147_483_647) return 1;
  return epoch + 1;
}

/** FetchMetadata.isFull. */
export function isFullFetch(epoch: number): boolean {
  return epoch === INITIAL_EPOCH || epoch === FINAL_EPOCH;
}

/** Bytes a session adds: session id and epoch to a request, error code and session id to a response; per forgotten partition. */
export const FETCH_SESSION_REQUEST_BYTES = 8;
export const FETCH_SESSION_RESPONSE_BYTES = 6;
export const FORGOTTEN_PARTITION_BYTES = 8;

export interface FetchRequest extends KafkaRequestBase {
  type: "Fetch";
  /** The follower's broker id, or CONSUMER_REPLICA_ID. */
  replicaId: number;
  /** The follower's broker epoch (KIP-380); -1 for consumers. */
  replicaEpoch: number;
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  /** 0 read_uncommitted, 1 read_committed. */
  isolationLevel: 0 | 1;
  /** A full fetch: every partition; an incremental one: only the partitions added or changed since the last. */
  partitions: readonly FetchPartition[];
  /** KIP-227 (v7+): the session and its epoch; absent (an older request) is sessionless. */
  sessionId?: number;
  sessionEpoch?: number;
  /** KIP-227 (forgotten_topics_data): partitions an incremental fetch removes from its session. */
  forgottenPartitions?: readonly TopicPartitionRef[];
}

export interface FetchPartitionResponse {
  topic: string;
  partition: number;
  error: KafkaError;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  /** IBP 2.7+: set when the fetch's lastFetchedEpoch diverges from the leader's log (truncate first). */
  divergingEpoch?: { epoch: number; endOffset: number };
  /** Producer ids with aborted transactions in the returned range (read_committed). */
  abortedTransactions?: { producerId: number; firstOffset: number }[];
  batches: RecordBatch[];
}

export interface FetchResponse extends KafkaResponseBase {
  type: "FetchResponse";
  /** NONE, or a session error (FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH) with no partitions. */
  error: KafkaError;
  /** A full or sessionless fetch: every partition; an incremental one: those with news (fetch-session.ts). */
  partitions: FetchPartitionResponse[];
  /** KIP-227 (v7+): the session created or continued, INVALID_SESSION_ID for none; absent for an older request. */
  sessionId?: number;
}

// ---- Metadata ----

export interface MetadataRequest extends KafkaRequestBase {
  type: "Metadata";
  /** null: every topic. */
  topics: string[] | null;
}

export interface MetadataPartition {
  partition: number;
  error: KafkaError;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
}

export interface MetadataTopic {
  name: string;
  error: KafkaError;
  partitions: MetadataPartition[];
}

export interface MetadataResponse extends KafkaResponseBase {
  type: "MetadataResponse";
  /** Live brokers: id and host name (the host name is the network address). */
  brokers: { nodeId: number; host: string }[];
  controllerId: number;
  topics: MetadataTopic[];
}

// ---- ListOffsets ----

export interface ListOffsetsRequest extends KafkaRequestBase {
  type: "ListOffsets";
  replicaId: number;
  isolationLevel: 0 | 1;
  partitions: readonly { topic: string; partition: number; currentLeaderEpoch: number; timestamp: number }[];
}

export interface ListOffsetsResponse extends KafkaResponseBase {
  type: "ListOffsetsResponse";
  partitions: { topic: string; partition: number; error: KafkaError; timestamp: number; offset: number; leaderEpoch: number }[];
}

// ---- OffsetsForLeaderEpoch (KIP-101 / KIP-279 / KIP-320) ----

export interface OffsetsForLeaderEpochRequest extends KafkaRequestBase {
  type: "OffsetsForLeaderEpoch";
  /** The follower's broker id, or CONSUMER_REPLICA_ID (KIP-320 consumers validating a position). */
  replicaId: number;
  partitions: readonly { topic: string; partition: number; currentLeaderEpoch: number; leaderEpoch: number }[];
}

export interface OffsetsForLeaderEpochResponse extends KafkaResponseBase {
  type: "OffsetsForLeaderEpochResponse";
  /**
   * leaderEpoch: the largest epoch ≤ the requested one the leader knows (KIP-279; under compat "kip-101" the
   * requested epoch echoed back, or -1); endOffset: that epoch's end offset, or -1 (UNDEFINED_EPOCH_OFFSET).
   */
  partitions: { topic: string; partition: number; error: KafkaError; leaderEpoch: number; endOffset: number }[];
}

// ---- Controller → broker ----

/** LeaderAndIsrRequest's per-partition state (LeaderAndIsrPartitionState). */
export interface LeaderAndIsrPartitionState {
  topic: string;
  partition: number;
  controllerEpoch: number;
  leader: number;
  leaderEpoch: number;
  isr: number[];
  /** The partition state znode's version (partition epoch). */
  zkVersion: number;
  /** The full assignment, adding replicas included. */
  replicas: number[];
  addingReplicas: number[];
  removingReplicas: number[];
  /** The partition was just created: the broker may create its log from scratch. */
  isNew: boolean;
}

export interface LeaderAndIsrRequest extends KafkaRequestBase {
  type: "LeaderAndIsr";
  controllerId: number;
  controllerEpoch: number;
  /** The receiving broker's epoch as the controller knows it (KIP-380): a stale one is rejected. */
  brokerEpoch: number;
  partitionStates: LeaderAndIsrPartitionState[];
  /** The leaders named in partitionStates, with their hosts. */
  liveLeaders: { brokerId: number; host: string }[];
}

export interface LeaderAndIsrResponse extends KafkaResponseBase {
  type: "LeaderAndIsrResponse";
  error: KafkaError;
  partitionErrors: { topic: string; partition: number; error: KafkaError }[];
}

export interface UpdateMetadataPartitionState {
  topic: string;
  partition: number;
  controllerEpoch: number;
  leader: number;
  leaderEpoch: number;
  isr: number[];
  zkVersion: number;
  replicas: number[];
  offlineReplicas: number[];
}

export interface UpdateMetadataRequest extends KafkaRequestBase {
  type: "UpdateMetadata";
  controllerId: number;
  controllerEpoch: number;
  brokerEpoch: number;
  partitionStates: UpdateMetadataPartitionState[];
  liveBrokers: { id: number; host: string }[];
  /** Topics being deleted: removed from the metadata cache. */
  deletedTopics?: string[];
}

export interface UpdateMetadataResponse extends KafkaResponseBase {
  type: "UpdateMetadataResponse";
  error: KafkaError;
}

export interface StopReplicaRequest extends KafkaRequestBase {
  type: "StopReplica";
  controllerId: number;
  controllerEpoch: number;
  brokerEpoch: number;
  /** leaderEpoch -2 (EpochDuringDelete) when deleting a topic; -1 means "no check". */
  partitions: { topic: string; partition: number; leaderEpoch: number; deletePartition: boolean }[];
}

export interface StopReplicaResponse extends KafkaResponseBase {
  type: "StopReplicaResponse";
  error: KafkaError;
  partitionErrors: { topic: string; partition: number; error: KafkaError }[];
}

// ---- Broker → controller ----

export interface ControlledShutdownRequest extends KafkaRequestBase {
  type: "ControlledShutdown";
  brokerId: number;
  brokerEpoch: number;
}

export interface ControlledShutdownResponse extends KafkaResponseBase {
  type: "ControlledShutdownResponse";
  error: KafkaError;
  /** Partitions still led by the broker (the broker retries while this is not empty). */
  remainingPartitions: { topic: string; partition: number }[];
}

/** KIP-497 AlterIsr (compat.isrUpdate "alter-isr"): the leader asks the controller to change an ISR. */
export interface AlterIsrRequest extends KafkaRequestBase {
  type: "AlterIsr";
  brokerId: number;
  brokerEpoch: number;
  partitions: { topic: string; partition: number; leaderEpoch: number; newIsr: number[]; partitionEpoch: number }[];
}

export interface AlterIsrResponse extends KafkaResponseBase {
  type: "AlterIsrResponse";
  error: KafkaError;
  partitions: {
    topic: string;
    partition: number;
    error: KafkaError;
    leaderId: number;
    leaderEpoch: number;
    isr: number[];
    partitionEpoch: number;
  }[];
}

// ---- Idempotent producer ----

/** InitProducerId (KIP-98): a producer id and epoch from any broker (idempotent) or the txn coordinator. */
export interface InitProducerIdRequest extends KafkaRequestBase {
  type: "InitProducerId";
  transactionalId: string | null;
  transactionTimeoutMs: number;
  /** KIP-360: the current id and epoch when asking for a bump (-1 for a new producer). */
  producerId: number;
  producerEpoch: number;
}

export interface InitProducerIdResponse extends KafkaResponseBase {
  type: "InitProducerIdResponse";
  error: KafkaError;
  producerId: number;
  producerEpoch: number;
}

export type KafkaRequest =
  | ProduceRequest
  | FetchRequest
  | MetadataRequest
  | ListOffsetsRequest
  | OffsetsForLeaderEpochRequest
  | LeaderAndIsrRequest
  | UpdateMetadataRequest
  | StopReplicaRequest
  | ControlledShutdownRequest
  | AlterIsrRequest
  | InitProducerIdRequest
  | GroupRequest
  | TransactionRequest;

export type KafkaResponse =
  | ProduceResponse
  | FetchResponse
  | MetadataResponse
  | ListOffsetsResponse
  | OffsetsForLeaderEpochResponse
  | LeaderAndIsrResponse
  | UpdateMetadataResponse
  | StopReplicaResponse
  | ControlledShutdownResponse
  | AlterIsrResponse
  | InitProducerIdResponse
  | GroupResponse
  | TransactionResponse;

/** The network address (host name) of a broker id. */
export function brokerHost(brokerId: number): string {
  return `broker-${brokerId}`;
}

/** The broker id of a host name `broker-N`, or null. */
export function brokerIdOf(host: string): number | null {
  const match = /^broker-(\d+)$/.exec(host);
  return match === null ? null : Number(match[1]);
}

/** "topic-partition", as Kafka's TopicPartition.toString. */
export function topicPartitionKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** Request and response sizes for bandwidth caps: a header plus the record batches carried. */
export const REQUEST_HEADER_BYTES = 64;
