/**
 * Kafka's record batch (magic v2, DefaultRecordBatch / DefaultRecord) as data. No bytes are encoded, but
 * every batch carries the size it would have on disk, computed as Kafka lays it out (a 61-byte batch
 * header, varint-framed records), because segment.bytes, fetch max bytes and retention.bytes depend on it.
 * A batch is one chunk of a segment file on the virtual disk: its CRC check is the disk's valid(chunk).
 */

import { utf8Length } from "../../sim/utf8.ts";

/** One record inside a batch. Offsets and timestamps are stored as deltas from the batch's base, as v2 does. */
export interface KafkaRecord {
  readonly offsetDelta: number;
  readonly timestampDelta: number;
  /** null key = no key (partitioned by the sticky partitioner); null value = a tombstone. */
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: readonly { readonly key: string; readonly value: string | null }[];
}

/** Control record types (ControlRecordType): transaction markers. */
export type ControlType = "COMMIT" | "ABORT";

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;

export interface RecordBatch {
  readonly baseOffset: number;
  /** lastOffset = baseOffset + lastOffsetDelta (kept even when compaction removes the last record). */
  readonly lastOffsetDelta: number;
  /** The leader epoch of the leader that appended it (KIP-101); -1 before 0.11. */
  readonly partitionLeaderEpoch: number;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly isTransactional: boolean;
  /** A control batch holds one control record (a transaction marker). */
  readonly isControl: boolean;
  readonly controlType?: ControlType;
  /** CreateTime of the first record; maxTimestamp drives time-based retention and the time index. */
  readonly firstTimestamp: number;
  readonly maxTimestamp: number;
  readonly records: readonly KafkaRecord[];
  /** Size on disk in bytes (61-byte header + encoded records). */
  readonly sizeBytes: number;
}

export function lastOffset(batch: RecordBatch): number {
  return batch.baseOffset + batch.lastOffsetDelta;
}

/** Offset just past the batch. */
export function nextOffset(batch: RecordBatch): number {
  return batch.baseOffset + batch.lastOffsetDelta + 1;
}

/** DefaultRecordBatch.RECORD_BATCH_OVERHEAD. */
export const BATCH_HEADER_BYTES = 61;

/** Bytes of a zig-zag varint (ByteUtils.sizeOfVarint). */
export function varintSize(value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  let bytes = 1;
  while (v >= 0x80) {
    v >>>= 7;
    bytes++;
  }
  return bytes;
}

/** Bytes of a varlong (ByteUtils.sizeOfVarlong), for timestamp deltas that may exceed 32 bits. */
export function varlongSize(value: number): number {
  const zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
  let bytes = 1;
  let v = zigzag;
  while (v >= 128) {
    v = Math.floor(v / 128);
    bytes++;
  }
  return bytes;
}

/** A key's or value's length as a v2 record writes it: its UTF-8 bytes, or -1 for null. */
export function nullableLength(text: string | null): number {
  return text === null ? -1 : utf8Length(text);
}

/** DefaultRecord.sizeOf without headers: a key and a value of these lengths (-1: null, one varint), and no more. */
export function keyValueSizeBytes(keyLength: number, valueLength: number): number {
  return varintSize(keyLength) + Math.max(0, keyLength) + varintSize(valueLength) + Math.max(0, valueLength);
}

/**
 * DefaultRecord.sizeInBytes from the key's and value's lengths (nullableLength): the body (attributes, deltas,
 * key, value, header count, and `headersBytes` for the headers themselves) plus its own varint length prefix.
 */
export function recordSizeFromLengths(
  offsetDelta: number,
  timestampDelta: number,
  keyLength: number,
  valueLength: number,
  headerCount: number,
  headersBytes: number,
): number {
  const body = 1 + varlongSize(timestampDelta) + varintSize(offsetDelta) + keyValueSizeBytes(keyLength, valueLength) + varintSize(headerCount) + headersBytes;
  return varintSize(body) + body;
}

/** DefaultRecord.sizeInBytes: the body plus its own varint length prefix. */
export function recordSizeBytes(record: KafkaRecord): number {
  let headersBytes = 0;
  for (const header of record.headers) {
    const headerKey = utf8Length(header.key);
    const headerValue = nullableLength(header.value);
    headersBytes += varintSize(headerKey) + headerKey + varintSize(headerValue) + Math.max(0, headerValue);
  }
  return recordSizeFromLengths(
    record.offsetDelta,
    record.timestampDelta,
    nullableLength(record.key),
    nullableLength(record.value),
    record.headers.length,
    headersBytes,
  );
}

export function batchSizeBytes(records: readonly KafkaRecord[]): number {
  let size = BATCH_HEADER_BYTES;
  for (const record of records) size += recordSizeBytes(record);
  return size;
}

