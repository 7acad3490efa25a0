/**
 * KafkaApis' group handlers (handleFindCoordinatorRequest, handleJoinGroupRequest, handleSyncGroupRequest,
 * handleHeartbeatRequest, handleLeaveGroupRequest, handleOffsetCommitRequest, handleOffsetFetchRequest): each
 * request becomes a GroupCoordinator call whose callback sends the response; and handleTxnOffsetCommitRequest,
 * whose partitions the metadata cache does not know are answered UNKNOWN_TOPIC_OR_PARTITION while the rest go to
 * the coordinator's handleTxnCommitOffsets. FindCoordinator answers the leader
 * of partitionFor(groupId) from the metadata cache, creating __consumer_offsets when the cache does not know it
 * (offsets-topic.ts), COORDINATOR_NOT_AVAILABLE while there is no live leader. Simplifications: no
 * authorization; keyType 1 (transactions) goes to the transaction coordinator's lookup when the broker sets one
 * (coordinator/transaction/transaction-apis.ts), else COORDINATOR_NOT_AVAILABLE; response sizes are approximations;
 * TxnOffsetCommit is not counted in the group request meters; no TxnOffsetCommit v0–v1 mapping of
 * COORDINATOR_LOAD_IN_PROGRESS to COORDINATOR_NOT_AVAILABLE (every client is 2.3+).
 */

import {
  GROUP_METADATA_TOPIC_NAME,
  type FindCoordinatorRequest,
  type GroupRequest,
  type FindCoordinatorResponse,
  type HeartbeatResponse,
  type JoinGroupResponse,
  type LeaveGroupResponse,
  type OffsetCommitResponse,
  type OffsetFetchResponse,
  type SyncGroupResponse,
} from "../../../protocol/group.ts";
import { NO_LEADER, REQUEST_HEADER_BYTES, type KafkaError } from "../../../protocol/kafka.ts";
import type { TxnOffsetCommitRequest, TxnOffsetCommitResponse } from "../../../protocol/transaction.ts";
import type { Message } from "../../../sim/host.ts";
import type { BrokerMetrics } from "../../metrics.ts";
import type { GroupCoordinator } from "./group-coordinator.ts";
import { handleJoinGroup } from "./join-group.ts";
import { handleCommitOffsets, handleFetchOffsets, handleTxnCommitOffsets } from "./offset-commits.ts";
import type { OffsetsTopicCreator, OffsetsTopicHost } from "./offsets-topic.ts";

/** The requests the group APIs answer (protocol/group.ts's GroupRequest). */
export type GroupApiRequest = GroupRequest;

export interface GroupApisHost extends OffsetsTopicHost {
  readonly metrics: BrokerMetrics;
  send(host: string, message: Message): void;
}

export class GroupApis {
  /** FindCoordinator keyType 1 (TRANSACTION): the transaction coordinator's getCoordinator, when there is one. */
  findTransactionCoordinator: ((transactionalId: string) => { error: KafkaError; nodeId: number; host: string }) | null = null;

  constructor(
    private readonly host: GroupApisHost,
    readonly coordinator: GroupCoordinator,
    private readonly offsetsTopic: OffsetsTopicCreator,
  ) {}

