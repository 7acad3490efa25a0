/**
 * A consumer group's state on its coordinator (GroupMetadata.scala): the state machine Empty / PreparingRebalance /
 * CompletingRebalance / Stable / Dead with Kafka's validPreviousStates asserted on every transition, the
 * generation, the selected protocol (the most-voted protocol every member supports), the leader, the members,
 * pending members (KIP-394), static members (KIP-345: instance id → member id), members yet to send SyncGroup,
 * and the committed offsets with the commits still being written, and the transactional offset commits (KIP-98)
 * pending per producer until their transaction's marker materialises or drops them. Simplifications: members
 * and offsets are kept in insertion order (Kafka's HashMaps iterate in hash order: a new leader is the first
 * remaining member here, a tied protocol vote goes to the protocol first voted); Kafka's warning about a group
 * that mixes consumer and transactional commits (hasReceivedConsistentOffsetCommits) is not kept.
 */

import type { JoinGroupProtocol, JoinGroupResponseMember } from "../../../protocol/group.ts";
import { topicPartitionKey } from "../../../protocol/kafka.ts";
import { assert } from "../../../sim/assert.ts";
import { joinError, syncError, type JoinCallback, type JoinGroupResult, type MemberMetadata, type SyncGroupResult } from "./member-metadata.ts";

export type GroupState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" | "Dead";

/** GroupState.validPreviousStates. */
export const VALID_PREVIOUS_STATES: Readonly<Record<GroupState, readonly GroupState[]>> = Object.freeze({
  PreparingRebalance: ["Stable", "CompletingRebalance", "Empty"],
  CompletingRebalance: ["PreparingRebalance"],
  Stable: ["CompletingRebalance"],
  Dead: ["Stable", "PreparingRebalance", "CompletingRebalance", "Empty", "Dead"],
  Empty: ["PreparingRebalance"],
});

/** OffsetAndMetadata (kafka.common): one committed offset. */
export interface OffsetAndMetadata {
  readonly offset: number;
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestamp: number;
}

/** CommitRecordMetadataAndOffset: an offset with the log offset of the batch that holds it (null: not appended). */
export interface CommitRecordMetadataAndOffset {
  readonly topic: string;
  readonly partition: number;
  readonly appendedBatchOffset: number | null;
  readonly offsetAndMetadata: OffsetAndMetadata;
}

/** Called after every transition (the coordinator traces group-state). */
export type TransitionListener = (group: GroupMetadata, previousState: GroupState, previousGeneration: number) => void;

export class GroupMetadata {
  private state: GroupState;
  currentStateTimestamp: number;
  protocolType: string | null = null;
  protocolName: string | null = null;
  generationId = 0;
  private leaderId: string | null = null;
  private readonly members = new Map<string, MemberMetadata>();
  /** group.instance.id → member id. */
  private readonly staticMembers = new Map<string, string>();
  private readonly pendingMembers = new Set<string>();
  private numMembersAwaitingJoin = 0;
  /** Protocol name → how many members support it. */
  private readonly supportedProtocols = new Map<string, number>();
  private readonly offsets = new Map<string, CommitRecordMetadataAndOffset>();
  private readonly pendingOffsetCommits = new Map<string, OffsetAndMetadata>();
  /** pendingTransactionalOffsetCommits: producerId → (topic-partition → offset; appendedBatchOffset null until appended). */
  private readonly pendingTransactionalOffsetCommits = new Map<number, Map<string, CommitRecordMetadataAndOffset>>();
  private readonly pendingSyncMembers = new Set<string>();
  /** A member joined during the first rebalance (InitialDelayedJoin extends its delay). */
  newMemberAdded = false;

  constructor(
    readonly groupId: string,
    initialState: GroupState,
    nowMs: number,
    private readonly onTransition: TransitionListener | null = null,
  ) {
    this.state = initialState;
    this.currentStateTimestamp = nowMs;
  }

  // ---- State ----

  get currentState(): GroupState {
    return this.state;
  }

  is(state: GroupState): boolean {
    return this.state === state;
  }

