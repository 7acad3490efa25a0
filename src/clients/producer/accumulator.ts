/**
 * Kafka's RecordAccumulator: per-partition deques of batches. send() appends to the last batch of the record's
 * partition or opens a new one; a partition is sendable when its first batch is full (or not alone), has
 * waited linger.ms, or a flush/close is under way — and is not backing off a retry (retry.backoff.ms) — and
 * its leader's node is then ready. drain() takes, per ready node, the first batch of every partition the node
 * leads (one per partition, up to max.request.size), stamping idempotent batches with producer id, epoch and
 * sequence on their first drain and holding back batches that would break sequence order. Retried batches
 * go back to the front of their deque (in sequence order with idempotence); batches older than
 * delivery.timeout.ms expire from the front. Its BufferPool is a byte count: a new batch takes max(batch.size,
 * the record's upper-bound size) out of buffer.memory and gives it back when it completes (deallocate); an
 * append that would need more than is free creates nothing and returns BUFFER_FULL, and the record then waits
 * for that many bytes (the producer blocks it, as BufferPool.allocate blocks its caller, until endMemoryWait);
 * while it waits every batch is sendable (ready's `exhausted`). Simplifications: no free list of pooled batch.size buffers (it changes no
 * byte count), no adaptive partitioning, no per-leader backoff skip (KIP-951), a constant retry backoff.
 */

import { BATCH_HEADER_BYTES } from "../../broker/log/records.ts";
import { assert } from "../../sim/assert.ts";
import { ms, type Micros } from "../../sim/time.ts";
import type { StickyPartitioner } from "../partitioner.ts";
import { ProducerBatch, type PendingRecord } from "./batch.ts";
import type { ProducerConfig } from "./config.ts";
import type { ProducerMetadata } from "./metadata.ts";
import type { TransactionalState } from "./transactional.ts";
import type { TransactionManager } from "./transaction-manager.ts";
import { ReusedList } from "./reused-list.ts";
import { DequeRoutes } from "./deque-routes.ts";

export interface ReadyCheckResult {
  /** Leader hosts with at least one sendable partition, in the order found. */
  readonly readyHosts: ReusedList<string>;
  /** The earliest future time a partition that is not sendable yet will be (linger or backoff), or +Infinity. */
  readonly nextReadyCheckUs: Micros;
  readonly unknownLeaderTopics: ReusedList<string>;
}

/** drain's answer: hosts[i] gets batches[i] (never empty). */
export interface DrainResult {
  readonly hosts: ReusedList<string>;
  readonly batches: ReusedList<ProducerBatch[]>;
}

const NONE_EXPIRED: readonly ProducerBatch[] = Object.freeze([]);
/** A keyed record's append needs no available partitions (only the sticky partitioner reads them). */
const NO_PARTITIONS: readonly number[] = Object.freeze([]);

/** drainOneNode packs (distance, deque index) into one sortable number: deque indexes stay below this. */
const DEQUE_INDEX_SPAN = 1 << 20;

/** append's answer when a new batch would exceed buffer.memory: nothing was appended. */
export const BUFFER_FULL = -1;

