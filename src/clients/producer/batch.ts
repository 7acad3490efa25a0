/**
 * A batch of records being built, sent and retried for one partition (Kafka's ProducerBatch with its
 * MemoryRecordsBuilder). Sizes follow the v2 record format (records.ts): a record fits while the batch stays
 * within batch.size, and the first record always fits. The producer id, epoch and base sequence are stamped
 * when the batch is first drained (idempotence) and rewritten only by an epoch bump. Simplification: no
 * compression, no splitting on MESSAGE_TOO_LARGE, no headers.
 */

import {
  BATCH_HEADER_BYTES,
  keyValueSizeBytes,
  makeBatch,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  nullableLength,
  recordSizeFromLengths,
  varintSize,
  type RecordBatch,
} from "../../broker/log/records.ts";
import type { Micros } from "../../sim/time.ts";
import type { PartitionInFlight } from "./in-flight-batches.ts";

/** DefaultRecord.MAX_RECORD_OVERHEAD: attributes, and timestamp and offset deltas and length at their widest. */
const MAX_RECORD_OVERHEAD = 21;

/**
 * AbstractRecords.estimateSizeInBytesUpperBound for a v2 batch of this one record, uncompressed and without
 * headers (DefaultRecordBatch.estimateBatchSizeUpperBound), from its key's and value's lengths (nullableLength):
 * what KafkaProducer checks against max.request.size and buffer.memory, and what a new batch for it reserves
 * at least.
 */
export function sizeUpperBoundFromLengths(keyLength: number, valueLength: number): number {
  // DefaultRecord.recordSizeUpperBound: MAX_RECORD_OVERHEAD + sizeOf(key, value, headers = none).
  return BATCH_HEADER_BYTES + MAX_RECORD_OVERHEAD + keyValueSizeBytes(keyLength, valueLength) + varintSize(0);
}

/** estimateSizeInBytesUpperBound of a key and a value (see sizeUpperBoundFromLengths). */
export function estimateSizeInBytesUpperBound(key: string | null, value: string | null): number {
  return sizeUpperBoundFromLengths(nullableLength(key), nullableLength(value));
}

/** The outcome a send callback gets. `attempts`: how many Produce requests carried the record. */
export type SendResult =
  | { readonly partition: number; readonly offset: number; readonly attempts: number }
  | { readonly partition: number; readonly error: string; readonly maybeAppended: boolean; readonly attempts: number };

export type SendCallback = (result: SendResult) => void;

export interface PendingRecord {
  readonly key: string | null;
  readonly value: string | null;
  /** The key's and value's UTF-8 lengths, -1 for null (nullableLength): measured once, in send(). */
  readonly keyLength: number;
  readonly valueLength: number;
  /** CreateTime in ms. */
  readonly timestamp: number;
  readonly callback: SendCallback;
}

