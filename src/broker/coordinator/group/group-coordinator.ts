/**
 * The group coordinator of a ZooKeeper-mode broker (GroupCoordinator.scala, Kafka 3.6): group status checks
 * (validateGroupStatus), the rebalance machinery (prepareRebalance, onCompleteJoin, the InitialDelayedJoin /
 * DelayedJoin / DelayedSync / DelayedHeartbeat callbacks, member removal), SyncGroup, Heartbeat and LeaveGroup,
 * loading / unloading groups when this broker gains or loses an offsets partition (onElection /
 * onResignation), and scheduleHandleTxnCompletion once a transaction's marker is written to an offsets
 * partition. JoinGroup is in join-group.ts and offset commits (TxnOffsetCommit too) in offset-commits.ts.
 * Behaviour of earlier releases is selected by the compat switches memberIdRequired,
 * rebalanceInProgressOnSyncHeartbeat, pendingSyncTimeout and staticMembership. Simplifications: no
 * DeleteGroups, DescribeGroups, ListGroups; member ids are clientId-UUID with the UUID drawn from the broker's
 * seeded stream.
 */

import type { Disk } from "../../../disk/disk.ts";
import type { ConsumerProtocolAssignment } from "../../../protocol/group.ts";
import type { KafkaError } from "../../../protocol/kafka.ts";
import type { ProcessContext } from "../../../sim/host.ts";
import type { Rng } from "../../../sim/rng.ts";
import { assert } from "../../../sim/assert.ts";
import type { Compat, ReplicationConfig } from "../../config.ts";
import type { BrokerMetrics } from "../../metrics.ts";
import { Purgatory, type DelayedOperation } from "../../replica/purgatory.ts";
import {
  DelayedHeartbeat,
  DelayedJoin,
  DelayedSync,
  GROUP_COORDINATOR_TIMER_PREFIX,
  groupJoinKey,
  groupSyncKey,
  InitialDelayedJoin,
  memberKey,
  type DelayedGroupCallbacks,
} from "./delayed-operations.ts";
import type { GroupMetadata, GroupState } from "./group-metadata.ts";
import { GroupMetadataManager, type OffsetsTopicStorage } from "./group-metadata-manager.ts";
import { EMPTY_ASSIGNMENT, joinError, syncError, type MemberMetadata, type SyncCallback } from "./member-metadata.ts";

/** GroupCoordinator.NewMemberJoinTimeoutMs: a new member's JoinGroup is held at most this long (5 min). */
export const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000;

/** The group APIs, for validateGroupStatus' per-API rules. */
export type GroupApi = "JoinGroup" | "SyncGroup" | "Heartbeat" | "LeaveGroup" | "OffsetCommit" | "OffsetFetch" | "TxnOffsetCommit";

export interface GroupCoordinatorHost {
  readonly brokerId: number;
  readonly context: ProcessContext<Disk>;
  readonly config: ReplicationConfig;
  readonly compat: Compat;
  readonly metrics: BrokerMetrics;
  nowMs(): number;
}

export interface LeaveMemberResult {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly error: KafkaError;
}

export class GroupCoordinator implements DelayedGroupCallbacks {
  readonly groupManager: GroupMetadataManager;
  readonly heartbeatPurgatory: Purgatory<DelayedOperation>;
  readonly rebalancePurgatory: Purgatory<DelayedOperation>;
  private readonly rng: Rng;
  private active = false;

  constructor(
    readonly host: GroupCoordinatorHost,
    storage: OffsetsTopicStorage,
  ) {
    this.groupManager = new GroupMetadataManager(host, storage, (group, previousState) => this.traceState(group, previousState));
    this.heartbeatPurgatory = new Purgatory(host, "heartbeat", GROUP_COORDINATOR_TIMER_PREFIX);
    this.rebalancePurgatory = new Purgatory(host, "rebalance", GROUP_COORDINATOR_TIMER_PREFIX);
    this.rng = host.context.rng.fork("group-coordinator");
  }

  get config(): ReplicationConfig {
    return this.host.config;
  }

  get compat(): Compat {
    return this.host.compat;
  }

  get isActive(): boolean {
    return this.active;
  }

  nowMs(): number {
    return this.host.nowMs();
  }