export class RecordAccumulator {
  private readonly deques = new Map<string, ProducerBatch[]>();
  /** The deques again, in creation order, with their keys: the hot loops walk these without iterator allocation. */
  private readonly dequeList: ProducerBatch[][] = [];
  private readonly dequeKeys: string[] = [];
  /** Per topic, per partition number, the deque's index in dequeList: append finds it without building a key. */
  private readonly dequeIndexes = new Map<string, number[]>();
  /**
   * Indexes (ascending, so scans keep creation order) of the deques that may hold batches: a superset of the
   * non-empty ones, pruned by ready(). A producer writing to thousands of partitions then scans only the few
   * with queued batches on every wake-up, not all of them.
   */
  private readonly active = new ReusedList<number>();
  private readonly isActive: boolean[] = [];
  /** Per deque, its leader host and position in the host's partition list, kept until the metadata changes. */
  private readonly routes: DequeRoutes;
  private readonly lingerUs: Micros;
  private readonly retryBackoffUs: Micros;
  private readonly deliveryTimeoutUs: Micros;
  private readonly readyResult: { readyHosts: ReusedList<string>; nextReadyCheckUs: Micros; unknownLeaderTopics: ReusedList<string> } = {
    readyHosts: new ReusedList(),
    nextReadyCheckUs: Number.POSITIVE_INFINITY,
    unknownLeaderTopics: new ReusedList(),
  };
  /**
   * ready()'s last answer stands while nothing it reads has changed: the same instant, no deque, mute, flush,
   * close or memory-wait change since (readyStale), the same metadata version and transaction completion. The
   * producer asks twice per wake-up with nothing in between (sendProducerData, then the Sender's next wake-up).
   */
  private readyStale = true;
  private readyAtUs = Number.NaN;
  private readyMetadataVersion = -1;
  private readyCompleting = false;
  /**
   * The earliest creation time among the queued batches, exact unless earliestQueuedStale (a batch that may have
   * had it left a deque), and never after it: nextExpiryUs, asked on every wake-up, then scans no deque, nor
   * expiredBatches while delivery.timeout.ms has not passed since.
   */
  private earliestQueuedUs = Number.POSITIVE_INFINITY;
  private earliestQueuedStale = false;
  private readonly drainResult: DrainResult = { hosts: new ReusedList(), batches: new ReusedList() };
  /**
   * RecordAccumulator.incomplete: the batches created and not yet deallocated, oldest first, as a list through
   * the batches' own fields. Not a Set (issue 18): a long-lived Set that keeps taking and dropping entries
   * rehashes into new tables in V8's old generation, and each dead table points at the batches it held until the
   * next full GC, so every batch — with its records and callbacks — was copied by the scavenges although it lives
   * tens of simulated milliseconds (docs/performance.md, "What survived the scavenges"; the same for NetworkClient's requests).
   */
  private incompleteHead: ProducerBatch | null = null;
  private incompleteTail: ProducerBatch | null = null;
  private readonly muted = new Set<string>();
  private readonly drainIndex = new Map<string, number>();
  /** drainOneNode's reused candidate list (distance · DEQUE_INDEX_SPAN + deque index, ascending). */
  private readonly drainCandidates = new ReusedList<number>();
  private closed = false;
  private flushing = false;
  /** buffer.memory, and the bytes the incomplete batches hold of it (BufferPool: totalMemory − availableMemory). */
  private readonly totalMemory: number;
  private usedMemory = 0;
  /**
   * The bytes the first record waiting for memory waits for (its new batch's size, which the last BUFFER_FULL
   * append asked for: the size BufferPool.allocate waits for); 0 when none waits. While one waits
   * (BufferPool.queued() > 0) every batch is sendable, to free memory soonest.
   */
  private waitBytes = 0;

  /** A transactional producer's TransactionManager half: drains only partitions added to the transaction. */
  transactional: TransactionalState | null = null;

  constructor(
    private readonly config: ProducerConfig,
    private readonly metadata: ProducerMetadata,
    private readonly transactionManager: TransactionManager | null,
    private readonly partitioner: StickyPartitioner,
  ) {
    this.lingerUs = ms(config["linger.ms"]);
    this.retryBackoffUs = ms(config["retry.backoff.ms"]);
    this.deliveryTimeoutUs = ms(config["delivery.timeout.ms"]);
    this.totalMemory = config["buffer.memory"];
    this.routes = new DequeRoutes(metadata);
  }

  /** BufferPool.availableMemory: buffer.memory less the bytes of incomplete batches. */
  get availableMemory(): number {
    return this.totalMemory - this.usedMemory;
  }

  /** The bytes the record waiting for memory waits for, 0 when none waits. */
  get memoryWaitBytes(): number {
    return this.waitBytes;
  }

  /** Completed batches freed what the waiting record waits for: it can be appended now. */
  get memoryFreed(): boolean {
    return this.waitBytes > 0 && this.waitBytes <= this.availableMemory;
  }

  /** No record waits for memory any more (appended, failed, or waiting for metadata): true when one did. */
  endMemoryWait(): boolean {
    const waited = this.waitBytes > 0;
    if (waited) this.readyStale = true;
    this.waitBytes = 0;
    return waited;
  }