  /** PreparingRebalance can be entered from here. */
  get canRebalance(): boolean {
    return VALID_PREVIOUS_STATES.PreparingRebalance.includes(this.state);
  }

  transitionTo(state: GroupState, nowMs: number): void {
    assert(VALID_PREVIOUS_STATES[state].includes(this.state), `group ${this.groupId}: ${state} may follow only ${VALID_PREVIOUS_STATES[state].join(", ")}, not ${this.state}`);
    const previous = this.state;
    this.state = state;
    this.currentStateTimestamp = nowMs;
    this.onTransition?.(this, previous, this.generationId);
  }

  // ---- Members ----

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  get(memberId: string): MemberMetadata {
    const member = this.members.get(memberId);
    assert(member !== undefined, `group ${this.groupId} has no member ${memberId}`);
    return member;
  }

  get size(): number {
    return this.members.size;
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  get leaderOrNull(): string | null {
    return this.leaderId;
  }

  get allMembers(): string[] {
    return [...this.members.keys()];
  }

  get allMemberMetadata(): MemberMetadata[] {
    return [...this.members.values()];
  }

  get numAwaiting(): number {
    return this.numMembersAwaitingJoin;
  }

  get numPending(): number {
    return this.pendingMembers.size;
  }

  /** The largest rebalance timeout of the members (the DelayedJoin / DelayedSync timeout). */
  get rebalanceTimeoutMs(): number {
    let timeout = 0;
    for (const member of this.members.values()) timeout = Math.max(timeout, member.rebalanceTimeoutMs);
    return timeout;
  }

  add(member: MemberMetadata, callback: JoinCallback | null = null): void {
    if (member.groupInstanceId !== null) {
      assert(!this.staticMembers.has(member.groupInstanceId), `static member ${member.groupInstanceId} is already in group ${this.groupId}`);
      this.staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (this.members.size === 0) this.protocolType = member.protocolType;
    assert(this.protocolType === member.protocolType, `member ${member.memberId} has the group's protocol type`);
    assert(this.supportsProtocols(member.protocolType, member.supportedProtocols), `member ${member.memberId} supports a protocol of the group`);
    if (this.leaderId === null) this.leaderId = member.memberId;
    this.members.set(member.memberId, member);
    this.incSupportedProtocols(member);
    member.awaitingJoinCallback = callback;
    if (member.isAwaitingJoin) this.numMembersAwaitingJoin++;
    this.pendingMembers.delete(member.memberId);
  }

  remove(memberId: string): void {
    const member = this.members.get(memberId);
    if (member !== undefined) {
      this.members.delete(memberId);
      this.decSupportedProtocols(member);
      if (member.isAwaitingJoin) this.numMembersAwaitingJoin--;
      if (member.groupInstanceId !== null) this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.isLeader(memberId)) this.leaderId = this.members.size > 0 ? this.members.keys().next().value! : null;
    this.pendingMembers.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
  }

  /** GroupMetadata.loadGroup sets the stored leader (null: none); it must be a member. */
  restoreLeader(leaderId: string | null): void {
    assert(leaderId === null || this.members.has(leaderId), `group ${this.groupId}: the stored leader ${leaderId} is a member`);
    this.leaderId = leaderId;
  }

  /** When the leader has not rejoined, any member that has becomes the leader; false when none has. */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    if (this.get(this.leaderId).isAwaitingJoin) return true;
    for (const [memberId, member] of this.members) {
      if (member.isAwaitingJoin) {
        this.leaderId = memberId;
        return true;
      }
    }
    return false;
  }

  /** KIP-345: the static member's entry moves to its new member id; the old id's parked requests get FENCED_INSTANCE_ID. */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): MemberMetadata {
    const member = this.get(oldMemberId);
    this.members.delete(oldMemberId);
    this.maybeInvokeJoinCallback(member, joinError(oldMemberId, "FENCED_INSTANCE_ID"));
    this.maybeInvokeSyncCallback(member, syncError("FENCED_INSTANCE_ID"));
    member.memberId = newMemberId;
    this.members.set(newMemberId, member);
    if (this.isLeader(oldMemberId)) this.leaderId = newMemberId;
    this.staticMembers.set(groupInstanceId, newMemberId);
    return member;
  }

