/**
 * GroupCoordinator.handleCommitOffsets / validateOffsetCommit / handleFetchOffsets (Kafka 3.6). A commit is
 * checked against the group (Dead → COORDINATOR_NOT_AVAILABLE; generation -1 on an Empty group, or on an unknown
 * group which is then created Empty, is accepted as a commit outside group management; otherwise the member,
 * its instance id and its generation must match: UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, ILLEGAL_GENERATION), then
 * by state (CompletingRebalance → REBALANCE_IN_PROGRESS; Stable / PreparingRebalance count as a heartbeat) and
 * stored; it is answered only when the append completes. handleTxnCommitOffsets / doTxnCommitOffsets: a
 * producer's TxnOffsetCommit creates the group when unknown (Empty), is checked as a commit with
 * isTransactional (a generation of -1 with no member id passes even in a non-empty group, as pre-KIP-447
 * producers send no group metadata), and is stored in any group state as pending offsets of the producer
 * (group-metadata-manager.ts), visible only once the transaction's COMMIT marker is written. Simplification: no
 * retention time per commit (OffsetCommit v2–v4's retention_time_ms).
 */

import type { OffsetCommitRequest, OffsetFetchPartition, OffsetFetchRequest } from "../../../protocol/group.ts";
import type { KafkaError } from "../../../protocol/kafka.ts";
import type { TxnOffsetCommitRequest } from "../../../protocol/transaction.ts";
import type { GroupCoordinator } from "./group-coordinator.ts";
import type { GroupMetadata } from "./group-metadata.ts";
import type { OffsetCommitEntry } from "./group-metadata-manager.ts";

type CommitParams = Pick<OffsetCommitRequest, "groupId" | "memberId" | "groupInstanceId" | "generationId" | "partitions">;
type TxnCommitParams = Pick<TxnOffsetCommitRequest, "groupId" | "producerId" | "producerEpoch" | "memberId" | "groupInstanceId" | "generationId" | "partitions">;

export function handleCommitOffsets(coordinator: GroupCoordinator, request: CommitParams, callback: (errors: KafkaError[]) => void): void {
  const all = (error: KafkaError) => callback(request.partitions.map(() => error));
  const status = coordinator.validateGroupStatus(request.groupId, "OffsetCommit");
  if (status !== null) return all(status);
  let group = coordinator.groupManager.getGroup(request.groupId);
  if (group === null) {
    // An older generation's commit to a group that is gone, or a commit outside group management (created Empty).
    if (request.generationId >= 0) return all("ILLEGAL_GENERATION");
    group = coordinator.groupManager.addGroup(coordinator.groupManager.newGroup(request.groupId));
  }
  doCommitOffsets(coordinator, group, request, callback);
}

/** handleTxnCommitOffsets: the group is created (Empty) when this coordinator does not know it. */
export function handleTxnCommitOffsets(coordinator: GroupCoordinator, request: TxnCommitParams, callback: (errors: KafkaError[]) => void): void {
  const status = coordinator.validateGroupStatus(request.groupId, "TxnOffsetCommit");
  if (status !== null) return callback(request.partitions.map(() => status));
  const manager = coordinator.groupManager;
  const group = manager.getGroup(request.groupId) ?? manager.addGroup(manager.newGroup(request.groupId));
  const error = validateOffsetCommit(coordinator, group, request.generationId, request.memberId, request.groupInstanceId, true);
  if (error !== null) return callback(request.partitions.map(() => error));
  manager.storeOffsets(group, request.memberId, request.generationId, commitEntries(coordinator, request.partitions), callback, request.producerId, request.producerEpoch);
}

/** validateOffsetCommit; a transactional commit without member fields is accepted in any (non-Dead) group. */
export function validateOffsetCommit(
  coordinator: GroupCoordinator,
  group: GroupMetadata,
  generationId: number,
  memberId: string,
  groupInstanceId: string | null,
  isTransactional = false,
): KafkaError | null {
  if (group.is("Dead")) return "COORDINATOR_NOT_AVAILABLE";
  // Generation -1: an admin client or a consumer without group management; allowed while the group is Empty.
  if (generationId < 0 && group.is("Empty")) return null;
  if (generationId >= 0 || memberId !== "" || groupInstanceId !== null) {
    return coordinator.validateCurrentMember(group, memberId, groupInstanceId) ?? (generationId !== group.generationId ? "ILLEGAL_GENERATION" : null);
  }
  // Only members may commit to a group with members (older TxnOffsetCommits carry no member fields).
  return isTransactional || group.is("Empty") ? null : "UNKNOWN_MEMBER_ID";
}

function doCommitOffsets(coordinator: GroupCoordinator, group: GroupMetadata, request: CommitParams, callback: (errors: KafkaError[]) => void): void {
  const error = validateOffsetCommit(coordinator, group, request.generationId, request.memberId, request.groupInstanceId);
  if (error !== null) return callback(request.partitions.map(() => error));
  const offsets = commitEntries(coordinator, request.partitions);
  const store = () => coordinator.groupManager.storeOffsets(group, request.memberId, request.generationId, offsets, callback);
  switch (group.currentState) {
    case "Empty":
      return store();
    case "Stable":
    case "PreparingRebalance":
      // A commit counts as a heartbeat; during PreparingRebalance the heartbeat response tells of the rebalance.
      coordinator.completeAndScheduleNextHeartbeatExpiration(group, group.get(request.memberId));
      return store();
    case "CompletingRebalance":
      // The member has this generation's JoinGroup response but not its assignment yet.
      return callback(request.partitions.map(() => "REBALANCE_IN_PROGRESS"));
    case "Dead":
      return callback(request.partitions.map(() => "COORDINATOR_NOT_AVAILABLE"));
  }
}

/** The request's offsets as OffsetAndMetadata, committed now (a null metadata is ""). */
function commitEntries(coordinator: GroupCoordinator, partitions: CommitParams["partitions"]): OffsetCommitEntry[] {
  const nowMs = coordinator.nowMs();
  return partitions.map((p) => ({
    topic: p.topic,
    partition: p.partition,
    offsetAndMetadata: { offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata: p.committedMetadata ?? "", commitTimestamp: nowMs },
  }));
}

/** handleFetchOffsets: answered in any group state (offsets may be stored without group management). */
export function handleFetchOffsets(coordinator: GroupCoordinator, request: Pick<OffsetFetchRequest, "groupId" | "partitions" | "requireStable">): { error: KafkaError; partitions: OffsetFetchPartition[] } {
  const status = coordinator.validateGroupStatus(request.groupId, "OffsetFetch");
  if (status !== null) return { error: status, partitions: [] };
  return { error: "NONE", partitions: coordinator.groupManager.getOffsets(request.groupId, request.requireStable, request.partitions) };
}