  handle(from: string, request: GroupApiRequest): void {
    const send = <T extends Message>(message: T) => this.host.send(from, message);
    const correlationId = request.correlationId;
    this.host.metrics.markGroupRequest(request.type);
    switch (request.type) {
      case "FindCoordinator": {
        const { error, nodeId, host } = this.getCoordinator(request);
        send({ type: "FindCoordinatorResponse", correlationId, error, nodeId, host, sizeBytes: REQUEST_HEADER_BYTES + 16 } satisfies FindCoordinatorResponse);
        return;
      }
      case "JoinGroup":
        handleJoinGroup(this.coordinator, request, (result) =>
          send({
            type: "JoinGroupResponse",
            correlationId,
            error: result.error,
            generationId: result.generationId,
            protocolType: result.protocolType,
            protocolName: result.protocolName,
            leader: result.leaderId,
            skipAssignment: result.skipAssignment,
            memberId: result.memberId,
            members: result.members,
            sizeBytes: REQUEST_HEADER_BYTES + 64 * (1 + result.members.length),
          } satisfies JoinGroupResponse),
        );
        return;
      case "SyncGroup":
        this.coordinator.handleSyncGroup(request, (result) =>
          send({
            type: "SyncGroupResponse",
            correlationId,
            error: result.error,
            protocolType: result.protocolType,
            protocolName: result.protocolName,
            assignment: result.assignment,
            sizeBytes: REQUEST_HEADER_BYTES + 16 * (1 + result.assignment.assignedPartitions.length),
          } satisfies SyncGroupResponse),
        );
        return;
      case "Heartbeat":
        this.coordinator.handleHeartbeat(request, (error) => send({ type: "HeartbeatResponse", correlationId, error, sizeBytes: REQUEST_HEADER_BYTES } satisfies HeartbeatResponse));
        return;
      case "LeaveGroup":
        this.coordinator.handleLeaveGroup(request.groupId, request.members, (error, members) =>
          send({ type: "LeaveGroupResponse", correlationId, error, members, sizeBytes: REQUEST_HEADER_BYTES + 32 * members.length } satisfies LeaveGroupResponse),
        );
        return;
      case "OffsetCommit":
        handleCommitOffsets(this.coordinator, request, (errors) =>
          send({
            type: "OffsetCommitResponse",
            correlationId,
            partitions: request.partitions.map((p, i) => ({ topic: p.topic, partition: p.partition, error: errors[i] })),
            sizeBytes: REQUEST_HEADER_BYTES + 16 * request.partitions.length,
          } satisfies OffsetCommitResponse),
        );
        return;
      case "OffsetFetch": {
        const { error, partitions } = handleFetchOffsets(this.coordinator, request);
        send({ type: "OffsetFetchResponse", correlationId, error, partitions, sizeBytes: REQUEST_HEADER_BYTES + 24 * partitions.length } satisfies OffsetFetchResponse);
        return;
      }
    }
  }

  /** KafkaApis.handleTxnOffsetCommitRequest: unknown partitions answered at once, the rest by the coordinator. */
  handleTxnOffsetCommit(from: string, request: TxnOffsetCommitRequest): void {
    const cache = this.host.metadataCache;
    const isKnown = request.partitions.map((p) => cache.partition(p.topic, p.partition) !== undefined);
    const known = request.partitions.filter((_, i) => isKnown[i]);
    const respond = (knownErrors: readonly KafkaError[]) => {
      let next = 0;
      const partitions = request.partitions.map((p, i) => ({ topic: p.topic, partition: p.partition, error: isKnown[i] ? knownErrors[next++] : ("UNKNOWN_TOPIC_OR_PARTITION" as KafkaError) }));
      const response: TxnOffsetCommitResponse = { type: "TxnOffsetCommitResponse", correlationId: request.correlationId, partitions, sizeBytes: REQUEST_HEADER_BYTES + 16 * partitions.length };
      this.host.send(from, response);
    };
    if (known.length === 0) return respond([]);
    handleTxnCommitOffsets(this.coordinator, { ...request, partitions: known }, respond);
  }

  /** KafkaApis.getCoordinator for keyType 0 (GROUP); keyType 1 goes to findTransactionCoordinator. */
  private getCoordinator(request: FindCoordinatorRequest): { error: KafkaError; nodeId: number; host: string } {
    const none = (error: KafkaError) => ({ error, nodeId: -1, host: "" });
    if (request.keyType === 1 && this.findTransactionCoordinator !== null) return this.findTransactionCoordinator(request.key);
    if (request.keyType !== 0) return none("COORDINATOR_NOT_AVAILABLE");
    if (!this.coordinator.isActive) return none("COORDINATOR_NOT_AVAILABLE");
    const cache = this.host.metadataCache;
    if (cache.partitionCount(GROUP_METADATA_TOPIC_NAME) === 0) {
      this.offsetsTopic.maybeCreate();
      return none("COORDINATOR_NOT_AVAILABLE");
    }
    const partition = this.coordinator.groupManager.partitionFor(request.key);
    const leader = cache.partition(GROUP_METADATA_TOPIC_NAME, partition)?.leader ?? NO_LEADER;
    const host = leader === NO_LEADER ? undefined : cache.aliveBrokers.get(leader);
    if (host === undefined) return none("COORDINATOR_NOT_AVAILABLE");
    return { error: "NONE", nodeId: leader, host };
  }
}
