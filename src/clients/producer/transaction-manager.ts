/**
 * The idempotence part of Kafka's TransactionManager (with TxnPartitionMap / TxnPartitionEntry): the producer
 * id and epoch from InitProducerId, and per partition the next sequence, the last acknowledged sequence and
 * offset, and the batches in flight ordered by sequence. As in Kafka 3.x (KIP-360), an idempotent producer
 * recovers from OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID and unresolved sequences (batches that
 * expired after being sent) by bumping its epoch locally — no InitProducerId — and restarting the affected
 * partitions' sequences at 0; only an exhausted epoch asks for a new producer id. With a transactional.id the
 * producer id, epoch and their bumps come from the coordinator (transactional.ts) instead.
 */

import { NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE } from "../../broker/log/records.ts";
import type { ProducerBatch } from "./batch.ts";
import { isRetriable } from "./errors.ts";

/** Short.MAX_VALUE: an epoch that cannot be bumped any more. */
const MAX_EPOCH = 32_767;

export type IdempotenceState = "UNINITIALIZED" | "INITIALIZING" | "READY";

interface PartitionEntry {
  /** The producer id and epoch this partition's sequences belong to. */
  producerId: number;
  producerEpoch: number;
  nextSequence: number;
  lastAckedSequence: number;
  lastAckedOffset: number;
  /** Batches from first drain to completion, ordered by (producerId, producerEpoch, baseSequence). */
  inFlight: ProducerBatch[];
}

function compareBatches(a: ProducerBatch, b: ProducerBatch): number {
  return a.producerId - b.producerId || a.producerEpoch - b.producerEpoch || a.baseSequence - b.baseSequence;
}

/**
 * Inserts `batch` into `inFlight` (kept ordered by compareBatches) after every batch that does not compare
 * greater: where a push and a stable sort would put it. Sequences are assigned in increasing order, so this
 * is nearly always a push; the hot path then neither sorts nor allocates.
 */
function insertInOrder(inFlight: ProducerBatch[], batch: ProducerBatch): void {
  let low = 0;
  let high = inFlight.length;
  if (high === 0 || compareBatches(inFlight[high - 1], batch) <= 0) {
    inFlight.push(batch);
    return;
  }
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compareBatches(inFlight[mid], batch) <= 0) low = mid + 1;
    else high = mid;
  }
  inFlight.splice(low, 0, batch);
}

export class TransactionManager {
  producerId = NO_PRODUCER_ID;
  producerEpoch = NO_PRODUCER_EPOCH;
  state: IdempotenceState = "UNINITIALIZED";
  private epochBumpRequired = false;
  private readonly partitionsToRewriteSequences: string[] = [];
  private readonly partitions = new Map<string, PartitionEntry>();
  /**
   * The entry entry() returned last, and its partition: a drain asks about one partition several times in a row
   * (shouldStopDrain, then assignSequence), and a response completes its batches one partition at a time.
   * Forgotten when the entry leaves `partitions`.
   */
  private lastEntryTp: string | null = null;
  private lastEntry: PartitionEntry | null = null;
  /** Partitions whose sequence state is unknown after an expiry, with the sequence expected next. */
  private readonly unresolved = new Map<string, number>();

  /** transactional.id set: the transactional half (transactional.ts) owns InitProducerId and the epoch. */
  transactional = false;

  constructor(private readonly onEpochBump: (producerId: number, producerEpoch: number, partitions: string[]) => void = () => {}) {}

  /** setProducerIdAndEpoch (the transactional InitProducerIdHandler). */
  setProducerIdAndEpoch(producerId: number, producerEpoch: number): void {
    this.producerId = producerId;
    this.producerEpoch = producerEpoch;
  }

  /** resetSequenceNumbers: after a transactional epoch bump every partition starts again at sequence 0. */
  resetSequenceNumbers(): void {
    this.partitions.clear();
    this.forgetLastEntry();
    this.unresolved.clear();
  }

  get hasProducerId(): boolean {
    return this.producerId >= 0 && this.producerEpoch >= 0;
  }

