/**
 * The group coordinator's delayed operations (DelayedJoin.scala with InitialDelayedJoin, DelayedHeartbeat.scala,
 * DelayedSync.scala), parked in the coordinator's two purgatories ("Heartbeat" and "Rebalance") whose timeouts
 * are timers of the broker process under GROUP_COORDINATOR_TIMER_PREFIX. Each asks the coordinator whether it
 * can complete and what to do on completion or expiry, as Kafka's do. Simplification: Kafka's DelayedJoin.
 * onExpiration only drains the ReplicaManager's action queue, which the model does not have.
 */

import { DelayedOperation, type Purgatory } from "../../replica/purgatory.ts";
import type { GroupMetadata } from "./group-metadata.ts";

/** Timer tags of the group coordinator (the broker routes them by this prefix). */
export const GROUP_COORDINATOR_TIMER_PREFIX = "group-coordinator:";

/** What the delayed operations ask of the GroupCoordinator. */
export interface DelayedGroupCallbacks {
  readonly rebalancePurgatory: Purgatory<DelayedOperation>;
  tryCompleteJoin(group: GroupMetadata, forceComplete: () => boolean): boolean;
  onCompleteJoin(group: GroupMetadata): void;
  tryCompleteHeartbeat(group: GroupMetadata, memberId: string, isPending: boolean, forceComplete: () => boolean): boolean;
  onExpireHeartbeat(group: GroupMetadata, memberId: string, isPending: boolean): void;
  tryCompletePendingSync(group: GroupMetadata, generationId: number, forceComplete: () => boolean): boolean;
  onExpirePendingSync(group: GroupMetadata, generationId: number): void;
}

/** GroupJoinKey. */
export function groupJoinKey(groupId: string): string {
  return `join:${groupId}`;
}

/** GroupSyncKey. */
export function groupSyncKey(groupId: string): string {
  return `sync:${groupId}`;
}

/** MemberKey (the group id's length keeps a member id from being read as part of it). */
export function memberKey(groupId: string, memberId: string): string {
  return `member:${groupId.length}:${groupId}:${memberId}`;
}

/** DelayedJoin: completes once every known member has rejoined, or when the rebalance timeout expires. */
export class DelayedJoin extends DelayedOperation {
  readonly keys: readonly string[];

  constructor(
    protected readonly coordinator: DelayedGroupCallbacks,
    protected readonly group: GroupMetadata,
    readonly timeoutMs: number,
  ) {
    super();
    this.keys = [groupJoinKey(group.groupId)];
  }

  tryComplete(): boolean {
    return this.coordinator.tryCompleteJoin(this.group, () => this.forceComplete());
  }

  onComplete(): void {
    this.coordinator.onCompleteJoin(this.group);
  }
}

/**
 * InitialDelayedJoin: leaving Empty, the group waits group.initial.rebalance.delay.ms for more members; each
 * new member extends the wait by that delay again, up to the rebalance timeout in total.
 */
export class InitialDelayedJoin extends DelayedJoin {
  constructor(
    coordinator: DelayedGroupCallbacks,
    group: GroupMetadata,
    private readonly configuredRebalanceDelayMs: number,
    delayMs: number,
    private readonly remainingMs: number,
  ) {
    super(coordinator, group, delayMs);
  }

  override tryComplete(): boolean {
    return false;
  }

  override onComplete(): void {
    if (this.group.newMemberAdded && this.remainingMs !== 0) {
      this.group.newMemberAdded = false;
      const delayMs = Math.min(this.configuredRebalanceDelayMs, this.remainingMs);
      const remainingMs = Math.max(this.remainingMs - this.timeoutMs, 0);
      const next = new InitialDelayedJoin(this.coordinator, this.group, this.configuredRebalanceDelayMs, delayMs, remainingMs);
      this.coordinator.rebalancePurgatory.tryCompleteElseWatch(next, delayMs);
    } else {
      super.onComplete();
    }
  }
}

/** DelayedHeartbeat: a member's (or a pending member's) session; expiry removes it. */
export class DelayedHeartbeat extends DelayedOperation {
  readonly keys: readonly string[];

  constructor(
    private readonly coordinator: DelayedGroupCallbacks,
    private readonly group: GroupMetadata,
    private readonly memberId: string,
    private readonly isPending: boolean,
  ) {
    super();
    this.keys = [memberKey(group.groupId, memberId)];
  }

  tryComplete(): boolean {
    return this.coordinator.tryCompleteHeartbeat(this.group, this.memberId, this.isPending, () => this.forceComplete());
  }

  onComplete(): void {
    if (this.expired) this.coordinator.onExpireHeartbeat(this.group, this.memberId, this.isPending);
  }
}

/** DelayedSync (KAFKA-12890): members that sent no SyncGroup within the rebalance timeout are removed. */
export class DelayedSync extends DelayedOperation {
  readonly keys: readonly string[];

  constructor(
    private readonly coordinator: DelayedGroupCallbacks,
    private readonly group: GroupMetadata,
    private readonly generationId: number,
  ) {
    super();
    this.keys = [groupSyncKey(group.groupId)];
  }

  tryComplete(): boolean {
    return this.coordinator.tryCompletePendingSync(this.group, this.generationId, () => this.forceComplete());
  }

  onComplete(): void {
    if (this.expired) this.coordinator.onExpirePendingSync(this.group, this.generationId);
  }
}