export interface NewBatch {
  baseOffset: number;
  partitionLeaderEpoch: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  isControl?: boolean;
  controlType?: ControlType;
  /** Records' keys, values, timestamps; offsets are assigned consecutively from baseOffset. */
  records: readonly { key: string | null; value: string | null; timestamp: number; headers?: KafkaRecord["headers"] }[];
}

/**
 * The headers of a record without any: one frozen array shared by all of them (records live in the logs for the
 * whole run; the clients model no headers, so a fresh [] per record was one more object per record kept).
 */
export const NO_HEADERS: KafkaRecord["headers"] = Object.freeze([]);

/** Builds a batch with consecutive offsets from baseOffset (MemoryRecordsBuilder). */
export function makeBatch(spec: NewBatch): RecordBatch {
  const first = spec.records.length > 0 ? spec.records[0].timestamp : 0;
  let max = first;
  const records: KafkaRecord[] = spec.records.map((r, i) => {
    if (r.timestamp > max) max = r.timestamp;
    return { offsetDelta: i, timestampDelta: r.timestamp - first, key: r.key, value: r.value, headers: r.headers ?? NO_HEADERS };
  });
  return {
    baseOffset: spec.baseOffset,
    lastOffsetDelta: Math.max(0, records.length - 1),
    partitionLeaderEpoch: spec.partitionLeaderEpoch,
    producerId: spec.producerId ?? NO_PRODUCER_ID,
    producerEpoch: spec.producerEpoch ?? NO_PRODUCER_EPOCH,
    baseSequence: spec.baseSequence ?? NO_SEQUENCE,
    isTransactional: spec.isTransactional ?? false,
    isControl: spec.isControl ?? false,
    ...(spec.controlType !== undefined ? { controlType: spec.controlType } : {}),
    firstTimestamp: first,
    maxTimestamp: max,
    records,
    sizeBytes: batchSizeBytes(records),
  };
}

/** The same batch at a new base offset (a leader assigning offsets, AbstractRecords' in-place rewrite). */
export function withBaseOffset(batch: RecordBatch, baseOffset: number): RecordBatch {
  return { ...batch, baseOffset };
}

/** The same batch stamped with the appending leader's epoch. */
export function withLeaderEpoch(batch: RecordBatch, partitionLeaderEpoch: number): RecordBatch {
  return { ...batch, partitionLeaderEpoch };
}

// ---- Transaction markers (ControlRecordType, EndTransactionMarker) ----

/** ControlRecordType ids: ABORT 0, COMMIT 1. */
const CONTROL_TYPE_ID: Readonly<Record<ControlType, number>> = { ABORT: 0, COMMIT: 1 };

/** Seven bits per character, so each is one UTF-8 byte and the sizes stay Kafka's (4-byte key, 6-byte value). */
function sevenBitChars(value: number, count: number): string {
  let text = "";
  for (let i = count - 1; i >= 0; i--) text += String.fromCharCode(Math.floor(value / 128 ** i) % 128);
  return text;
}

function fromSevenBitChars(text: string): number {
  let value = 0;
  for (let i = 0; i < text.length; i++) value = value * 128 + text.charCodeAt(i);
  return value;
}

export interface EndTxnMarkerSpec {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly coordinatorEpoch: number;
  readonly controlType: ControlType;
  readonly timestamp: number;
  readonly partitionLeaderEpoch?: number;
}

/**
 * MemoryRecords.withEndTransactionMarker: a transactional control batch holding one control record — key
 * ControlRecordType (version int16 0, type int16), value EndTransactionMarker (version int16 0, coordinatorEpoch
 * int32) — with no sequence. It takes one offset. The bytes are text here: two version characters then the type
 * resp. the epoch in seven-bit characters, each one byte, so the record has Kafka's 4-byte key and 6-byte value.
 */
export function makeEndTxnMarker(spec: EndTxnMarkerSpec): RecordBatch {
  if (!Number.isSafeInteger(spec.coordinatorEpoch) || spec.coordinatorEpoch < 0 || spec.coordinatorEpoch >= 128 ** 4) {
    throw new RangeError(`coordinator epoch ${spec.coordinatorEpoch} out of range`);
  }
  return makeBatch({
    baseOffset: 0,
    partitionLeaderEpoch: spec.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH,
    producerId: spec.producerId,
    producerEpoch: spec.producerEpoch,
    isTransactional: true,
    isControl: true,
    controlType: spec.controlType,
    records: [
      {
        key: sevenBitChars(0, 2) + sevenBitChars(CONTROL_TYPE_ID[spec.controlType], 2),
        value: sevenBitChars(0, 2) + sevenBitChars(spec.coordinatorEpoch, 4),
        timestamp: spec.timestamp,
      },
    ],
  });
}

/** EndTransactionMarker.deserialize(...).coordinatorEpoch of a marker batch; -1 when it holds none. */
export function markerCoordinatorEpoch(batch: RecordBatch): number {
  const value = batch.records[0]?.value ?? null;
  if (!batch.isControl || value === null || value.length !== 6) return -1;
  return fromSevenBitChars(value.slice(2));
}