  isPendingMember(memberId: string): boolean {
    return this.pendingMembers.has(memberId);
  }

  addPendingMember(memberId: string): void {
    assert(!this.has(memberId), `pending member ${memberId} is not already a member`);
    this.pendingMembers.add(memberId);
  }

  addPendingSyncMember(memberId: string): void {
    assert(this.has(memberId), `pending sync member ${memberId} is a member`);
    this.pendingSyncMembers.add(memberId);
  }

  removePendingSyncMember(memberId: string): void {
    assert(this.has(memberId), `pending sync member ${memberId} is a member`);
    this.pendingSyncMembers.delete(memberId);
  }

  get hasReceivedSyncFromAllMembers(): boolean {
    return this.pendingSyncMembers.size === 0;
  }

  get allPendingSyncMembers(): string[] {
    return [...this.pendingSyncMembers];
  }

  clearPendingSyncMembers(): void {
    this.pendingSyncMembers.clear();
  }

  currentStaticMemberId(groupInstanceId: string): string | null {
    return this.staticMembers.get(groupInstanceId) ?? null;
  }

  /** Members (static ones included) that have not rejoined in this rebalance. */
  get notYetRejoinedMembers(): MemberMetadata[] {
    return this.allMemberMetadata.filter((m) => !m.isAwaitingJoin);
  }

  get hasAllMembersJoined(): boolean {
    return this.members.size === this.numMembersAwaitingJoin && this.pendingMembers.size === 0;
  }

  // ---- Protocols ----

  /** The most-voted protocol among those every member supports (each member votes its first such protocol). */
  selectProtocol(): string {
    assert(this.members.size > 0, `group ${this.groupId}: no protocol for an empty group`);
    const candidates = new Set([...this.supportedProtocols].filter(([, count]) => count === this.members.size).map(([name]) => name));
    const votes = new Map<string, number>();
    for (const member of this.members.values()) {
      const vote = member.vote(candidates);
      votes.set(vote, (votes.get(vote) ?? 0) + 1);
    }
    let best = "";
    let most = 0;
    for (const [protocol, count] of votes) {
      if (count > most) [best, most] = [protocol, count];
    }
    return best;
  }

  /** An Empty group takes any non-empty protocol list; otherwise a member must share a protocol with every member. */
  supportsProtocols(memberProtocolType: string, protocols: readonly JoinGroupProtocol[]): boolean {
    if (this.is("Empty")) return memberProtocolType !== "" && protocols.length > 0;
    return this.protocolType === memberProtocolType && protocols.some((p) => (this.supportedProtocols.get(p.name) ?? 0) === this.members.size);
  }

  updateMember(member: MemberMetadata, protocols: readonly JoinGroupProtocol[], rebalanceTimeoutMs: number, sessionTimeoutMs: number, callback: JoinCallback | null): void {
    this.decSupportedProtocols(member);
    member.supportedProtocols = protocols;
    this.incSupportedProtocols(member);
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    if (callback !== null && !member.isAwaitingJoin) this.numMembersAwaitingJoin++;
    else if (callback === null && member.isAwaitingJoin) this.numMembersAwaitingJoin--;
    member.awaitingJoinCallback = callback;
  }

  maybeInvokeJoinCallback(member: MemberMetadata, result: JoinGroupResult): void {
    const callback = member.awaitingJoinCallback;
    if (callback === null) return;
    member.awaitingJoinCallback = null;
    this.numMembersAwaitingJoin--;
    callback(result);
  }

  /** Answers a parked SyncGroup; whether there was one. */
  maybeInvokeSyncCallback(member: MemberMetadata, result: SyncGroupResult): boolean {
    const callback = member.awaitingSyncCallback;
    if (callback === null) return false;
    member.awaitingSyncCallback = null;
    callback(result);
    return true;
  }