  private entry(tp: string): PartitionEntry {
    if (tp === this.lastEntryTp) return this.lastEntry!;
    let entry = this.partitions.get(tp);
    if (entry === undefined) {
      entry = { producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH, nextSequence: 0, lastAckedSequence: -1, lastAckedOffset: -1, inFlight: [] };
      this.partitions.set(tp, entry);
    }
    this.lastEntryTp = tp;
    this.lastEntry = entry;
    return entry;
  }

  private forgetLastEntry(): void {
    this.lastEntryTp = null;
    this.lastEntry = null;
  }

  /** Sender.runOnce's first step: bump a requested epoch; true when an InitProducerId must be sent. */
  bumpIdempotentEpochAndResetIdIfNeeded(): boolean {
    if (this.transactional) return false;
    if (this.epochBumpRequired) this.bumpIdempotentProducerEpoch();
    if (this.state !== "INITIALIZING" && !this.hasProducerId) {
      this.state = "INITIALIZING";
      return true;
    }
    return false;
  }

  /** InitProducerIdHandler's success. */
  onProducerId(producerId: number, producerEpoch: number): void {
    this.producerId = producerId;
    this.producerEpoch = producerEpoch;
    this.state = "READY";
  }

  /** InitProducerIdHandler's retriable failure: ask again. */
  onProducerIdFailed(): void {
    this.state = "UNINITIALIZED";
  }

  private bumpIdempotentProducerEpoch(): void {
    if (this.producerEpoch >= MAX_EPOCH) {
      this.producerId = NO_PRODUCER_ID;
      this.producerEpoch = NO_PRODUCER_EPOCH;
      this.state = "UNINITIALIZED";
    } else {
      this.producerEpoch++;
    }
    const rewritten = this.partitionsToRewriteSequences.splice(0);
    for (const tp of rewritten) {
      this.startSequencesAtBeginning(tp);
      this.unresolved.delete(tp);
    }
    this.epochBumpRequired = false;
    this.onEpochBump(this.producerId, this.producerEpoch, rewritten);
  }

  /** TxnPartitionEntry.startSequencesAtBeginning: in-flight batches get the current epoch and sequences from 0. */
  private startSequencesAtBeginning(tp: string): void {
    const entry = this.entry(tp);
    let sequence = 0;
    for (const batch of entry.inFlight) {
      batch.resetProducerState(this.producerId, this.producerEpoch, sequence);
      sequence += batch.recordCount;
    }
    entry.inFlight.sort(compareBatches);
    entry.producerId = this.producerId;
    entry.producerEpoch = this.producerEpoch;
    entry.nextSequence = sequence;
    entry.lastAckedSequence = -1;
  }

  requestEpochBumpForPartition(tp: string): void {
    this.epochBumpRequired = true;
    if (!this.partitionsToRewriteSequences.includes(tp)) this.partitionsToRewriteSequences.push(tp);
  }

  sequenceNumber(tp: string): number {
    return this.entry(tp).nextSequence;
  }

  hasInflightBatches(tp: string): boolean {
    return this.entry(tp).inFlight.length > 0;
  }

  hasStaleProducerIdAndEpoch(tp: string): boolean {
    const entry = this.entry(tp);
    return entry.producerId !== this.producerId || entry.producerEpoch !== this.producerEpoch;
  }

  hasUnresolvedSequence(tp: string): boolean {
    return this.unresolved.has(tp);
  }

  /** A partition whose old-epoch batches have all completed starts the new epoch at sequence 0. */
  maybeUpdateProducerIdAndEpoch(tp: string): void {
    if (this.hasStaleProducerIdAndEpoch(tp) && !this.hasInflightBatches(tp)) this.startSequencesAtBeginning(tp);
  }

  /** RecordAccumulator.drain: stamps a batch's first send with the producer id, epoch and next sequence. */
  assignSequence(batch: ProducerBatch): void {
    const tp = batch.topicPartition;
    this.maybeUpdateProducerIdAndEpoch(tp);
    const entry = this.entry(tp);
    batch.setProducerState(this.producerId, this.producerEpoch, entry.nextSequence);
    if (this.transactional) batch.isTransactional = true;
    entry.nextSequence += batch.recordCount;
    insertInOrder(entry.inFlight, batch);
  }