  /** The index in dequeList of the partition's deque, created (last in creation order) when new. */
  private dequeIndexFor(topic: string, partition: number): number {
    let indexes = this.dequeIndexes.get(topic);
    if (indexes === undefined) {
      indexes = [];
      this.dequeIndexes.set(topic, indexes);
    }
    let index = indexes[partition];
    if (index === undefined) {
      const tp = `${topic}-${partition}`;
      index = this.dequeList.length;
      assert(index < DEQUE_INDEX_SPAN, "a producer has fewer than 2^20 partition deques");
      indexes[partition] = index;
      const deque: ProducerBatch[] = [];
      this.deques.set(tp, deque);
      this.dequeList.push(deque);
      this.dequeKeys.push(tp);
      this.isActive.push(false);
      this.routes.addDeque();
    }
    return index;
  }

  /** A batch went into deque `index`: scans must look at it. */
  private activate(index: number): void {
    if (this.isActive[index]) return;
    this.isActive[index] = true;
    // Insertion into the ascending list; nearly always at its end.
    const active = this.active;
    let at = active.size;
    active.push(index);
    while (at > 0 && active.get(at - 1) > index) {
      active.set(at, active.get(at - 1));
      at--;
    }
    active.set(at, index);
  }

  /** Drops empty deques from the active list. */
  private pruneActive(): void {
    const active = this.active;
    let kept = 0;
    for (let i = 0; i < active.size; i++) {
      const index = active.get(i);
      if (this.dequeList[index].length > 0) active.set(kept++, index);
      else this.isActive[index] = false;
    }
    active.truncate(kept);
  }

  /**
   * Appends a record; `partition` null = no key (sticky). The topic's partition count must be known.
   * `sizeUpperBound` is the record's AbstractRecords.estimateSizeInBytesUpperBound, at most buffer.memory.
   * Returns the partition, or BUFFER_FULL when a new batch would not fit in buffer.memory: nothing appended, and
   * the record now waits for the new batch's bytes (memoryWaitBytes).
   */
  append(topic: string, partition: number | null, record: PendingRecord, sizeUpperBound: number, nowUs: Micros): number {
    // A batch grows (it may fill), a new one is queued, or a record starts waiting for memory.
    this.readyStale = true;
    const numPartitions = this.metadata.partitionCount(topic) ?? 0;
    const sticky = partition === null;
    const available = sticky ? this.metadata.availablePartitions(topic) : NO_PARTITIONS;
    const effective = partition ?? this.partitioner.partition(topic, numPartitions, available);
    const dequeIndex = this.dequeIndexFor(topic, effective);
    const deque = this.dequeList[dequeIndex];
    const last = deque.at(-1);
    let appended = last?.tryAppend(record) ?? null;
    if (appended === null) {
      // RecordAccumulator.append: free.allocate(max(batch.size, upper bound)) before appendNewBatch.
      const size = Math.max(this.config["batch.size"], sizeUpperBound);
      if (this.usedMemory + size > this.totalMemory) {
        this.waitBytes = size;
        return BUFFER_FULL;
      }
      this.usedMemory += size;
      // The deque's key string, not a new one per batch: the producer's per-partition maps look batches up by it.
      const batch = new ProducerBatch(topic, effective, nowUs, this.config["batch.size"], size, this.dequeKeys[dequeIndex]);
      appended = BATCH_HEADER_BYTES + batch.tryAppend(record)!;
      deque.push(batch);
      this.activate(dequeIndex);
      if (nowUs < this.earliestQueuedUs) this.earliestQueuedUs = nowUs;
      batch.incomplete = true;
      batch.incompletePrev = this.incompleteTail;
      if (this.incompleteTail === null) this.incompleteHead = batch;
      else this.incompleteTail.incompleteNext = batch;
      this.incompleteTail = batch;
    }
    if (sticky) this.partitioner.onAppend(topic, appended, deque.at(-1)!.isFull, numPartitions, available);
    return effective;
  }

  private backingOff(batch: ProducerBatch, nowUs: Micros): boolean {
    return batch.attempts > 0 && nowUs - batch.lastAttemptUs < this.retryBackoffUs;
  }