export class ProducerBatch {
  /** Replaced by an exact-size array on the first append (most batches hold one record; [] then push reserves 16 slots). */
  private records: PendingRecord[] = [];
  sizeBytes = BATCH_HEADER_BYTES;
  /** Closed for appends: a record did not fit (ProducerBatch.closeForRecordAppends). */
  private closed = false;
  /** Retries so far (ProducerBatch.attempts: incremented on re-enqueue). */
  attempts = 0;
  /** Re-enqueued at least once (ProducerBatch.inRetry). */
  retry = false;
  /** Produce requests that carried this batch. */
  sends = 0;
  lastAttemptUs: Micros;
  producerId = NO_PRODUCER_ID;
  producerEpoch = NO_PRODUCER_EPOCH;
  baseSequence = NO_SEQUENCE;
  /** The sequence was rewritten by an epoch bump (ProducerBatch.sequenceHasBeenReset). */
  sequenceReset = false;
  /** Some attempt's outcome is unknown: the records may be in the log even if the batch finally fails. */
  maybeAppended = false;
  done = false;
  /** Part of a transaction (RecordBatch isTransactional), set when a transactional producer drains it. */
  isTransactional = false;
  /** In its accumulator's list of incomplete batches (RecordAccumulator.incomplete), until deallocated. */
  incomplete = false;
  /** Its neighbours in that list, in the order created (null at the ends, and once deallocated). */
  incompletePrev: ProducerBatch | null = null;
  incompleteNext: ProducerBatch | null = null;
  /** Its partition's entry in the Sender's InFlightBatches, kept from its first add (entries are never dropped). */
  inFlightPartition: PartitionInFlight | null = null;
  /** "topic-partition": the key of the producer's per-partition maps, built once (the hot path looks it up often). */
  readonly topicPartition: string;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly createdUs: Micros,
    private readonly batchSize: number,
    /** The bytes taken from buffer.memory for this batch (ProducerBatch.initialCapacity), freed on completion. */
    readonly initialCapacity: number,
    /** The accumulator's key string of the partition's deque, when it has one (its hash already computed). */
    topicPartition?: string,
  ) {
    this.lastAttemptUs = createdUs;
    this.topicPartition = topicPartition ?? `${topic}-${partition}`;
  }

  get recordCount(): number {
    return this.records.length;
  }

  get hasSequence(): boolean {
    return this.baseSequence !== NO_SEQUENCE;
  }

  get lastSequence(): number {
    return this.baseSequence + this.recordCount - 1;
  }

  /** MemoryRecordsBuilder.isFull: closed, or no byte left under batch.size. */
  get isFull(): boolean {
    return this.closed || this.sizeBytes >= this.batchSize;
  }

  /** The size a record adds at the next offset (DefaultRecord.sizeInBytes). */
  private recordSize(record: PendingRecord): number {
    const first = this.records.length > 0 ? this.records[0].timestamp : record.timestamp;
    return recordSizeFromLengths(this.records.length, record.timestamp - first, record.keyLength, record.valueLength, 0, 0);
  }

  /** ProducerBatch.tryAppend: the appended bytes, or null (and the batch closes) when the record does not fit. */
  tryAppend(record: PendingRecord): number | null {
    if (this.closed) return null;
    const size = this.recordSize(record);
    if (this.records.length > 0 && this.sizeBytes + size > this.batchSize) {
      this.closed = true;
      return null;
    }
    if (this.records.length === 0) this.records = [record];
    else this.records.push(record);
    this.sizeBytes += size;
    return size;
  }

  /** Closes the batch for appends (before it is sent, as ProducerBatch.close does). */
  close(): void {
    this.closed = true;
  }

  hasReachedDeliveryTimeout(deliveryTimeoutUs: Micros, nowUs: Micros): boolean {
    return deliveryTimeoutUs <= nowUs - this.createdUs;
  }

  setProducerState(producerId: number, producerEpoch: number, baseSequence: number): void {
    this.producerId = producerId;
    this.producerEpoch = producerEpoch;
    this.baseSequence = baseSequence;
  }

  /** An epoch bump rewrites the sequence of a batch already in flight (ProducerBatch.resetProducerState). */
  resetProducerState(producerId: number, producerEpoch: number, baseSequence: number): void {
    this.sequenceReset = true;
    this.setProducerState(producerId, producerEpoch, baseSequence);
  }

  reenqueued(nowUs: Micros): void {
    this.attempts++;
    this.lastAttemptUs = Math.max(this.lastAttemptUs, nowUs);
    this.retry = true;
  }

  /** The batch as it goes on the wire (v2 batch, base offset 0: the leader assigns offsets). */
  toRecordBatch(): RecordBatch {
    return makeBatch({
      baseOffset: 0,
      partitionLeaderEpoch: -1,
      producerId: this.producerId,
      producerEpoch: this.producerEpoch,
      baseSequence: this.baseSequence,
      isTransactional: this.isTransactional,
      // makeBatch reads only key, value, timestamp (and headers: none) and builds its own records.
      records: this.records,
      // tryAppend summed each record's DefaultRecord.sizeInBytes from the lengths send() measured: not again.
      sizeBytes: this.sizeBytes,
    });
  }

  /** Completes every record with its offset (ProducerBatch.complete); false if already done. */
  complete(baseOffset: number): boolean {
    if (this.done) return false;
    this.done = true;
    const records = this.records;
    for (let i = 0; i < records.length; i++) {
      records[i].callback({ partition: this.partition, offset: baseOffset < 0 ? -1 : baseOffset + i, attempts: this.sends });
    }
    return true;
  }

  /** Fails every record (ProducerBatch.completeExceptionally); false if already done. */
  fail(error: string, maybeAppended: boolean): boolean {
    if (this.done) return false;
    this.done = true;
    for (const record of this.records) record.callback({ partition: this.partition, error, maybeAppended, attempts: this.sends });
    return true;
  }
}
