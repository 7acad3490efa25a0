/**
 * The classic consumer-group protocol as plain data (Kafka 2.x–3.x, ZooKeeper-era brokers): FindCoordinator,
 * JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit and OffsetFetch, with the field names of Kafka's
 * message JSON specs (clients/src/main/resources/common/message/*.json). The embedded consumer protocol
 * (ConsumerProtocolSubscription / ConsumerProtocolAssignment, the bytes a JoinGroup's protocol metadata and a
 * SyncGroup's assignment carry) is kept as objects, not bytes. Simplifications: topics and partitions are flat
 * lists of {topic, partition} instead of Kafka's per-topic nesting; no rack ids; no request versions (the
 * behaviour a version selects is a broker compat switch or a client config).
 */

import type { KafkaError, KafkaRequestBase, KafkaResponseBase, TopicPartitionRef } from "./kafka.ts";

// ---- The embedded consumer protocol (ConsumerProtocol.java) ----

/** ConsumerProtocolSubscription (v1: ownedPartitions, KIP-429; v2: generationId, KIP-792). */
export interface ConsumerProtocolSubscription {
  readonly topics: readonly string[];
  /** The assignor's user data (StickyAssignor: its previous assignment and generation), or null. */
  readonly userData: unknown;
  readonly ownedPartitions: readonly TopicPartitionRef[];
  /** The generation the owned partitions were assigned in (-1: unknown, DEFAULT_GENERATION). */
  readonly generationId: number;
}

/** ConsumerProtocolAssignment. */
export interface ConsumerProtocolAssignment {
  readonly assignedPartitions: readonly TopicPartitionRef[];
  readonly userData: unknown;
}

/** The consumer's protocol type in JoinGroup / SyncGroup (ConsumerProtocol.PROTOCOL_TYPE). */
export const CONSUMER_PROTOCOL_TYPE = "consumer";
/** JoinGroupRequest.UNKNOWN_MEMBER_ID. */
export const UNKNOWN_MEMBER_ID = "";
/** OffsetCommitRequest.DEFAULT_GENERATION_ID / JoinGroupRequest.UNKNOWN_GENERATION_ID. */
export const UNKNOWN_GENERATION_ID = -1;
/** OffsetFetchResponse.INVALID_OFFSET: no committed offset. */
export const INVALID_OFFSET = -1;

// ---- FindCoordinator ----

/** FindCoordinator key types (CoordinatorType). */
export type CoordinatorType = 0 | 1; // 0 GROUP, 1 TRANSACTION

export interface FindCoordinatorRequest extends KafkaRequestBase {
  type: "FindCoordinator";
  key: string;
  keyType: CoordinatorType;
}

export interface FindCoordinatorResponse extends KafkaResponseBase {
  type: "FindCoordinatorResponse";
  error: KafkaError;
  nodeId: number;
  /** The coordinator's host name (its network address); "" on error. */
  host: string;
}

// ---- JoinGroup ----

export interface JoinGroupProtocol {
  /** The assignor's name ("range", "roundrobin", "sticky", "cooperative-sticky"). */
  readonly name: string;
  readonly metadata: ConsumerProtocolSubscription;
}

export interface JoinGroupRequest extends KafkaRequestBase {
  type: "JoinGroup";
  groupId: string;
  sessionTimeoutMs: number;
  /** The client's max.poll.interval.ms (v1+). */
  rebalanceTimeoutMs: number;
  /** UNKNOWN_MEMBER_ID ("") on the first join. */
  memberId: string;
  /** group.instance.id (KIP-345), or null for a dynamic member. */
  groupInstanceId: string | null;
  /** The client.id (the coordinator's new member ids are clientId-UUID). */
  clientId: string;
  protocolType: string;
  protocols: readonly JoinGroupProtocol[];
  reason: string | null;
}

export interface JoinGroupResponseMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly metadata: ConsumerProtocolSubscription;
}

export interface JoinGroupResponse extends KafkaResponseBase {
  type: "JoinGroupResponse";
  error: KafkaError;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  /** KIP-814 (3.2+): a static leader replaced without rebalance must not re-assign. */
  skipAssignment: boolean;
  memberId: string;
  /** Every member with its subscription, for the leader only; empty for followers. */
  members: readonly JoinGroupResponseMember[];
}

// ---- SyncGroup ----

export interface SyncGroupRequest extends KafkaRequestBase {
  type: "SyncGroup";
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  /** The leader's assignment for every member; empty from followers. */
  assignments: readonly { readonly memberId: string; readonly assignment: ConsumerProtocolAssignment }[];
}