  /** RecordAccumulator.ready. The result and its arrays are reused: valid until the next call. */
  ready(nowUs: Micros): ReadyCheckResult {
    const completing = this.transactional !== null && this.transactional.machine.isCompleting;
    if (!this.readyStale && nowUs === this.readyAtUs && this.metadata.version === this.readyMetadataVersion && completing === this.readyCompleting) {
      return this.readyResult;
    }
    this.readyStale = false;
    this.readyAtUs = nowUs;
    this.readyMetadataVersion = this.metadata.version;
    this.readyCompleting = completing;
    const readyHosts = this.readyResult.readyHosts;
    const unknownLeaderTopics = this.readyResult.unknownLeaderTopics;
    readyHosts.clear();
    unknownLeaderTopics.clear();
    let nextReadyCheckUs = Number.POSITIVE_INFINITY;
    this.pruneActive();
    const deques = this.dequeList;
    const active = this.active;
    for (let k = 0; k < active.size; k++) {
      const i = active.get(k);
      const first = deques[i][0];
      if (first === undefined) continue;
      const leader = this.routes.leaderOf(i, first.topic, first.partition);
      if (leader === null) {
        if (!unknownLeaderTopics.includes(first.topic)) unknownLeaderTopics.push(first.topic);
        continue;
      }
      if (readyHosts.includes(leader) || (this.muted.size > 0 && this.muted.has(this.dequeKeys[i]))) continue;
      const waitUntilUs = this.sendableAtUs(deques[i], first, nowUs);
      if (waitUntilUs <= nowUs) readyHosts.push(leader);
      else nextReadyCheckUs = Math.min(nextReadyCheckUs, waitUntilUs);
    }
    this.readyResult.nextReadyCheckUs = nextReadyCheckUs;
    return this.readyResult;
  }

  /** When the deque's first batch becomes sendable: now or earlier when it is already (full, lingered, flushing). */
  private sendableAtUs(deque: ProducerBatch[], first: ProducerBatch, nowUs: Micros): Micros {
    const backingOff = this.backingOff(first, nowUs);
    const timeToWaitUs = backingOff ? this.retryBackoffUs : this.lingerUs;
    const full = deque.length > 1 || first.isFull;
    const expired = nowUs - first.lastAttemptUs >= timeToWaitUs;
    const sendable = full || expired || this.waitBytes > 0 || this.closed || this.flushing || (this.transactional !== null && this.transactional.machine.isCompleting);
    return sendable && !backingOff ? nowUs : first.lastAttemptUs + timeToWaitUs;
  }

  /** RecordAccumulator.shouldStopDrainBatchesForPartition (idempotence: keep sequences in order). */
  private shouldStopDrain(first: ProducerBatch, tp: string): boolean {
    const tm = this.transactionManager;
    if (tm === null) return false;
    if (this.transactional !== null && !this.transactional.isSendToPartitionAllowed(tp)) return true;
    if (!tm.hasProducerId) return true;
    if (!first.hasSequence) {
      // New batches wait while old-epoch batches are in flight or the partition's sequence state is unknown.
      if (tm.hasInflightBatches(tp) && tm.hasStaleProducerIdAndEpoch(tp)) return true;
      if (tm.hasUnresolvedSequence(tp)) return true;
    }
    // A retried batch goes only when it is the lowest sequence in flight: in-flight drops to one while retrying.
    const firstInFlight = tm.firstInFlightSequence(tp);
    return firstInFlight !== -1 && first.hasSequence && first.baseSequence !== firstInFlight;
  }

  /**
   * RecordAccumulator.drain: per ready host, at most one batch per partition it leads. The result is reused
   * (valid until the next call): the hosts that got batches, and each one's batches in a new array — that array
   * becomes the host's Produce request's.
   */
  drain(readyHosts: ReusedList<string>, nowUs: Micros): DrainResult {
    const result = this.drainResult;
    result.hosts.clear();
    result.batches.clear();
    for (let i = 0; i < readyHosts.size; i++) {
      const host = readyHosts.get(i);
      const batches = this.drainOneNode(host, nowUs);
      if (batches === null) continue;
      result.hosts.push(host);
      result.batches.push(batches);
    }
    return result;
  }

