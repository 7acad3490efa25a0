/**
 * One producer's state on one partition (ProducerStateEntry, BatchMetadata) and the leader's checks of a new
 * batch against it (ProducerAppendInfo.checkProducerEpoch / checkSequence and ProducerStateEntry.findDuplicateBatch,
 * Kafka 3.x): the producer epoch and the metadata of its last five batches. Sequence numbers wrap at Int.MAX
 * (DefaultRecordBatch.incrementSequence). With transactions (ProducerAppendInfo.appendDataBatch /
 * appendEndTxnMarker): currentTxnFirstOffset (the first offset of the producer's open transaction here, -1 when
 * none) and the coordinatorEpoch of the last marker. Simplification: one batch per partition per Produce, so
 * ProducerAppendInfo's batch-by-batch "updatedEntry" collapses into the entry itself.
 */

import { assert } from "../../sim/assert.ts";
import type { AppendOrigin, LeaderAppendCheck } from "../log/producer-state.ts";
import { APPEND } from "../log/producer-state.ts";
import { lastOffset, markerCoordinatorEpoch, NO_PRODUCER_EPOCH, NO_SEQUENCE, type RecordBatch } from "../log/records.ts";
import type { VerificationStateEntry } from "./verification-state-entry.ts";

/** ProducerStateEntry.NumBatchesToRetain. */
export const NUM_BATCHES_TO_RETAIN = 5;
export const INT32_MAX = 2_147_483_647;

/** DefaultRecordBatch.incrementSequence: sequences wrap from Int.MAX to 0. */
export function incrementSequence(sequence: number, increment: number): number {
  if (sequence > INT32_MAX - increment) return increment - (INT32_MAX - sequence) - 1;
  return sequence + increment;
}

/** DefaultRecordBatch.decrementSequence. */
export function decrementSequence(sequence: number, decrement: number): number {
  if (sequence < decrement) return INT32_MAX - (decrement - sequence) + 1;
  return sequence - decrement;
}

/** RecordBatch.lastSequence: the sequence of the batch's last record (NO_SEQUENCE without one). */
export function lastSequence(batch: RecordBatch): number {
  if (batch.baseSequence === NO_SEQUENCE) return NO_SEQUENCE;
  return incrementSequence(batch.baseSequence, batch.lastOffsetDelta);
}

/** ProducerAppendInfo.inSequence: the next sequence follows the last one (or wraps to 0 after Int.MAX). */
export function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

/**
 * BatchMetadata: where one of the producer's batches landed. The entry recycles the oldest one's object for the
 * next batch (one per batch per replica otherwise): read its fields at once, keep no reference.
 */
export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
}

export class ProducerStateEntry {
  producerEpoch = NO_PRODUCER_EPOCH;
  /** Oldest first; at most NUM_BATCHES_TO_RETAIN, all of the current epoch. */
  readonly batchMetadata: BatchMetadata[] = [];
  /** The max timestamp of the last batch (what producer.id.expiration.ms would measure from). */
  lastTimestamp = -1;
  /** The last offset of the producer's last batch in the log, data or control (a truncation below it matters). */
  lastAppendedOffset = -1;
  /** The first offset of the producer's ongoing transaction on this partition; -1 when none. */
  currentTxnFirstOffset = -1;
  /** The coordinator epoch of the last transaction marker (-1: none yet): an older one is fenced. */
  coordinatorEpoch = -1;

  constructor(readonly producerId: number) {}

  get isEmpty(): boolean {
    return this.batchMetadata.length === 0;
  }

  get lastSeq(): number {
    return this.isEmpty ? NO_SEQUENCE : this.batchMetadata[this.batchMetadata.length - 1].lastSeq;
  }

  get lastDataOffset(): number {
    return this.isEmpty ? -1 : this.batchMetadata[this.batchMetadata.length - 1].lastOffset;
  }

  /** A new epoch forgets the previous epoch's batches. Returns whether the epoch changed. */
  maybeUpdateProducerEpoch(producerEpoch: number): boolean {
    if (this.producerEpoch === producerEpoch) return false;
    this.batchMetadata.length = 0;
    this.producerEpoch = producerEpoch;
    return true;
  }

  /** ProducerStateEntry.addBatch for an appended data batch (leader or follower: no checks). */
  addBatch(batch: RecordBatch): void {
    assert(batch.producerId === this.producerId, "a batch goes to its own producer's entry");
    this.maybeUpdateProducerEpoch(batch.producerEpoch);
    const retained = this.batchMetadata;
    if (retained.length === NUM_BATCHES_TO_RETAIN) {
      // The oldest entry is recycled as the newest, the others move down in place: shift() would left-trim the
      // entry's (long-lived) array and push() then grow a new one, per appended batch.
      const recycled = retained[0];
      for (let i = 1; i < retained.length; i++) retained[i - 1] = retained[i];
      retained[retained.length - 1] = recycled;
      recycled.firstSeq = batch.baseSequence;
      recycled.lastSeq = lastSequence(batch);
      recycled.firstOffset = batch.baseOffset;
      recycled.lastOffset = lastOffset(batch);
    } else {
      this.batchMetadata.push({ firstSeq: batch.baseSequence, lastSeq: lastSequence(batch), firstOffset: batch.baseOffset, lastOffset: lastOffset(batch) });
    }
    this.lastTimestamp = batch.maxTimestamp;
    assert(this.batchMetadata.length <= NUM_BATCHES_TO_RETAIN, "at most five batches per producer are retained");
  }

