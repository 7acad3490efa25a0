/**
 * GroupCoordinator.handleJoinGroup and its paths (Kafka 3.6): the session timeout bounds
 * (INVALID_SESSION_TIMEOUT), an unknown group with a member id (UNKNOWN_MEMBER_ID), group.max.size
 * (GROUP_MAX_SIZE_REACHED), protocol checks (INCONSISTENT_GROUP_PROTOCOL), a new dynamic member (KIP-394:
 * MEMBER_ID_REQUIRED and a pending member id, behind compat.memberIdRequired), a new or returning static member
 * (KIP-345: replaceStaticMember, the old id fenced; UNSUPPORTED_VERSION without compat.staticMembership), and an
 * existing member by group state. Simplifications: the response's skipAssignment (KIP-814, JoinGroup v9) is
 * always used for a replaced static leader, as a 3.2+ client would ask for it.
 */

import type { JoinGroupRequest } from "../../../protocol/group.ts";
import { assert } from "../../../sim/assert.ts";
import { groupJoinKey } from "./delayed-operations.ts";
import { NEW_MEMBER_JOIN_TIMEOUT_MS, type GroupCoordinator } from "./group-coordinator.ts";
import type { GroupMetadata } from "./group-metadata.ts";
import { joinError, MemberMetadata, type JoinCallback } from "./member-metadata.ts";

type JoinParams = Pick<JoinGroupRequest, "groupId" | "memberId" | "groupInstanceId" | "clientId" | "rebalanceTimeoutMs" | "sessionTimeoutMs" | "protocolType" | "protocols">;

export function handleJoinGroup(coordinator: GroupCoordinator, request: JoinParams, callback: JoinCallback): void {
  const status = coordinator.validateGroupStatus(request.groupId, "JoinGroup");
  if (status !== null) return callback(joinError(request.memberId, status));
  if (request.groupInstanceId !== null && !coordinator.compat.staticMembership) return callback(joinError(request.memberId, "UNSUPPORTED_VERSION"));
  const config = coordinator.config;
  if (request.sessionTimeoutMs < config["group.min.session.timeout.ms"] || request.sessionTimeoutMs > config["group.max.session.timeout.ms"]) {
    return callback(joinError(request.memberId, "INVALID_SESSION_TIMEOUT"));
  }
  const isUnknownMember = request.memberId === "";
  // The group is created for a member without an id; a member id for an unknown group is refused.
  const group = coordinator.groupManager.getOrMaybeCreateGroup(request.groupId, isUnknownMember);
  if (group === null) return callback(joinError(request.memberId, "UNKNOWN_MEMBER_ID"));
  if (!acceptJoiningMember(coordinator, group, request.memberId)) {
    group.remove(request.memberId);
    callback(joinError("", "GROUP_MAX_SIZE_REACHED"));
  } else if (isUnknownMember) {
    doNewMemberJoinGroup(coordinator, group, request, callback);
  } else {
    doCurrentMemberJoinGroup(coordinator, group, request, callback);
  }
  if (group.is("PreparingRebalance")) coordinator.rebalancePurgatory.checkAndComplete(groupJoinKey(group.groupId));
}

/** acceptJoiningMember: group.max.size, counting awaiting members while rebalancing. */
function acceptJoiningMember(coordinator: GroupCoordinator, group: GroupMetadata, memberId: string): boolean {
  const maxSize = coordinator.config["group.max.size"];
  switch (group.currentState) {
    case "Empty":
    case "Dead":
      return true;
    case "PreparingRebalance":
      return (group.has(memberId) && group.get(memberId).isAwaitingJoin) || group.numAwaiting < maxSize;
    case "CompletingRebalance":
    case "Stable":
      return group.has(memberId) || group.size < maxSize;
  }
}