  /**
   * The batches drained for `host`, or null when none (no array is allocated for a host with nothing to send).
   * Kafka walks every partition the node leads from its drain index; a partition without a queued batch is
   * skipped there, so only the active deques of partitions this host leads are visited here, in the same
   * round-robin order from the same start. The drain index becomes the partition where the walk stopped, or the
   * one before the start after a full round (the last one Kafka's walk looked at).
   */
  private drainOneNode(host: string, nowUs: Micros): ProducerBatch[] | null {
    const parts = this.metadata.partitionsForHost(host);
    const n = parts.length;
    if (n === 0) return null;
    const start = (this.drainIndex.get(host) ?? 0) % n;
    // The candidates: active deques with a queued batch whose partition the host leads, by distance from start.
    const candidates = this.drainCandidates;
    candidates.clear();
    const active = this.active;
    for (let k = 0; k < active.size; k++) {
      const dequeIndex = active.get(k);
      const first = this.dequeList[dequeIndex][0];
      if (first === undefined) continue;
      // partitionsForHost lists exactly the partitions whose leaderHost is the host: others are not candidates.
      if (this.routes.leaderOf(dequeIndex, first.topic, first.partition) !== host) continue;
      const position = this.routes.positionIn(dequeIndex, this.dequeKeys[dequeIndex], host, parts);
      if (position < 0) continue;
      // Sort key: distance · 2^20 + deque index (exact in a double; insertion sort: a handful of candidates).
      const distance = (position - start + n) % n;
      let at = candidates.size;
      candidates.push(0);
      const key = distance * DEQUE_INDEX_SPAN + dequeIndex;
      while (at > 0 && candidates.get(at - 1) > key) {
        candidates.set(at, candidates.get(at - 1));
        at--;
      }
      candidates.set(at, key);
    }
    let ready: ProducerBatch[] | null = null;
    let size = 0;
    // The partition looked at last: drainIndex, so the next drain starts there (Kafka's nodesDrainIndex).
    let last = (start + n - 1) % n;
    for (let c = 0; c < candidates.size; c++) {
      const key = candidates.get(c);
      const dequeIndex = key % DEQUE_INDEX_SPAN;
      const tp = this.dequeKeys[dequeIndex];
      if (this.muted.size > 0 && this.muted.has(tp)) continue;
      const deque = this.dequeList[dequeIndex];
      const first = deque[0];
      if (first === undefined || this.backingOff(first, nowUs)) continue;
      const position = (start + (key - dequeIndex) / DEQUE_INDEX_SPAN) % n;
      if (size + first.sizeBytes > this.config["max.request.size"] && ready !== null) {
        last = position;
        break;
      }
      if (this.shouldStopDrain(first, tp)) {
        last = position;
        break;
      }
      deque.shift();
      this.readyStale = true;
      if (first.createdUs === this.earliestQueuedUs) this.earliestQueuedStale = true;
      if (this.transactionManager !== null && !first.hasSequence) this.transactionManager.assignSequence(first);
      first.close();
      size += first.sizeBytes;
      // An exact-size array for the usual single batch ([] then push would reserve 16 slots).
      if (ready === null) ready = [first];
      else ready.push(first);
    }
    this.drainIndex.set(host, last);
    return ready;
  }

  /** RecordAccumulator.reenqueue: back to the front of its deque (after lower sequences, with idempotence). */
  reenqueue(batch: ProducerBatch, nowUs: Micros): void {
    batch.reenqueued(nowUs);
    const dequeIndex = this.dequeIndexFor(batch.topic, batch.partition);
    const deque = this.dequeList[dequeIndex];
    let at = 0;
    if (this.transactionManager !== null) {
      while (at < deque.length && deque[at].hasSequence && deque[at].baseSequence < batch.baseSequence) at++;
    }
    deque.splice(at, 0, batch);
    this.activate(dequeIndex);
    this.readyStale = true;
    if (batch.createdUs < this.earliestQueuedUs) this.earliestQueuedUs = batch.createdUs;
  }

