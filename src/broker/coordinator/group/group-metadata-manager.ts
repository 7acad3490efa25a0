/**
 * The group coordinator's storage (GroupMetadataManager.scala): the cache of groups this broker coordinates, the
 * __consumer_offsets partitions it owns or is loading, storeGroup / storeOffsets appending records to the local
 * leader partition through the ReplicaManager's one append path (acks = -1, offsets.commit.timeout.ms) and
 * applying them only when the append completes, getOffsets, loading a partition when this broker becomes its
 * leader and unloading it on resignation, and the periodic offsets expiry; and transactional offset commits
 * (KIP-98): storeOffsets with a producer id appends a transactional batch and keeps the offsets pending per
 * producer (openGroupsForProducer) until handleTxnCompletion, run after the transaction's marker is written to
 * the partition, materialises (COMMIT) or drops (ABORT) them; the loader keeps a transactional batch's offsets
 * pending per producer until its control batch. Simplifications: loading reads the whole log once its duration
 * has passed — OFFSETS_LOAD_BYTES_PER_MS of the log's bytes, standing in for Kafka's scheduler thread reading and
 * parsing it — and unloading is immediate (a pending load of the partition is dropped, as the scheduler's FIFO
 * would run it first and unload it right after); handleTxnCompletion runs on a zero-delay timer (Kafka's
 * scheduler thread), not behind a load in the same FIFO; offsets expire only for Empty groups (group-metadata.ts).
 */

import { coordinatorAppendError } from "../append-errors.ts";
import type { Disk } from "../../../disk/disk.ts";
import { partitionForGroup, type ConsumerProtocolAssignment, type OffsetFetchPartition } from "../../../protocol/group.ts";
import type { KafkaError } from "../../../protocol/kafka.ts";
import type { ProcessContext } from "../../../sim/host.ts";
import type { TimerId } from "../../../sim/kernel.ts";
import { ms } from "../../../sim/time.ts";
import type { ReplicationConfig } from "../../config.ts";
import type { BrokerMetrics } from "../../metrics.ts";
import type { Log } from "../../log/log.ts";
import { GROUP_COORDINATOR_TIMER_PREFIX } from "./delayed-operations.ts";
import { GroupMetadata, type CommitRecordMetadataAndOffset, type OffsetAndMetadata, type TransitionListener } from "./group-metadata.ts";
import {
  groupMetadataKey,
  groupMetadataValue,
  offsetCommitKey,
  offsetCommitValue,
  readGroupMessageValue,
  readMessageKey,
  readOffsetMessageValue,
  type GroupMetadataValue,
} from "./group-records.ts";
import { MemberMetadata } from "./member-metadata.ts";

/** How fast a new coordinator reads and parses an offsets partition (10 MB/s), for the loading time. */
export const OFFSETS_LOAD_BYTES_PER_MS = 10_000;
/** offsets.load.buffer.size (5 MiB): the bytes of one read while loading. */
export const OFFSETS_LOAD_BUFFER_BYTES = 5 * 1024 * 1024;
/** offset.metadata.max.bytes (4096). */
export const OFFSET_METADATA_MAX_BYTES = 4096;

const TAG_LOAD = `${GROUP_COORDINATOR_TIMER_PREFIX}load`;
const TAG_EXPIRE_OFFSETS = `${GROUP_COORDINATOR_TIMER_PREFIX}delete-expired-group-metadata`;
const TAG_TXN_COMPLETION = `${GROUP_COORDINATOR_TIMER_PREFIX}handle-txn-completion`;

/** RecordBatch.NO_PRODUCER_ID / NO_PRODUCER_EPOCH: a consumer's (non-transactional) commit. */
export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;

/** The record a coordinator appends: a key and a value (null: tombstone). */
export interface GroupRecord {
  readonly key: string;
  readonly value: string | null;
}

/** What the manager reaches of the broker's replicas of __consumer_offsets (the ReplicaManager in a broker). */
export interface OffsetsTopicStorage {
  /**
   * ReplicaManager.appendRecords(acks, timeout) of one batch to __consumer_offsets-`partition`; with `producer`,
   * a transactional batch of that producer id and epoch (a TxnOffsetCommit's records).
   */
  append(
    partition: number,
    records: readonly GroupRecord[],
    acks: -1 | 1,
    timeoutMs: number,
    callback: (error: KafkaError, baseOffset: number) => void,
    producer?: { readonly producerId: number; readonly producerEpoch: number },
  ): void;
  /** The local log of the partition, or null when this broker hosts no replica of it (getMagic: None). */
  log(partition: number): Log | null;
}