function doNewMemberJoinGroup(coordinator: GroupCoordinator, group: GroupMetadata, request: JoinParams, callback: JoinCallback): void {
  // Dead: the group just moved to another coordinator; the member rediscovers it.
  if (group.is("Dead")) return callback(joinError("", "COORDINATOR_NOT_AVAILABLE"));
  if (!group.supportsProtocols(request.protocolType, request.protocols)) return callback(joinError("", "INCONSISTENT_GROUP_PROTOCOL"));
  const newMemberId = coordinator.generateMemberId(request.clientId, request.groupInstanceId);
  if (request.groupInstanceId !== null) {
    const oldMemberId = group.currentStaticMemberId(request.groupInstanceId);
    if (oldMemberId !== null) updateStaticMemberAndRebalance(coordinator, group, oldMemberId, newMemberId, request.groupInstanceId, request, callback);
    else addMemberAndRebalance(coordinator, group, newMemberId, request, callback);
  } else if (coordinator.compat.memberIdRequired) {
    // KIP-394: the member must come back with this id; until then it is pending (expires after its session).
    group.addPendingMember(newMemberId);
    coordinator.addPendingMemberExpiration(group, newMemberId, request.sessionTimeoutMs);
    callback(joinError(newMemberId, "MEMBER_ID_REQUIRED"));
  } else {
    addMemberAndRebalance(coordinator, group, newMemberId, request, callback);
  }
}

function doCurrentMemberJoinGroup(coordinator: GroupCoordinator, group: GroupMetadata, request: JoinParams, callback: JoinCallback): void {
  const { memberId } = request;
  if (group.is("Dead")) return callback(joinError(memberId, "COORDINATOR_NOT_AVAILABLE"));
  if (!group.supportsProtocols(request.protocolType, request.protocols)) return callback(joinError(memberId, "INCONSISTENT_GROUP_PROTOCOL"));
  if (group.isPendingMember(memberId)) {
    // A pending member is dynamic (Kafka throws IllegalStateException for an instance id here).
    if (request.groupInstanceId !== null) return callback(joinError(memberId, "UNKNOWN_MEMBER_ID"));
    addMemberAndRebalance(coordinator, group, memberId, request, callback);
    return;
  }
  const error = coordinator.validateCurrentMember(group, memberId, request.groupInstanceId);
  if (error !== null) return callback(joinError(memberId, error));
  const member = group.get(memberId);
  const current = () =>
    callback({
      members: group.isLeader(memberId) ? group.currentMemberMetadata() : [],
      memberId,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leaderId: group.leaderOrNull ?? "",
      skipAssignment: false,
      error: "NONE",
    });
  switch (group.currentState) {
    case "PreparingRebalance":
      return updateMemberAndRebalance(coordinator, group, member, request, callback);
    case "CompletingRebalance":
      // The same metadata: the member missed its JoinGroup response; it gets this generation's again.
      return member.matches(request.protocols) ? current() : updateMemberAndRebalance(coordinator, group, member, request, callback);
    case "Stable":
      // The leader's rejoin or changed metadata starts a rebalance; a follower with no change gets the current generation.
      if (group.isLeader(memberId) || !member.matches(request.protocols)) return updateMemberAndRebalance(coordinator, group, member, request, callback);
      return callback({ ...joinError(memberId, "NONE"), generationId: group.generationId, protocolType: group.protocolType, protocolName: group.protocolName, leaderId: group.leaderOrNull ?? "" });
    case "Empty":
    case "Dead":
      return callback(joinError(memberId, "UNKNOWN_MEMBER_ID"));
  }
}

function addMemberAndRebalance(coordinator: GroupCoordinator, group: GroupMetadata, memberId: string, request: JoinParams, callback: JoinCallback): void {
  const member = new MemberMetadata(memberId, request.groupInstanceId, request.clientId, request.rebalanceTimeoutMs, request.sessionTimeoutMs, request.protocolType, request.protocols);
  member.isNew = true;
  // A member added during the first rebalance extends InitialDelayedJoin.
  if (group.is("PreparingRebalance") && group.generationId === 0) group.newMemberAdded = true;
  group.add(member, callback);
  // A new member cannot heartbeat before its JoinGroup is answered: its join is bounded by NewMemberJoinTimeoutMs.
  coordinator.completeAndScheduleNextExpiration(group, member, NEW_MEMBER_JOIN_TIMEOUT_MS);
  coordinator.maybePrepareRebalance(group, `adding new member ${memberId}`);
}