  /**
   * RecordAccumulator.expiredBatches: batches at the front of their deque past delivery.timeout.ms. Nearly always
   * none: then the shared empty array, nothing allocated.
   */
  expiredBatches(nowUs: Micros): readonly ProducerBatch[] {
    const timeoutUs = this.deliveryTimeoutUs;
    // No queued batch is older than the earliest creation time (stale or not): none can have expired yet.
    if (timeoutUs > nowUs - this.earliestQueuedUs) return NONE_EXPIRED;
    let expired: ProducerBatch[] | null = null;
    const deques = this.dequeList;
    const active = this.active;
    for (let k = 0; k < active.size; k++) {
      const deque = deques[active.get(k)];
      while (deque.length > 0 && deque[0].hasReachedDeliveryTimeout(timeoutUs, nowUs)) (expired ??= []).push(deque.shift()!);
    }
    if (expired === null) return NONE_EXPIRED;
    this.readyStale = true;
    this.earliestQueuedStale = true;
    return expired;
  }

  /** The earliest delivery-timeout expiry among queued batches, or +Infinity. */
  nextExpiryUs(): Micros {
    if (this.earliestQueuedStale) {
      let earliest = Number.POSITIVE_INFINITY;
      const deques = this.dequeList;
      const active = this.active;
      for (let k = 0; k < active.size; k++) {
        const deque = deques[active.get(k)];
        for (let j = 0; j < deque.length; j++) if (deque[j].createdUs < earliest) earliest = deque[j].createdUs;
      }
      this.earliestQueuedUs = earliest;
      this.earliestQueuedStale = false;
    }
    return this.earliestQueuedUs + this.deliveryTimeoutUs;
  }

  /**
   * RecordAccumulator.abortUndrainedBatches (a transactional producer aborting, or in an abortable error): the
   * queued batches never drained (no sequence yet) leave their deques; the caller fails and deallocates them.
   * Drained batches stay: their Produce may still land, and EndTxn waits for them.
   */
  takeUndrainedBatches(): ProducerBatch[] {
    const taken: ProducerBatch[] = [];
    for (let batch = this.incompleteHead; batch !== null; batch = batch.incompleteNext) {
      if (batch.hasSequence) continue;
      const deque = this.deques.get(batch.topicPartition);
      const at = deque === undefined ? -1 : deque.indexOf(batch);
      if (at < 0) continue;
      deque!.splice(at, 1);
      taken.push(batch);
    }
    if (taken.length > 0) this.readyStale = this.earliestQueuedStale = true;
    return taken;
  }

  /** RecordAccumulator.abortBatches (a fatal error): every queued batch leaves its deque; in-flight ones are the Sender's. */
  takeQueuedBatches(): ProducerBatch[] {
    const taken: ProducerBatch[] = [];
    const deques = this.dequeList;
    for (let k = 0; k < deques.length; k++) taken.push(...deques[k].splice(0));
    if (taken.length > 0) this.readyStale = this.earliestQueuedStale = true;
    return taken;
  }

  /** RecordAccumulator.deallocate: the batch completed (successfully or not) and gives its memory back, once. */
  deallocate(batch: ProducerBatch): void {
    if (!batch.incomplete) return;
    batch.incomplete = false;
    const prev = batch.incompletePrev;
    const next = batch.incompleteNext;
    if (prev === null) this.incompleteHead = next;
    else prev.incompleteNext = next;
    if (next === null) this.incompleteTail = prev;
    else next.incompletePrev = prev;
    batch.incompletePrev = null;
    batch.incompleteNext = null;
    this.usedMemory -= batch.initialCapacity;
    assert(this.usedMemory >= 0, "the accumulator frees no more memory than its batches took");
  }

  mutePartition(tp: string): void {
    this.muted.add(tp);
    this.readyStale = true;
  }

  unmutePartition(tp: string): void {
    if (this.muted.delete(tp)) this.readyStale = true;
  }

  /** Batches not completed yet (queued or in flight). */
  get hasIncomplete(): boolean {
    return this.incompleteHead !== null;
  }

  /** Flush: every batch is sendable now, until the incomplete batches of this moment are done (simplified: all). */
  beginFlush(): void {
    this.flushing = true;
    this.readyStale = true;
  }

  maybeEndFlush(): void {
    if (this.incompleteHead !== null || !this.flushing) return;
    this.flushing = false;
    this.readyStale = true;
  }

  /** No more appends; every batch is sendable at once. */
  close(): void {
    this.closed = true;
    this.readyStale = true;
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