export interface SyncGroupResponse extends KafkaResponseBase {
  type: "SyncGroupResponse";
  error: KafkaError;
  protocolType: string | null;
  protocolName: string | null;
  /** This member's assignment (empty on error). */
  assignment: ConsumerProtocolAssignment;
}

// ---- Heartbeat ----

export interface HeartbeatRequest extends KafkaRequestBase {
  type: "Heartbeat";
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

export interface HeartbeatResponse extends KafkaResponseBase {
  type: "HeartbeatResponse";
  error: KafkaError;
}

// ---- LeaveGroup ----

export interface LeaveGroupRequest extends KafkaRequestBase {
  type: "LeaveGroup";
  groupId: string;
  /** v3+ (KIP-345): a batch of members; dynamic members leave with their memberId and a null instance id. */
  members: readonly { readonly memberId: string; readonly groupInstanceId: string | null; readonly reason: string | null }[];
}

export interface LeaveGroupResponse extends KafkaResponseBase {
  type: "LeaveGroupResponse";
  error: KafkaError;
  members: readonly { readonly memberId: string; readonly groupInstanceId: string | null; readonly error: KafkaError }[];
}

// ---- OffsetCommit / OffsetFetch ----

export interface OffsetCommitPartition extends TopicPartitionRef {
  readonly committedOffset: number;
  /** KIP-320: the leader epoch of the last consumed record (-1: unknown). */
  readonly committedLeaderEpoch: number;
  readonly committedMetadata: string | null;
}

export interface OffsetCommitRequest extends KafkaRequestBase {
  type: "OffsetCommit";
  groupId: string;
  /** -1 for a commit outside the group protocol (an admin or an assign()-only consumer). */
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  partitions: readonly OffsetCommitPartition[];
}

export interface OffsetCommitResponse extends KafkaResponseBase {
  type: "OffsetCommitResponse";
  partitions: readonly { readonly topic: string; readonly partition: number; readonly error: KafkaError }[];
}

export interface OffsetFetchRequest extends KafkaRequestBase {
  type: "OffsetFetch";
  groupId: string;
  /** null: every partition the group has an offset for. */
  partitions: readonly TopicPartitionRef[] | null;
  /** KIP-447 (2.5+): answer UNSTABLE_OFFSET_COMMIT while a transactional offset is pending. */
  requireStable: boolean;
}

export interface OffsetFetchPartition extends TopicPartitionRef {
  /** INVALID_OFFSET (-1) when the group has none. */
  readonly committedOffset: number;
  readonly committedLeaderEpoch: number;
  readonly metadata: string | null;
  readonly error: KafkaError;
}

export interface OffsetFetchResponse extends KafkaResponseBase {
  type: "OffsetFetchResponse";
  /** Group-level error (COORDINATOR_LOAD_IN_PROGRESS, NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE…). */
  error: KafkaError;
  partitions: readonly OffsetFetchPartition[];
}

export type GroupRequest =
  | FindCoordinatorRequest
  | JoinGroupRequest
  | SyncGroupRequest
  | HeartbeatRequest
  | LeaveGroupRequest
  | OffsetCommitRequest
  | OffsetFetchRequest;

export type GroupResponse =
  | FindCoordinatorResponse
  | JoinGroupResponse
  | SyncGroupResponse
  | HeartbeatResponse
  | LeaveGroupResponse
  | OffsetCommitResponse
  | OffsetFetchResponse;

/** Java's String.hashCode (32-bit signed), as GroupMetadataManager.partitionFor uses it. */
export function javaStringHashCode(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(31, hash) + text.charCodeAt(i)) | 0;
  return hash;
}

/**
 * GroupMetadataManager.partitionFor (and TransactionStateManager.partitionFor): Utils.abs(id.hashCode) %
 * partitions. Utils.abs is `n == Integer.MIN_VALUE ? 0 : Math.abs(n)` (0.10.2 through 3.9), so a negative hash
 * maps to its absolute value — not `n & 0x7fffffff`, which differs for every negative n.
 */
export function partitionForGroup(groupId: string, numPartitions: number): number {
  return utilsAbs(javaStringHashCode(groupId)) % numPartitions;
}

/** org.apache.kafka.common.utils.Utils.abs. */
export function utilsAbs(n: number): number {
  return n === -2147483648 ? 0 : Math.abs(n);
}

/** The internal offsets topic (Topic.GROUP_METADATA_TOPIC_NAME). */
export const GROUP_METADATA_TOPIC_NAME = "__consumer_offsets";