function updateMemberAndRebalance(coordinator: GroupCoordinator, group: GroupMetadata, member: MemberMetadata, request: JoinParams, callback: JoinCallback): void {
  group.updateMember(member, request.protocols, request.rebalanceTimeoutMs, request.sessionTimeoutMs, callback);
  coordinator.maybePrepareRebalance(group, `member ${member.memberId} rejoining`);
}

/**
 * updateStaticMemberAndRebalance: a known group.instance.id joins with a new member id. Stable and the selected
 * protocol unchanged → the group is stored with the new id and the member gets the current generation (the old
 * id is fenced); CompletingRebalance → rebalance; PreparingRebalance → it simply waits with the others.
 */
function updateStaticMemberAndRebalance(
  coordinator: GroupCoordinator,
  group: GroupMetadata,
  oldMemberId: string,
  newMemberId: string,
  groupInstanceId: string,
  request: JoinParams,
  callback: JoinCallback,
): void {
  const currentLeader = group.leaderOrNull;
  const member = group.replaceStaticMember(groupInstanceId, oldMemberId, newMemberId);
  coordinator.traceMemberRemoved(group, oldMemberId, groupInstanceId, "static-member-replaced");
  coordinator.completeAndScheduleNextHeartbeatExpiration(group, member);
  const oldRebalanceTimeoutMs = member.rebalanceTimeoutMs;
  const oldSessionTimeoutMs = member.sessionTimeoutMs;
  const oldProtocols = member.supportedProtocols;
  group.updateMember(member, request.protocols, request.rebalanceTimeoutMs, request.sessionTimeoutMs, callback);
  switch (group.currentState) {
    case "Stable": {
      if (group.protocolName !== group.selectProtocol()) {
        coordinator.maybePrepareRebalance(group, `static member ${groupInstanceId} changed the selected protocol`);
        return;
      }
      const assignment = new Map(group.allMemberMetadata.map((m) => [m.memberId, m.assignment]));
      coordinator.groupManager.storeGroup(group, assignment, (error) => {
        if (error !== "NONE") {
          // Revert: the old member id is the static member's again.
          group.updateMember(member, oldProtocols, oldRebalanceTimeoutMs, oldSessionTimeoutMs, null);
          const old = group.replaceStaticMember(groupInstanceId, newMemberId, oldMemberId);
          coordinator.completeAndScheduleNextHeartbeatExpiration(group, old);
          callback({ ...joinError("", error), generationId: group.generationId, protocolType: group.protocolType, protocolName: group.protocolName, leaderId: currentLeader ?? "" });
          return;
        }
        // KIP-814: a replaced leader is told it leads but must not re-assign.
        const isLeader = group.isLeader(newMemberId);
        group.maybeInvokeJoinCallback(member, {
          members: isLeader ? group.currentMemberMetadata() : [],
          memberId: newMemberId,
          generationId: group.generationId,
          protocolType: group.protocolType,
          protocolName: group.protocolName,
          leaderId: group.leaderOrNull ?? "",
          skipAssignment: isLeader,
          error: "NONE",
        });
      });
      return;
    }
    case "CompletingRebalance":
      // The leader may already have assigned to the old id: rebalance.
      coordinator.prepareRebalance(group, `static member ${groupInstanceId} rejoined during CompletingRebalance`);
      return;
    case "PreparingRebalance":
      return;
    case "Empty":
    case "Dead":
      assert(false, `group ${group.groupId}: a known static member rejoins only a group with members`);
  }
}