  startup(): void {
    if (this.active) return;
    this.groupManager.startup();
    this.active = true;
  }

  shutdown(): void {
    this.active = false;
    this.groupManager.shutdown();
    this.heartbeatPurgatory.shutdown();
    this.rebalancePurgatory.shutdown();
  }

  onTimer(tag: string, data: unknown): void {
    if (tag === this.heartbeatPurgatory.timerTag) this.heartbeatPurgatory.onTimer(data);
    else if (tag === this.rebalancePurgatory.timerTag) this.rebalancePurgatory.onTimer(data);
    else assert(this.groupManager.onTimer(tag, data), `unknown group coordinator timer ${tag}`);
  }

  // ---- Status ----

  /** validateGroupStatus: INVALID_GROUP_ID, COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS, NOT_COORDINATOR. */
  validateGroupStatus(groupId: string, api: GroupApi): KafkaError | null {
    // OffsetCommit and OffsetFetch accept the empty group id (backwards compatibility); the rest need one.
    if (groupId === "" && api !== "OffsetCommit" && api !== "OffsetFetch") return "INVALID_GROUP_ID";
    if (!this.active) return "COORDINATOR_NOT_AVAILABLE";
    if (this.groupManager.isGroupLoading(groupId)) return "COORDINATOR_LOAD_IN_PROGRESS";
    if (!this.groupManager.isGroupLocal(groupId)) return "NOT_COORDINATOR";
    return null;
  }

  /** validateCurrentMember: the instance id maps to this member (else FENCED_INSTANCE_ID), and the member exists. */
  validateCurrentMember(group: GroupMetadata, memberId: string, groupInstanceId: string | null): KafkaError | null {
    if (groupInstanceId !== null) {
      const current = group.currentStaticMemberId(groupInstanceId);
      if (current === null) return "UNKNOWN_MEMBER_ID";
      if (current !== memberId) return "FENCED_INSTANCE_ID";
    }
    return group.has(memberId) ? null : "UNKNOWN_MEMBER_ID";
  }