export interface GroupManagerHost {
  readonly context: ProcessContext<Disk>;
  readonly config: ReplicationConfig;
  readonly metrics: BrokerMetrics;
  nowMs(): number;
}

/** One offset a commit stores. */
export interface OffsetCommitEntry {
  readonly topic: string;
  readonly partition: number;
  readonly offsetAndMetadata: OffsetAndMetadata;
}

/** A scheduled handleTxnCompletion (the timer's data). */
interface TxnCompletionJob {
  readonly producerId: number;
  readonly completedPartitions: readonly number[];
  readonly isCommit: boolean;
  timer: TimerId;
}

export class GroupMetadataManager {
  private readonly groups = new Map<string, GroupMetadata>();
  private readonly loadingPartitions = new Set<number>();
  private readonly ownedPartitions = new Set<number>();
  /** The leader epoch each partition was last (un)loaded in (epochForPartitionId). */
  private readonly epochForPartitionId = new Map<number, number>();
  /** Loads under way: partition → its timer. */
  private readonly loadTimers = new Map<number, TimerId>();
  private expiryTimer: TimerId | null = null;
  /** Scheduled handleTxnCompletion runs. */
  private readonly txnCompletionTimers = new Set<TimerId>();
  /** openGroupsForProducer: the groups with pending transactional offsets, per producer id. */
  private readonly openGroupsForProducer = new Map<number, Set<string>>();
  private shuttingDown = false;

  constructor(
    private readonly host: GroupManagerHost,
    readonly storage: OffsetsTopicStorage,
    private readonly onTransition: TransitionListener,
  ) {}

  get numPartitions(): number {
    return this.host.config["offsets.topic.num.partitions"];
  }

  startup(): void {
    this.scheduleExpiry(0);
  }

  shutdown(): void {
    this.shuttingDown = true;
    for (const timer of this.loadTimers.values()) this.host.context.cancelTimer(timer);
    this.loadTimers.clear();
    for (const timer of this.txnCompletionTimers) this.host.context.cancelTimer(timer);
    this.txnCompletionTimers.clear();
    if (this.expiryTimer !== null) this.host.context.cancelTimer(this.expiryTimer);
    this.expiryTimer = null;
  }

  // ---- Ownership ----

  partitionFor(groupId: string): number {
    return partitionForGroup(groupId, this.numPartitions);
  }

  isPartitionOwned(partition: number): boolean {
    return this.ownedPartitions.has(partition);
  }

  isPartitionLoading(partition: number): boolean {
    return this.loadingPartitions.has(partition);
  }

  isGroupLocal(groupId: string): boolean {
    return this.isPartitionOwned(this.partitionFor(groupId));
  }

  isGroupLoading(groupId: string): boolean {
    return this.isPartitionLoading(this.partitionFor(groupId));
  }

  /** The partitions owned, in order (tests, metrics). */
  get owned(): number[] {
    return [...this.ownedPartitions].sort((a, b) => a - b);
  }

  // ---- Groups ----

  currentGroups(): GroupMetadata[] {
    return [...this.groups.values()];
  }

  getGroup(groupId: string): GroupMetadata | null {
    return this.groups.get(groupId) ?? null;
  }

  getOrMaybeCreateGroup(groupId: string, createIfNotExist: boolean): GroupMetadata | null {
    const group = this.groups.get(groupId);
    if (group !== undefined || !createIfNotExist) return group ?? null;
    return this.addGroup(this.newGroup(groupId));
  }

  newGroup(groupId: string): GroupMetadata {
    return new GroupMetadata(groupId, "Empty", this.host.nowMs(), this.onTransition);
  }

  addGroup(group: GroupMetadata): GroupMetadata {
    const current = this.groups.get(group.groupId);
    if (current !== undefined) return current;
    this.groups.set(group.groupId, group);
    return group;
  }

  // ---- Writes ----