  /** The base sequence of the partition's lowest batch in flight, or NO_SEQUENCE. */
  firstInFlightSequence(tp: string): number {
    const first = this.entry(tp).inFlight[0];
    return first === undefined ? NO_SEQUENCE : first.baseSequence;
  }

  removeInFlightBatch(batch: ProducerBatch): void {
    const tp = batch.topicPartition;
    const entry = tp === this.lastEntryTp ? this.lastEntry! : this.partitions.get(tp);
    if (entry === undefined) return;
    const inFlight = entry.inFlight;
    // Nearly always the lowest sequence: it leaves without a splice (which allocates).
    if (inFlight[0] === batch) inFlight.shift();
    else {
      const index = inFlight.indexOf(batch);
      if (index >= 0) inFlight.splice(index, 1);
    }
  }

  handleCompletedBatch(batch: ProducerBatch, baseOffset: number): void {
    const entry = this.entry(batch.topicPartition);
    if (batch.lastSequence > entry.lastAckedSequence) entry.lastAckedSequence = batch.lastSequence;
    if (baseOffset >= 0) entry.lastAckedOffset = Math.max(entry.lastAckedOffset, baseOffset + batch.recordCount - 1);
    this.removeInFlightBatch(batch);
  }

  handleFailedBatch(batch: ProducerBatch, error: string, adjustSequenceNumbers: boolean): void {
    this.removeInFlightBatch(batch);
    const tp = batch.topicPartition;
    if (error === "OUT_OF_ORDER_SEQUENCE_NUMBER") {
      // A gap in the log: bump the epoch so the partition restarts at sequence 0.
      this.requestEpochBumpForPartition(tp);
    } else if (error === "UNKNOWN_PRODUCER_ID") {
      // The broker has no state for this producer and accepts sequence 0: forget the partition's sequences.
      this.partitions.delete(tp);
      if (tp === this.lastEntryTp) this.forgetLastEntry();
      this.unresolved.delete(tp);
    } else if (adjustSequenceNumbers) {
      this.requestEpochBumpForPartition(tp);
    }
  }

  private isNextSequence(tp: string, sequence: number): boolean {
    return sequence - this.entry(tp).lastAckedSequence === 1;
  }

  /** TransactionManager.canRetry: which produce errors an idempotent producer retries. */
  canRetry(error: string, logStartOffset: number, batch: ProducerBatch): boolean {
    const tp = batch.topicPartition;
    if (error === "UNKNOWN_PRODUCER_ID") {
      if (logStartOffset === -1) return true;
      if (batch.sequenceReset) return true;
      // The log head was removed (retention) or the producer state was lost: either way, bump the epoch.
      this.requestEpochBumpForPartition(tp);
      return true;
    }
    if (error === "OUT_OF_ORDER_SEQUENCE_NUMBER") {
      const unresolved = this.unresolved.get(tp);
      if (unresolved === undefined && (batch.sequenceReset || !this.isNextSequence(tp, batch.baseSequence))) return true;
      // A real gap (or the batch right after an unresolved sequence): bump; otherwise wait for it to resolve.
      // As in Kafka, a batch that was written but is older than the broker's five cached batches also lands
      // here, and is written again under the new epoch (scenarios/idempotent-epoch-bump-duplicates.json).
      if (unresolved === undefined || batch.baseSequence === unresolved) this.requestEpochBumpForPartition(tp);
      return true;
    }
    return isRetriable(error);
  }

  /** A batch that had been retried expired: its partition's sequence state is unknown until in-flight batches settle. */
  markSequenceUnresolved(batch: ProducerBatch): void {
    const next = batch.lastSequence + 1;
    this.unresolved.set(batch.topicPartition, Math.max(this.unresolved.get(batch.topicPartition) ?? next, next));
  }

  /** Once an unresolved partition has nothing in flight: resolved if the last ack caught up, else bump the epoch. */
  maybeResolveSequences(): void {
    // Runs on every Sender step: nearly always nothing is unresolved, and then nothing is copied.
    if (this.unresolved.size === 0) return;
    for (const tp of [...this.unresolved.keys()]) {
      if (this.hasInflightBatches(tp)) continue;
      if (!this.isNextSequence(tp, this.sequenceNumber(tp))) this.requestEpochBumpForPartition(tp);
      this.unresolved.delete(tp);
    }
  }
}