  /** GroupMetadata.generateMemberId: clientId (or the instance id) + "-" + a UUID. */
  generateMemberId(clientId: string, groupInstanceId: string | null): string {
    const hex = Array.from({ length: 16 }, () => this.rng.int(0, 255).toString(16).padStart(2, "0")).join("");
    return `${groupInstanceId ?? clientId}-${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  // ---- SyncGroup ----

  handleSyncGroup(
    request: { groupId: string; generationId: number; memberId: string; groupInstanceId: string | null; protocolType: string | null; protocolName: string | null; assignments: readonly { memberId: string; assignment: ConsumerProtocolAssignment }[] },
    callback: SyncCallback,
  ): void {
    const status = this.validateGroupStatus(request.groupId, "SyncGroup");
    // Loading: the rebalance state is lost; REBALANCE_IN_PROGRESS sends the member back to JoinGroup.
    if (status === "COORDINATOR_LOAD_IN_PROGRESS") return callback(syncError("REBALANCE_IN_PROGRESS"));
    if (status !== null) return callback(syncError(status));
    const group = this.groupManager.getGroup(request.groupId);
    if (group === null) return callback(syncError("UNKNOWN_MEMBER_ID"));
    const error = group.is("Dead")
      ? "COORDINATOR_NOT_AVAILABLE"
      : (this.validateCurrentMember(group, request.memberId, request.groupInstanceId) ??
        (request.generationId !== group.generationId
          ? "ILLEGAL_GENERATION"
          : (request.protocolType !== null && request.protocolType !== group.protocolType) || (request.protocolName !== null && request.protocolName !== group.protocolName)
            ? "INCONSISTENT_GROUP_PROTOCOL"
            : null));
    if (error !== null) return callback(syncError(error));
    switch (group.currentState) {
      case "Empty":
        return callback(syncError("UNKNOWN_MEMBER_ID"));
      case "PreparingRebalance":
        return callback(syncError("REBALANCE_IN_PROGRESS"));
      case "CompletingRebalance": {
        group.get(request.memberId).awaitingSyncCallback = callback;
        this.removePendingSyncMember(group, request.memberId);
        if (!group.isLeader(request.memberId)) return;
        // The leader's assignment, with an empty one for any member it left out.
        const assignment = new Map<string, ConsumerProtocolAssignment>();
        for (const a of request.assignments) assignment.set(a.memberId, a.assignment);
        for (const memberId of group.allMembers) if (!assignment.has(memberId)) assignment.set(memberId, EMPTY_ASSIGNMENT);
        const generationId = group.generationId;
        this.groupManager.storeGroup(group, assignment, (storeError) => {
          if (!group.is("CompletingRebalance") || generationId !== group.generationId) return;
          if (storeError !== "NONE") {
            this.propagateAssignment(group, storeError, null);
            this.maybePrepareRebalance(group, `error ${storeError} storing the assignment`);
          } else {
            this.propagateAssignment(group, "NONE", assignment);
            group.transitionTo("Stable", this.nowMs());
          }
        });
        this.host.metrics.groupCoordinator.completedRebalances.record(1, this.host.metrics.now());
        return;
      }
      case "Stable": {
        this.removePendingSyncMember(group, request.memberId);
        const member = group.get(request.memberId);
        callback({ protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment, error: "NONE" });
        this.completeAndScheduleNextHeartbeatExpiration(group, member);
        return;
      }
      case "Dead":
        assert(false, `SyncGroup reached a Dead group ${group.groupId}`);
    }
  }

  /** setAndPropagateAssignment (assignment given) or resetAndPropagateAssignmentError (null). */
  private propagateAssignment(group: GroupMetadata, error: KafkaError, assignment: ReadonlyMap<string, ConsumerProtocolAssignment> | null): void {
    assert(group.is("CompletingRebalance"), `group ${group.groupId} propagates an assignment while CompletingRebalance`);
    for (const member of group.allMemberMetadata) {
      member.assignment = assignment?.get(member.memberId) ?? EMPTY_ASSIGNMENT;
      const result = error === "NONE" ? { protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment, error } : syncError(error);
      // The session restarts once the member has its assignment (its expiry was ignored while it waited).
      if (group.maybeInvokeSyncCallback(member, result)) this.completeAndScheduleNextHeartbeatExpiration(group, member);
    }
  }

  // ---- Heartbeat ----

  handleHeartbeat(request: { groupId: string; memberId: string; groupInstanceId: string | null; generationId: number }, callback: (error: KafkaError) => void): void {
    const status = this.validateGroupStatus(request.groupId, "Heartbeat");
    // Loading: answered blindly.
    if (status !== null) return callback(status === "COORDINATOR_LOAD_IN_PROGRESS" ? "NONE" : status);
    const group = this.groupManager.getGroup(request.groupId);
    if (group === null) return callback("UNKNOWN_MEMBER_ID");
    const error = group.is("Dead")
      ? "COORDINATOR_NOT_AVAILABLE"
      : (this.validateCurrentMember(group, request.memberId, request.groupInstanceId) ?? (request.generationId !== group.generationId ? "ILLEGAL_GENERATION" : null));
    if (error !== null) return callback(error);
    switch (group.currentState) {
      case "Empty":
        return callback("UNKNOWN_MEMBER_ID");
      case "CompletingRebalance":
        this.completeAndScheduleNextHeartbeatExpiration(group, group.get(request.memberId));
        // Up to 2.5 the member was told to rejoin; from 2.6 the heartbeat is a plain one.
        return callback(this.compat.rebalanceInProgressOnSyncHeartbeat ? "REBALANCE_IN_PROGRESS" : "NONE");
      case "PreparingRebalance":
        this.completeAndScheduleNextHeartbeatExpiration(group, group.get(request.memberId));
        return callback("REBALANCE_IN_PROGRESS");
      case "Stable":
        this.completeAndScheduleNextHeartbeatExpiration(group, group.get(request.memberId));
        return callback("NONE");
      case "Dead":
        assert(false, `Heartbeat reached a Dead group ${group.groupId}`);
    }
  }

  // ---- LeaveGroup ----

  handleLeaveGroup(
    groupId: string,
    leaving: readonly { memberId: string; groupInstanceId: string | null }[],
    callback: (error: KafkaError, members: LeaveMemberResult[]) => void,
  ): void {
    const status = this.validateGroupStatus(groupId, "LeaveGroup");
    if (status !== null) return callback(status, []);
    const group = this.groupManager.getGroup(groupId);
    const result = (m: { memberId: string; groupInstanceId: string | null }, error: KafkaError): LeaveMemberResult => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, error });
    if (group === null) return callback("NONE", leaving.map((m) => result(m, "UNKNOWN_MEMBER_ID")));
    if (group.is("Dead")) return callback("COORDINATOR_NOT_AVAILABLE", []);
    const removeCurrent = (memberId: string): void => {
      const member = group.get(memberId);
      this.removeMemberAndUpdateGroup(group, member, "leave-group");
      this.heartbeatPurgatory.checkAndComplete(memberKey(group.groupId, memberId));
    };
    const results = leaving.map((m) => {
      if (m.memberId === "") {
        // Administrative removal by group.instance.id.
        const current = m.groupInstanceId === null ? null : group.currentStaticMemberId(m.groupInstanceId);
        if (current === null) return result(m, "UNKNOWN_MEMBER_ID");
        removeCurrent(current);
        return result(m, "NONE");
      }
      if (group.isPendingMember(m.memberId)) {
        this.removePendingMemberAndUpdateGroup(group, m.memberId);
        this.heartbeatPurgatory.checkAndComplete(memberKey(group.groupId, m.memberId));
        return result(m, "NONE");
      }
      const error = this.validateCurrentMember(group, m.memberId, m.groupInstanceId);
      if (error !== null) return result(m, error);
      removeCurrent(m.memberId);
      return result(m, "NONE");
    });
    callback("NONE", results);
  }

  // ---- Rebalance machinery ----

  maybePrepareRebalance(group: GroupMetadata, reason: string): void {
    if (group.canRebalance) this.prepareRebalance(group, reason);
  }

  /** prepareRebalance: parked SyncGroups get REBALANCE_IN_PROGRESS; a (possibly initial) DelayedJoin is parked. */
  prepareRebalance(group: GroupMetadata, _reason: string): void {
    if (group.is("CompletingRebalance")) this.propagateAssignment(group, "REBALANCE_IN_PROGRESS", null);
    this.removeSyncExpiration(group);
    const delayMs = this.config["group.initial.rebalance.delay.ms"];
    const operation = group.is("Empty")
      ? new InitialDelayedJoin(this, group, delayMs, delayMs, Math.max(group.rebalanceTimeoutMs - delayMs, 0))
      : new DelayedJoin(this, group, group.rebalanceTimeoutMs);
    group.transitionTo("PreparingRebalance", this.nowMs());
    this.rebalancePurgatory.tryCompleteElseWatch(operation, operation.timeoutMs);
  }

  /** removeMemberAndUpdateGroup: a parked JoinGroup gets UNKNOWN_MEMBER_ID; the group rebalances or re-checks the join. */
  removeMemberAndUpdateGroup(group: GroupMetadata, member: MemberMetadata, reason: string): void {
    group.maybeInvokeJoinCallback(member, joinError("", "UNKNOWN_MEMBER_ID"));
    group.remove(member.memberId);
    this.traceMemberRemoved(group, member.memberId, member.groupInstanceId, reason);
    const state: GroupState = group.currentState;
    if (state === "Stable" || state === "CompletingRebalance") this.maybePrepareRebalance(group, reason);
    else if (state === "PreparingRebalance") this.rebalancePurgatory.checkAndComplete(groupJoinKey(group.groupId));
  }

  removePendingMemberAndUpdateGroup(group: GroupMetadata, memberId: string): void {
    group.remove(memberId);
    if (group.is("PreparingRebalance")) this.rebalancePurgatory.checkAndComplete(groupJoinKey(group.groupId));
  }

  tryCompleteJoin(group: GroupMetadata, forceComplete: () => boolean): boolean {
    return group.hasAllMembersJoined ? forceComplete() : false;
  }

  /** onCompleteJoin: drop dynamic members that did not rejoin, then the next generation (or wait for one to rejoin). */
  onCompleteJoin(group: GroupMetadata): void {
    for (const member of group.notYetRejoinedMembers.filter((m) => !m.isStaticMember)) {
      group.remove(member.memberId);
      this.traceMemberRemoved(group, member.memberId, member.groupInstanceId, "not-rejoined");
      this.heartbeatPurgatory.checkAndComplete(memberKey(group.groupId, member.memberId));
    }
    if (group.is("Dead")) return;
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Only static members that have not rejoined: wait for them (or their session expiry) again.
      const operation = new DelayedJoin(this, group, group.rebalanceTimeoutMs);
      this.rebalancePurgatory.tryCompleteElseWatch(operation, operation.timeoutMs);
      return;
    }
    group.initNextGeneration(this.nowMs());
    if (group.is("Empty")) {
      // A failure is only logged: the previous generation in the log has no live members either.
      this.groupManager.storeGroup(group, new Map(), () => {});
      return;
    }
    for (const member of group.allMemberMetadata) {
      group.maybeInvokeJoinCallback(member, {
        members: group.isLeader(member.memberId) ? group.currentMemberMetadata() : [],
        memberId: member.memberId,
        generationId: group.generationId,
        protocolType: group.protocolType,
        protocolName: group.protocolName,
        leaderId: group.leaderOrNull ?? "",
        skipAssignment: false,
        error: "NONE",
      });
      this.completeAndScheduleNextHeartbeatExpiration(group, member);
      member.isNew = false;
      group.addPendingSyncMember(member.memberId);
    }
    this.schedulePendingSync(group);
  }

  // ---- Pending sync (KAFKA-12890) ----

  removePendingSyncMember(group: GroupMetadata, memberId: string): void {
    group.removePendingSyncMember(memberId);
    this.rebalancePurgatory.checkAndComplete(groupSyncKey(group.groupId));
  }

  private removeSyncExpiration(group: GroupMetadata): void {
    group.clearPendingSyncMembers();
    this.rebalancePurgatory.checkAndComplete(groupSyncKey(group.groupId));
  }

  private schedulePendingSync(group: GroupMetadata): void {
    if (!this.compat.pendingSyncTimeout) return;
    this.rebalancePurgatory.tryCompleteElseWatch(new DelayedSync(this, group, group.generationId), group.rebalanceTimeoutMs);
  }

  tryCompletePendingSync(group: GroupMetadata, generationId: number, forceComplete: () => boolean): boolean {
    if (generationId !== group.generationId) return forceComplete();
    if (group.is("Dead") || group.is("Empty") || group.is("PreparingRebalance")) return forceComplete();
    return group.hasReceivedSyncFromAllMembers ? forceComplete() : false;
  }

  onExpirePendingSync(group: GroupMetadata, generationId: number): void {
    if (generationId !== group.generationId) return;
    if (!group.is("CompletingRebalance") && !group.is("Stable")) return;
    if (group.hasReceivedSyncFromAllMembers) return;
    for (const memberId of group.allPendingSyncMembers) {
      const member = group.get(memberId);
      group.remove(memberId);
      this.traceMemberRemoved(group, member.memberId, member.groupInstanceId, "pending-sync-expiration");
      this.heartbeatPurgatory.checkAndComplete(memberKey(group.groupId, memberId));
    }
    this.prepareRebalance(group, "pending sync expiration");
  }

  // ---- Heartbeats ----

  completeAndScheduleNextHeartbeatExpiration(group: GroupMetadata, member: MemberMetadata): void {
    this.completeAndScheduleNextExpiration(group, member, member.sessionTimeoutMs);
  }

  /** Completes the member's current DelayedHeartbeat and parks the next one. */
  completeAndScheduleNextExpiration(group: GroupMetadata, member: MemberMetadata, timeoutMs: number): void {
    const key = memberKey(group.groupId, member.memberId);
    member.heartbeatSatisfied = true;
    this.heartbeatPurgatory.checkAndComplete(key);
    member.heartbeatSatisfied = false;
    this.heartbeatPurgatory.tryCompleteElseWatch(new DelayedHeartbeat(this, group, member.memberId, false), timeoutMs);
  }

  addPendingMemberExpiration(group: GroupMetadata, memberId: string, timeoutMs: number): void {
    this.heartbeatPurgatory.tryCompleteElseWatch(new DelayedHeartbeat(this, group, memberId, true), timeoutMs);
  }

  tryCompleteHeartbeat(group: GroupMetadata, memberId: string, isPending: boolean, forceComplete: () => boolean): boolean {
    if (group.is("Dead")) return forceComplete();
    if (isPending) return group.has(memberId) ? forceComplete() : false;
    if (!group.has(memberId) || group.get(memberId).hasSatisfiedHeartbeat) return forceComplete();
    return false;
  }

  onExpireHeartbeat(group: GroupMetadata, memberId: string, isPending: boolean): void {
    if (group.is("Dead")) return;
    if (isPending) {
      this.removePendingMemberAndUpdateGroup(group, memberId);
      return;
    }
    if (!group.has(memberId)) return;
    const member = group.get(memberId);
    if (!member.hasSatisfiedHeartbeat) this.removeMemberAndUpdateGroup(group, member, "heartbeat-expiration");
  }

  // ---- Transactions ----

  /**
   * scheduleHandleTxnCompletion (GroupCoordinatorAdapter.onTransactionCompleted): the producer's marker is
   * written to these __consumer_offsets partitions; their groups complete the producer's pending offsets.
   */
  scheduleHandleTxnCompletion(producerId: number, offsetsPartitions: readonly number[], result: "COMMIT" | "ABORT"): void {
    this.groupManager.scheduleHandleTxnCompletion(producerId, offsetsPartitions, result === "COMMIT");
  }

  // ---- Loading and unloading (onElection / onResignation) ----

  onElection(partition: number, coordinatorEpoch: number): void {
    this.host.metrics.markGroupCoordinatorHosted();
    this.groupManager.scheduleLoadGroupAndOffsets(partition, coordinatorEpoch, (group) => this.onGroupLoaded(group));
  }

  onResignation(partition: number, coordinatorEpoch: number | null): void {
    this.host.metrics.markGroupCoordinatorHosted();
    this.groupManager.removeGroupsForPartition(partition, coordinatorEpoch, (group) => this.onGroupUnloaded(group));
  }

  private onGroupLoaded(group: GroupMetadata): void {
    assert(group.is("Stable") || group.is("Empty"), `a loaded group ${group.groupId} is Stable or Empty`);
    // The group now lives here, in the state its last record stored (previousState null: loaded, not a transition).
    this.traceState(group, null);
    if (group.size > this.config["group.max.size"]) this.prepareRebalance(group, "freshly-loaded group is over capacity");
    for (const member of group.allMemberMetadata) this.completeAndScheduleNextHeartbeatExpiration(group, member);
  }

  private onGroupUnloaded(group: GroupMetadata): void {
    const previous = group.currentState;
    group.transitionTo("Dead", this.nowMs());
    if (previous === "PreparingRebalance") {
      for (const member of group.allMemberMetadata) group.maybeInvokeJoinCallback(member, joinError(member.memberId, "NOT_COORDINATOR"));
      this.rebalancePurgatory.checkAndComplete(groupJoinKey(group.groupId));
    } else if (previous === "Stable" || previous === "CompletingRebalance") {
      for (const member of group.allMemberMetadata) {
        group.maybeInvokeSyncCallback(member, syncError("NOT_COORDINATOR"));
        this.heartbeatPurgatory.checkAndComplete(memberKey(group.groupId, member.memberId));
      }
    }
    this.removeSyncExpiration(group);
  }

  // ---- Trace ----

  private traceState(group: GroupMetadata, previousState: GroupState | null): void {
    const context = this.host.context;
    if (!context.tracing) return;
    context.trace("group-state", {
      group: group.groupId,
      state: group.currentState,
      previousState,
      generation: group.generationId,
      protocol: group.protocolName,
      leader: group.leaderOrNull,
      members: group.allMemberMetadata.map((m) => ({ memberId: m.memberId, instanceId: m.groupInstanceId })),
      partition: this.groupManager.partitionFor(group.groupId),
    });
  }

  traceMemberRemoved(group: GroupMetadata, memberId: string, instanceId: string | null, reason: string): void {
    const context = this.host.context;
    if (context.tracing) context.trace("group-member-removed", { group: group.groupId, member: memberId, instanceId, reason });
  }
}