  /** The next generation: CompletingRebalance with the selected protocol, or Empty without members. */
  initNextGeneration(nowMs: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.transitionTo("CompletingRebalance", nowMs);
    } else {
      this.protocolName = null;
      this.transitionTo("Empty", nowMs);
    }
    this.clearPendingSyncMembers();
  }

  /** The member list the leader gets in its JoinGroup response. */
  currentMemberMetadata(): JoinGroupResponseMember[] {
    assert(!this.is("Dead") && !this.is("PreparingRebalance"), `group ${this.groupId}: no member metadata while ${this.state}`);
    return this.allMemberMetadata.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata(this.protocolName!) }));
  }

  private incSupportedProtocols(member: MemberMetadata): void {
    for (const p of member.supportedProtocols) this.supportedProtocols.set(p.name, (this.supportedProtocols.get(p.name) ?? 0) + 1);
  }

  private decSupportedProtocols(member: MemberMetadata): void {
    for (const p of member.supportedProtocols) this.supportedProtocols.set(p.name, (this.supportedProtocols.get(p.name) ?? 0) - 1);
  }

  // ---- Offsets ----

  /** initializeOffsets: the loaded offsets and the loaded transactional offsets still pending per producer. */
  initializeOffsets(offsets: Iterable<CommitRecordMetadataAndOffset>, pendingTxnOffsets: ReadonlyMap<number, Iterable<CommitRecordMetadataAndOffset>> = new Map()): void {
    for (const offset of offsets) this.offsets.set(topicPartitionKey(offset.topic, offset.partition), offset);
    for (const [producerId, producerOffsets] of pendingTxnOffsets) {
      const pending = new Map<string, CommitRecordMetadataAndOffset>();
      for (const o of producerOffsets) {
        assert(o.appendedBatchOffset !== null, "a loaded transactional offset has its batch offset");
        pending.set(topicPartitionKey(o.topic, o.partition), o);
      }
      if (pending.size > 0) this.pendingTransactionalOffsetCommits.set(producerId, pending);
    }
  }

  /** Staged before the append (requireStable sees them; expiry skips them). */
  prepareOffsetCommit(offsets: readonly { topic: string; partition: number; offsetAndMetadata: OffsetAndMetadata }[]): void {
    for (const o of offsets) this.pendingOffsetCommits.set(topicPartitionKey(o.topic, o.partition), o.offsetAndMetadata);
  }

  /** The append completed: the offset replaces an older one and the staged entry goes. */
  onOffsetCommitAppend(commit: CommitRecordMetadataAndOffset): void {
    const key = topicPartitionKey(commit.topic, commit.partition);
    const staged = this.pendingOffsetCommits.get(key);
    if (staged !== undefined) {
      assert(commit.appendedBatchOffset !== null, "a completed offset commit has its batch offset");
      const current = this.offsets.get(key);
      if (current === undefined || current.appendedBatchOffset! < commit.appendedBatchOffset) this.offsets.set(key, commit);
    }
    if (staged === commit.offsetAndMetadata) this.pendingOffsetCommits.delete(key);
  }

  failPendingOffsetWrite(topic: string, partition: number, offset: OffsetAndMetadata): void {
    const key = topicPartitionKey(topic, partition);
    if (this.pendingOffsetCommits.get(key) === offset) this.pendingOffsetCommits.delete(key);
  }

  /** A consumer commit still being written, or a transactional one not yet completed by its marker. */
  hasPendingOffsetCommitsForTopicPartition(topic: string, partition: number): boolean {
    const key = topicPartitionKey(topic, partition);
    if (this.pendingOffsetCommits.has(key)) return true;
    for (const pending of this.pendingTransactionalOffsetCommits.values()) if (pending.has(key)) return true;
    return false;
  }

  // ---- Transactional offsets (KIP-98) ----

  /** prepareTxnOffsetCommit: staged per producer before the append (appendedBatchOffset null). */
  prepareTxnOffsetCommit(producerId: number, offsets: readonly { topic: string; partition: number; offsetAndMetadata: OffsetAndMetadata }[]): void {
    let pending = this.pendingTransactionalOffsetCommits.get(producerId);
    if (pending === undefined) this.pendingTransactionalOffsetCommits.set(producerId, (pending = new Map()));
    for (const o of offsets) pending.set(topicPartitionKey(o.topic, o.partition), { topic: o.topic, partition: o.partition, appendedBatchOffset: null, offsetAndMetadata: o.offsetAndMetadata });
  }

  /** onTxnOffsetCommitAppend: the staged offset (the same one) learns its batch offset; still pending. */
  onTxnOffsetCommitAppend(producerId: number, commit: CommitRecordMetadataAndOffset): void {
    assert(commit.appendedBatchOffset !== null, "an appended transactional offset has its batch offset");
    const pending = this.pendingTransactionalOffsetCommits.get(producerId);
    // Absent: the partition emigrated (the group was unloaded) meanwhile.
    if (pending === undefined) return;
    const key = topicPartitionKey(commit.topic, commit.partition);
    if (pending.get(key)?.offsetAndMetadata === commit.offsetAndMetadata) pending.set(key, commit);
  }

  /** failPendingTxnOffsetCommit: the record was not written; the producer retries, maybe elsewhere. */
  failPendingTxnOffsetCommit(producerId: number, topic: string, partition: number): void {
    const pending = this.pendingTransactionalOffsetCommits.get(producerId);
    if (pending === undefined) return;
    pending.delete(topicPartitionKey(topic, partition));
    if (pending.size === 0) this.pendingTransactionalOffsetCommits.delete(producerId);
  }

  /**
   * completePendingTxnOffsetCommit: the producer's marker is written. COMMIT materialises each pending offset
   * unless a newer record (a later consumer commit) is already the partition's offset; ABORT drops them.
   * Returns the offsets that were pending.
   */
  completePendingTxnOffsetCommit(producerId: number, isCommit: boolean): CommitRecordMetadataAndOffset[] {
    const pending = this.pendingTransactionalOffsetCommits.get(producerId);
    this.pendingTransactionalOffsetCommits.delete(producerId);
    if (pending === undefined) return [];
    if (isCommit) {
      for (const [key, commit] of pending) {
        assert(commit.appendedBatchOffset !== null, `group ${this.groupId}: producer ${producerId}'s committed offset ${key} was appended`);
        const current = this.offsets.get(key);
        if (current === undefined || current.appendedBatchOffset! < commit.appendedBatchOffset) this.offsets.set(key, commit);
      }
    }
    return [...pending.values()];
  }

  hasPendingOffsetCommitsFromProducer(producerId: number): boolean {
    return this.pendingTransactionalOffsetCommits.has(producerId);
  }

  /** pendingTxnOffsetCommit (tests): the producer's pending offset for the partition, or null. */
  pendingTxnOffsetCommit(producerId: number, topic: string, partition: number): CommitRecordMetadataAndOffset | null {
    return this.pendingTransactionalOffsetCommits.get(producerId)?.get(topicPartitionKey(topic, partition)) ?? null;
  }

  /** The producers with pending transactional offsets, in insertion order. */
  get activeProducers(): number[] {
    return [...this.pendingTransactionalOffsetCommits.keys()];
  }

  offset(topic: string, partition: number): OffsetAndMetadata | null {
    return this.offsets.get(topicPartitionKey(topic, partition))?.offsetAndMetadata ?? null;
  }

  allOffsets(): CommitRecordMetadataAndOffset[] {
    return [...this.offsets.values()];
  }

  get numOffsets(): number {
    return this.offsets.size;
  }

  get hasOffsets(): boolean {
    return this.offsets.size > 0 || this.pendingOffsetCommits.size > 0 || this.pendingTransactionalOffsetCommits.size > 0;
  }

  /**
   * removeExpiredOffsets, simplified: offsets of an Empty group expire offsets.retention.minutes after the group
   * became Empty; a group with members keeps its offsets (Kafka also expires a Stable consumer group's offsets
   * of topics no member subscribes to, and honours a commit's explicit expire timestamp).
   */
  removeExpiredOffsets(nowMs: number, retentionMs: number): CommitRecordMetadataAndOffset[] {
    if (!this.is("Empty")) return [];
    const expired = [...this.offsets.entries()].filter(([key]) => !this.pendingOffsetCommits.has(key) && nowMs - this.currentStateTimestamp >= retentionMs);
    for (const [key] of expired) this.offsets.delete(key);
    return expired.map(([, o]) => o);
  }
}