  /** findDuplicateBatch: a retained batch of the same epoch with exactly this sequence range. */
  findDuplicateBatch(batch: RecordBatch): BatchMetadata | null {
    if (batch.producerEpoch !== this.producerEpoch) return null;
    const lastSeq = lastSequence(batch);
    for (const metadata of this.batchMetadata) if (metadata.firstSeq === batch.baseSequence && metadata.lastSeq === lastSeq) return metadata;
    return null;
  }
}

/**
 * The leader's checks of a client's data batch, in Kafka's order: a duplicate of a retained batch first
 * (analyzeAndValidateProducerState), then the epoch (lower → INVALID_PRODUCER_EPOCH, the 2.7+ answer to
 * idempotent producers), then the sequence: a new epoch must start at 0, the same epoch must continue at
 * lastSeq + 1. A producer this partition knows nothing of (`entry` undefined: never wrote here, or its batches
 * are gone) is accepted at ANY sequence — Kafka 2.5+ (KIP-360) dropped the UNKNOWN_PRODUCER_ID error that
 * 0.11–2.4 brokers returned for an unknown producer with a non-zero first sequence.
 * With a `verification` entry (KIP-890 part 1, only while a transaction verification is pending here),
 * checkSequence first refuses a sequence above the lowest one seen while verifying (OUT_OF_ORDER_SEQUENCE_NUMBER).
 * A coordinator's batch (AppendOrigin.COORDINATOR: the group coordinator's transactional offset commit, always at
 * sequence 0) is checked for its epoch and transaction state only (maybeValidateDataBatch checks sequences of
 * CLIENT batches).
 */
export function checkLeaderAppend(entry: ProducerStateEntry | undefined, batch: RecordBatch, verification?: VerificationStateEntry, origin: AppendOrigin = "CLIENT"): LeaderAppendCheck {
  if (entry === undefined) return origin === "CLIENT" && aboveVerifiedSequence(verification, batch) ? OUT_OF_ORDER : APPEND;
  if (batch.isControl) return checkEndTxnMarker(entry, batch);
  if (origin === "COORDINATOR") return batch.producerEpoch < entry.producerEpoch ? { kind: "error", error: "INVALID_PRODUCER_EPOCH" } : checkTransactionalState(entry, batch);
  const duplicate = entry.findDuplicateBatch(batch);
  if (duplicate !== null) return { kind: "duplicate", firstOffset: duplicate.firstOffset, lastOffset: duplicate.lastOffset };
  if (batch.producerEpoch < entry.producerEpoch) return { kind: "error", error: "INVALID_PRODUCER_EPOCH" };
  if (aboveVerifiedSequence(verification, batch)) return OUT_OF_ORDER;
  if (batch.producerEpoch !== entry.producerEpoch) {
    if (batch.baseSequence !== 0 && entry.producerEpoch !== NO_PRODUCER_EPOCH) return { kind: "error", error: "OUT_OF_ORDER_SEQUENCE_NUMBER" };
    return APPEND;
  }
  // Same epoch. With no known epoch (only markers, or state lost) any sequence goes.
  if (entry.producerEpoch !== NO_PRODUCER_EPOCH && !inSequence(entry.lastSeq, batch.baseSequence)) return { kind: "error", error: "OUT_OF_ORDER_SEQUENCE_NUMBER" };
  return checkTransactionalState(entry, batch);
}

const OUT_OF_ORDER: LeaderAppendCheck = Object.freeze({ kind: "error", error: "OUT_OF_ORDER_SEQUENCE_NUMBER" });

/** ProducerAppendInfo.checkSequence's first test: appendFirstSeq > verificationStateEntry.lowestSequence. */
function aboveVerifiedSequence(verification: VerificationStateEntry | undefined, batch: RecordBatch): boolean {
  return verification !== undefined && !batch.isControl && batch.baseSequence > verification.lowestSequence;
}

/** appendDataBatch: a non-transactional write while the producer's transaction is open is INVALID_TXN_STATE. */
function checkTransactionalState(entry: ProducerStateEntry, batch: RecordBatch): LeaderAppendCheck {
  if (entry.currentTxnFirstOffset >= 0 && !batch.isTransactional) return { kind: "error", error: "INVALID_TXN_STATE" };
  return APPEND;
}

/**
 * ProducerAppendInfo.appendEndTxnMarker's checks for a marker the coordinator writes (AppendOrigin.COORDINATOR):
 * checkProducerEpoch (a lower epoch → INVALID_PRODUCER_EPOCH), then checkCoordinatorEpoch (a marker from an older
 * coordinator epoch than the last marker's → TRANSACTION_COORDINATOR_FENCED). Followers copy without checks.
 */
export function checkEndTxnMarker(entry: ProducerStateEntry | undefined, batch: RecordBatch): LeaderAppendCheck {
  assert(batch.isControl, "only a control batch is a transaction marker");
  if (entry === undefined) return APPEND;
  if (batch.producerEpoch < entry.producerEpoch) return { kind: "error", error: "INVALID_PRODUCER_EPOCH" };
  if (entry.coordinatorEpoch > markerCoordinatorEpoch(batch)) return { kind: "error", error: "TRANSACTION_COORDINATOR_FENCED" };
  return APPEND;
}