  /** storeGroup: the group metadata record; the callback gets the converted error once the append completes. */
  storeGroup(group: GroupMetadata, assignment: ReadonlyMap<string, ConsumerProtocolAssignment>, callback: (error: KafkaError) => void): void {
    const partition = this.partitionFor(group.groupId);
    if (this.storage.log(partition) === null) return callback("NOT_COORDINATOR");
    const value: GroupMetadataValue = {
      protocolType: group.protocolType ?? "",
      generation: group.generationId,
      protocol: group.protocolName,
      leader: group.leaderOrNull,
      currentStateTimestamp: group.currentStateTimestamp,
      members: group.allMemberMetadata.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        rebalanceTimeout: m.rebalanceTimeoutMs,
        sessionTimeout: m.sessionTimeoutMs,
        subscription: m.metadata(group.protocolName!),
        assignment: assignment.get(m.memberId) ?? m.assignment,
      })),
    };
    const record = { key: groupMetadataKey(group.groupId), value: groupMetadataValue(value) };
    this.append(partition, [record], (error) => callback(storeGroupError(error)));
  }

  /**
   * storeOffsets: offsets with too-large metadata are refused (OFFSET_METADATA_TOO_LARGE); the rest are staged,
   * appended, then applied (or un-staged) when the append completes; the callback gets one error per entry.
   * With a producer id (TxnOffsetCommit) the batch is transactional and the offsets stay pending per producer
   * after the append, until handleTxnCompletion.
   */
  storeOffsets(
    group: GroupMetadata,
    memberId: string,
    generationId: number,
    offsets: readonly OffsetCommitEntry[],
    callback: (errors: KafkaError[]) => void,
    producerId: number = NO_PRODUCER_ID,
    producerEpoch: number = NO_PRODUCER_EPOCH,
  ): void {
    const isTxnOffsetCommit = producerId !== NO_PRODUCER_ID;
    const valid = (o: OffsetCommitEntry) => new TextEncoder().encode(o.offsetAndMetadata.metadata).length <= OFFSET_METADATA_MAX_BYTES;
    const filtered = offsets.filter(valid);
    if (filtered.length === 0) return callback(offsets.map(() => "OFFSET_METADATA_TOO_LARGE"));
    const partition = this.partitionFor(group.groupId);
    if (this.storage.log(partition) === null) return callback(offsets.map(() => "NOT_COORDINATOR"));
    const records = filtered.map((o) => ({ key: offsetCommitKey(group.groupId, o.topic, o.partition), value: offsetCommitValue(o.offsetAndMetadata) }));
    if (isTxnOffsetCommit) {
      this.addProducerGroup(producerId, group.groupId);
      group.prepareTxnOffsetCommit(producerId, filtered);
    } else {
      group.prepareOffsetCommit(filtered);
    }
    const onAppended = (error: KafkaError, baseOffset: number) => {
      let responseError: KafkaError = "NONE";
      if (error === "NONE") {
        this.host.metrics.groupCoordinator.offsetCommits.record(records.length, this.host.metrics.now());
        if (!group.is("Dead")) {
          for (const o of filtered) {
            const commit = { topic: o.topic, partition: o.partition, appendedBatchOffset: baseOffset, offsetAndMetadata: o.offsetAndMetadata };
            if (isTxnOffsetCommit) group.onTxnOffsetCommitAppend(producerId, commit);
            else group.onOffsetCommitAppend(commit);
          }
          const context = this.host.context;
          if (context.tracing && isTxnOffsetCommit) {
            context.trace("txn-offset-commit", {
              groupId: group.groupId,
              producerId,
              producerEpoch,
              offsets: filtered.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offsetAndMetadata.offset })),
            });
          } else if (context.tracing) {
            context.trace("group-offsets-committed", {
              group: group.groupId,
              member: memberId,
              generation: generationId,
              offsets: filtered.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offsetAndMetadata.offset })),
            });
          }
        }
      } else {
        if (!group.is("Dead")) {
          // Kafka asks before un-staging, so a producer whose only offsets fail stays open until its marker.
          if (isTxnOffsetCommit && !group.hasPendingOffsetCommitsFromProducer(producerId)) this.removeProducerGroup(producerId, group.groupId);
          for (const o of filtered) {
            if (isTxnOffsetCommit) group.failPendingTxnOffsetCommit(producerId, o.topic, o.partition);
            else group.failPendingOffsetWrite(o.topic, o.partition, o.offsetAndMetadata);
          }
        }
        responseError = offsetCommitError(error);
      }
      callback(offsets.map((o) => (valid(o) ? responseError : "OFFSET_METADATA_TOO_LARGE")));
    };
    this.append(partition, records, onAppended, isTxnOffsetCommit ? { producerId, producerEpoch } : undefined);
  }

  private append(partition: number, records: readonly GroupRecord[], callback: (error: KafkaError, baseOffset: number) => void, producer?: { producerId: number; producerEpoch: number }): void {
    this.storage.append(partition, records, -1, this.host.config["offsets.commit.timeout.ms"], callback, producer);
  }

  // ---- Transaction completion ----

  /**
   * scheduleHandleTxnCompletion: the producer's marker is written to these offsets partitions; its groups there
   * complete their pending offsets on the coordinator's scheduler (a zero-delay timer here).
   */
  scheduleHandleTxnCompletion(producerId: number, completedPartitions: readonly number[], isCommit: boolean): void {
    if (this.shuttingDown) return;
    const job: TxnCompletionJob = { producerId, completedPartitions, isCommit, timer: -1 };
    job.timer = this.host.context.setTimer(0, TAG_TXN_COMPLETION, job);
    this.txnCompletionTimers.add(job.timer);
  }

  /** handleTxnCompletion: each group of the producer on a completed partition commits or drops its pending offsets. */
  handleTxnCompletion(producerId: number, completedPartitions: readonly number[], isCommit: boolean): void {
    const groups = [...(this.openGroupsForProducer.get(producerId) ?? [])].filter((groupId) => completedPartitions.includes(this.partitionFor(groupId)));
    for (const groupId of groups) {
      const group = this.groups.get(groupId);
      // Gone: the group moved to another coordinator, which loads the marker with the offsets.
      if (group === undefined || group.is("Dead")) continue;
      const completed = group.completePendingTxnOffsetCommit(producerId, isCommit);
      this.removeProducerGroup(producerId, groupId);
      const context = this.host.context;
      if (context.tracing) {
        context.trace("txn-offset-complete", {
          groupId,
          producerId,
          result: isCommit ? "COMMIT" : "ABORT",
          partitions: completed.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offsetAndMetadata.offset })),
        });
      }
    }
  }

  /** isGroupOpenForProducer (tests). */
  isGroupOpenForProducer(producerId: number, groupId: string): boolean {
    return this.openGroupsForProducer.get(producerId)?.has(groupId) ?? false;
  }

  private addProducerGroup(producerId: number, groupId: string): void {
    let groups = this.openGroupsForProducer.get(producerId);
    if (groups === undefined) this.openGroupsForProducer.set(producerId, (groups = new Set()));
    groups.add(groupId);
  }

  private removeProducerGroup(producerId: number, groupId: string): void {
    const groups = this.openGroupsForProducer.get(producerId);
    if (groups === undefined) return;
    groups.delete(groupId);
    if (groups.size === 0) this.openGroupsForProducer.delete(producerId);
  }

  private removeGroupFromAllProducers(groupId: string): void {
    for (const groups of this.openGroupsForProducer.values()) groups.delete(groupId);
  }

  // ---- Reads ----

  /** getOffsets: never a stale offset — the group's cache, or INVALID_OFFSET (-1) when there is none. */
  getOffsets(groupId: string, requireStable: boolean, partitions: readonly { topic: string; partition: number }[] | null): OffsetFetchPartition[] {
    const none = (topic: string, partition: number, error: KafkaError = "NONE"): OffsetFetchPartition => ({ topic, partition, committedOffset: -1, committedLeaderEpoch: -1, metadata: "", error });
    const group = this.groups.get(groupId);
    if (group === undefined || group.is("Dead")) return (partitions ?? []).map((p) => none(p.topic, p.partition));
    const wanted = partitions ?? group.allOffsets().map((o) => ({ topic: o.topic, partition: o.partition }));
    return wanted.map(({ topic, partition }) => {
      if (requireStable && group.hasPendingOffsetCommitsForTopicPartition(topic, partition)) return none(topic, partition, "UNSTABLE_OFFSET_COMMIT");
      const offset = group.offset(topic, partition);
      if (offset === null) return none(topic, partition);
      return { topic, partition, committedOffset: offset.offset, committedLeaderEpoch: offset.leaderEpoch, metadata: offset.metadata, error: "NONE" };
    });
  }

  // ---- Loading and unloading ----

  /** maybeUpdateCoordinatorEpoch: true when `epoch` (null: none given) is at least the partition's current one. */
  private maybeUpdateCoordinatorEpoch(partition: number, epoch: number | null): boolean {
    const current = this.epochForPartitionId.get(partition);
    if (epoch === null) return true;
    if (current === undefined || epoch > current) this.epochForPartitionId.set(partition, epoch);
    return this.epochForPartitionId.get(partition) === epoch;
  }

  /** scheduleLoadGroupAndOffsets: the partition is loading (COORDINATOR_LOAD_IN_PROGRESS) until its log is read. */
  scheduleLoadGroupAndOffsets(partition: number, coordinatorEpoch: number, onGroupLoaded: (group: GroupMetadata) => void): void {
    if (this.shuttingDown) return;
    if (!this.maybeUpdateCoordinatorEpoch(partition, coordinatorEpoch)) return;
    // addLoadingPartition: nothing to do when already owned or loading.
    if (this.ownedPartitions.has(partition) || this.loadingPartitions.has(partition)) return;
    this.loadingPartitions.add(partition);
    const log = this.storage.log(partition);
    const bytes = log === null ? 0 : log.sizeInBytes;
    const context = this.host.context;
    if (context.tracing) context.trace("group-coordinator-loading", { partition, epoch: coordinatorEpoch, bytes });
    const timer = context.setTimer(Math.ceil((bytes * 1000) / OFFSETS_LOAD_BYTES_PER_MS), TAG_LOAD, { partition, coordinatorEpoch, onGroupLoaded, startUs: this.host.metrics.now() });
    this.loadTimers.set(partition, timer);
  }

  onTimer(tag: string, data: unknown): boolean {
    if (tag === TAG_LOAD) {
      const { partition, coordinatorEpoch, onGroupLoaded, startUs } = data as { partition: number; coordinatorEpoch: number; onGroupLoaded: (group: GroupMetadata) => void; startUs: number };
      this.loadTimers.delete(partition);
      this.loadGroupsAndOffsets(partition, coordinatorEpoch, onGroupLoaded, startUs);
      return true;
    }
    if (tag === TAG_TXN_COMPLETION) {
      const job = data as TxnCompletionJob;
      this.txnCompletionTimers.delete(job.timer);
      this.handleTxnCompletion(job.producerId, job.completedPartitions, job.isCommit);
      return true;
    }
    if (tag === TAG_EXPIRE_OFFSETS) {
      this.expiryTimer = null;
      this.cleanupGroupMetadata();
      this.scheduleExpiry(this.host.config["offsets.retention.check.interval.ms"]);
      return true;
    }
    return false;
  }

  private loadGroupsAndOffsets(partition: number, coordinatorEpoch: number, onGroupLoaded: (group: GroupMetadata) => void, startUs: number): void {
    if (!this.loadingPartitions.has(partition)) return;
    let groups = 0;
    let offsets = 0;
    if (this.epochForPartitionId.get(partition) === coordinatorEpoch) {
      ({ groups, offsets } = this.doLoadGroupsAndOffsets(partition, onGroupLoaded));
      this.host.metrics.groupCoordinator.partitionLoadTime.record(Math.floor(this.host.metrics.now() / 1000) - Math.floor(startUs / 1000), this.host.metrics.now());
    }
    // Kafka's finally clause: owned even when the log was gone or the read failed.
    this.ownedPartitions.add(partition);
    this.loadingPartitions.delete(partition);
    const context = this.host.context;
    if (context.tracing) context.trace("group-coordinator-loaded", { partition, groups, offsets });
  }

  /**
   * doLoadGroupsAndOffsets: replays the log to its end; the last record per key wins. A transactional batch's
   * offsets are kept pending per producer until that producer's control batch: COMMIT moves them into the loaded
   * offsets (unless a newer record is there), ABORT drops them; those with no marker yet stay pending in the
   * loaded group (openGroupsForProducer), for the marker still to come.
   */
  private doLoadGroupsAndOffsets(partition: number, onGroupLoaded: (group: GroupMetadata) => void): { groups: number; offsets: number } {
    const log = this.storage.log(partition);
    if (log === null) return { groups: 0, offsets: 0 };
    const tpKey = (topic: string, p: number) => `${topic}-${p}`;
    const loadedOffsets = new Map<string, Map<string, CommitRecordMetadataAndOffset>>();
    /** producerId → group → topic-partition → offset. */
    const pendingOffsets = new Map<number, Map<string, Map<string, CommitRecordMetadataAndOffset>>>();
    const loadedGroups = new Map<string, GroupMetadataValue>();
    const byGroup = <T>(map: Map<string, Map<string, T>>, group: string): Map<string, T> => {
      let inner = map.get(group);
      if (inner === undefined) map.set(group, (inner = new Map()));
      return inner;
    };
    let offset = log.logStartOffset;
    while (offset < log.logEndOffset) {
      const read = log.read(offset, OFFSETS_LOAD_BUFFER_BYTES, log.logEndOffset, true);
      if (read.error !== null || read.batches.length === 0) break;
      for (const batch of read.batches) {
        if (batch.isControl) {
          const producerOffsets = pendingOffsets.get(batch.producerId);
          if (batch.controlType === "COMMIT" && producerOffsets !== undefined) {
            for (const [group, offsets] of producerOffsets) {
              const loaded = byGroup(loadedOffsets, group);
              for (const [tp, commit] of offsets) {
                const current = loaded.get(tp);
                if (current === undefined || current.appendedBatchOffset! < commit.appendedBatchOffset!) loaded.set(tp, commit);
              }
            }
          }
          pendingOffsets.delete(batch.producerId);
          offset = batch.baseOffset + batch.lastOffsetDelta + 1;
          continue;
        }
        for (const record of batch.records) {
          const key = readMessageKey(record.key);
          if (key === null) continue;
          if (key.kind === "offset") {
            let target: Map<string, CommitRecordMetadataAndOffset>;
            if (batch.isTransactional) {
              let producerOffsets = pendingOffsets.get(batch.producerId);
              if (producerOffsets === undefined) pendingOffsets.set(batch.producerId, (producerOffsets = new Map()));
              target = byGroup(producerOffsets, key.group);
            } else {
              target = byGroup(loadedOffsets, key.group);
            }
            const tp = tpKey(key.topic, key.partition);
            if (record.value === null) target.delete(tp);
            else target.set(tp, { topic: key.topic, partition: key.partition, appendedBatchOffset: batch.baseOffset, offsetAndMetadata: readOffsetMessageValue(record.value) });
          } else if (record.value === null) {
            loadedGroups.delete(key.group);
          } else {
            loadedGroups.set(key.group, readGroupMessageValue(record.value));
          }
        }
        offset = batch.baseOffset + batch.lastOffsetDelta + 1;
      }
    }
    // Still pending (no marker yet): per group, per producer; the producers' groups are open.
    const pendingByGroup = new Map<string, Map<number, CommitRecordMetadataAndOffset[]>>();
    for (const [producerId, producerOffsets] of pendingOffsets) {
      for (const [group, offsets] of producerOffsets) {
        if (offsets.size === 0) continue;
        this.addProducerGroup(producerId, group);
        let groupPending = pendingByGroup.get(group);
        if (groupPending === undefined) pendingByGroup.set(group, (groupPending = new Map()));
        groupPending.set(producerId, [...offsets.values()]);
      }
    }
    let offsetCount = 0;
    const load = (group: GroupMetadata) => {
      const groupOffsets = [...(loadedOffsets.get(group.groupId)?.values() ?? [])];
      offsetCount += groupOffsets.length;
      group.initializeOffsets(groupOffsets, pendingByGroup.get(group.groupId));
      if (this.addGroup(group) === group) onGroupLoaded(group);
    };
    const emptyGroups = new Set<string>();
    for (const groupId of [...loadedOffsets.keys(), ...pendingByGroup.keys()]) if (!loadedGroups.has(groupId)) emptyGroups.add(groupId);
    for (const [groupId, value] of loadedGroups) load(this.groupFromRecord(groupId, value));
    for (const groupId of emptyGroups) load(this.newGroup(groupId));
    return { groups: loadedGroups.size + emptyGroups.size, offsets: offsetCount };
  }

  /** GroupMetadata.loadGroup from a GroupMetadataValue: Stable with its members, or Empty. */
  private groupFromRecord(groupId: string, value: GroupMetadataValue): GroupMetadata {
    const group = new GroupMetadata(groupId, value.members.length === 0 ? "Empty" : "Stable", value.currentStateTimestamp, this.onTransition);
    group.generationId = value.generation;
    group.protocolType = value.protocolType === "" ? null : value.protocolType;
    group.protocolName = value.protocol;
    for (const m of value.members) {
      const member = new MemberMetadata(m.memberId, m.groupInstanceId, m.clientId, m.rebalanceTimeout, m.sessionTimeout, value.protocolType, [{ name: value.protocol ?? "", metadata: m.subscription }]);
      member.assignment = m.assignment;
      group.add(member);
    }
    group.restoreLeader(value.leader);
    return group;
  }

  /** removeGroupsForPartition: the partition is no longer ours; its groups are unloaded (Dead). */
  removeGroupsForPartition(partition: number, coordinatorEpoch: number | null, onGroupUnloaded: (group: GroupMetadata) => void): void {
    if (!this.maybeUpdateCoordinatorEpoch(partition, coordinatorEpoch)) return;
    const pendingLoad = this.loadTimers.get(partition);
    if (pendingLoad !== undefined) this.host.context.cancelTimer(pendingLoad);
    this.loadTimers.delete(partition);
    const wasOwnedOrLoading = this.ownedPartitions.delete(partition) || this.loadingPartitions.delete(partition);
    this.loadingPartitions.delete(partition);
    const removed: string[] = [];
    for (const group of [...this.groups.values()]) {
      if (this.partitionFor(group.groupId) !== partition) continue;
      onGroupUnloaded(group);
      this.groups.delete(group.groupId);
      this.removeGroupFromAllProducers(group.groupId);
      removed.push(group.groupId);
    }
    const context = this.host.context;
    if (context.tracing && (wasOwnedOrLoading || removed.length > 0)) context.trace("group-coordinator-unloaded", { partition, groups: removed });
  }

  // ---- Offsets expiry ----

  private scheduleExpiry(delayMs: number): void {
    if (this.shuttingDown || this.expiryTimer !== null) return;
    this.expiryTimer = this.host.context.setTimer(ms(Math.max(0, delayMs)), TAG_EXPIRE_OFFSETS);
  }

  /**
   * cleanupGroupMetadata: expired offsets are removed and tombstoned; an Empty group left without offsets goes
   * Dead and its metadata is tombstoned too (written with acks 1, as Kafka appends them without waiting).
   */
  private cleanupGroupMetadata(): void {
    const nowMs = this.host.nowMs();
    const retentionMs = this.host.config["offsets.retention.minutes"] * 60_000;
    let offsetsRemoved = 0;
    for (const group of [...this.groups.values()]) {
      const partition = this.partitionFor(group.groupId);
      if (!this.ownedPartitions.has(partition)) continue;
      const removed = group.removeExpiredOffsets(nowMs, retentionMs);
      offsetsRemoved += removed.length;
      const tombstones: GroupRecord[] = removed.map((o) => ({ key: offsetCommitKey(group.groupId, o.topic, o.partition), value: null }));
      if (group.is("Empty") && !group.hasOffsets) {
        group.transitionTo("Dead", nowMs);
        this.groups.delete(group.groupId);
        tombstones.push({ key: groupMetadataKey(group.groupId), value: null });
      }
      if (tombstones.length > 0 && this.storage.log(partition) !== null) {
        this.storage.append(partition, tombstones, 1, this.host.config["offsets.commit.timeout.ms"], () => {});
      }
    }
    this.host.metrics.groupCoordinator.offsetExpired.record(offsetsRemoved, this.host.metrics.now());
  }
}

/** storeGroup's conversion of an append error (a timeout asks the members to rejoin). */
export function storeGroupError(error: KafkaError): KafkaError {
  return coordinatorAppendError(error, "REBALANCE_IN_PROGRESS", "UNKNOWN_SERVER_ERROR");
}

/** storeOffsets' conversion of an append error (maybeConvertOffsetCommitError: a timeout passes through). */
export function offsetCommitError(error: KafkaError): KafkaError {
  return coordinatorAppendError(error, "REQUEST_TIMED_OUT", "INVALID_COMMIT_OFFSET_SIZE");
}
