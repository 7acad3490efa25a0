/**
 * Kafka's record batch (magic v2, DefaultRecordBatch / DefaultRecord) as data. No bytes are encoded, but
 * every batch carries the size it would have on disk, computed as Kafka lays it out (a 61-byte batch
 * header, varint-framed records), because segment.bytes, fetch max bytes and retention.bytes depend on it.
 * A batch is one chunk of a segment file on the virtual disk: its CRC check is the disk's valid(chunk).
 * Simplification of the layout, not of the semantics: a batch keeps its records without an object each
 * (DefaultRecordBatch below), since every batch a log holds stays in memory for the whole run.
 */

import { assert } from "../../sim/assert.ts";
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

/**
 * A v2 record batch: the header, and its records read through `recordCount` and the `...At(i)` accessors
 * (`records` builds KafkaRecord objects on demand, for readers that want them). Every batch a log holds stays
 * in memory for the whole run, so the stored form keeps no object per record (see DefaultRecordBatch).
 */
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
  /** The DELETE_HORIZON attribute (KIP-534) a cleaned batch may carry: then it is the base timestamp. */
  readonly deleteHorizonMs?: number;
  /** Size on disk in bytes (61-byte header + encoded records). */
  readonly sizeBytes: number;
  /** The records as objects, built anew on each access (not kept: use the accessors on hot paths). */
  readonly records: readonly KafkaRecord[];
  readonly recordCount: number;
  keyAt(index: number): string | null;
  valueAt(index: number): string | null;
  offsetDeltaAt(index: number): number;
  timestampDeltaAt(index: number): number;
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

/** The encoded headers' bytes (each: key length, key, value length, value). */
function headersSizeBytes(headers: KafkaRecord["headers"]): number {
  let headersBytes = 0;
  for (const header of headers) {
    const headerKey = utf8Length(header.key);
    const headerValue = nullableLength(header.value);
    headersBytes += varintSize(headerKey) + headerKey + varintSize(headerValue) + Math.max(0, headerValue);
  }
  return headersBytes;
}

/** DefaultRecord.sizeInBytes: the body plus its own varint length prefix. */
export function recordSizeBytes(record: KafkaRecord): number {
  return recordSizeFromLengths(
    record.offsetDelta,
    record.timestampDelta,
    nullableLength(record.key),
    nullableLength(record.value),
    record.headers.length,
    headersSizeBytes(record.headers),
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
  /**
   * The batch's size in bytes when the caller already summed it (BATCH_HEADER_BYTES plus each record's
   * recordSizeFromLengths at its offset and timestamp delta, as the producer's ProducerBatch does while appending):
   * the records' keys and values are then not measured again.
   */
  sizeBytes?: number;
}

/**
 * The headers of a record without any: one frozen array shared by all of them (records live in the logs for the
 * whole run; the clients model no headers, so a fresh [] per record was one more object per record kept).
 */
export const NO_HEADERS: KafkaRecord["headers"] = Object.freeze([]);

/** Builds a batch with consecutive offsets from baseOffset (MemoryRecordsBuilder). */
export function makeBatch(spec: NewBatch): RecordBatch {
  const specs = spec.records;
  const count = specs.length;
  const first = count > 0 ? specs[0].timestamp : 0;
  let max = first;
  // Summed below unless the caller knows it already.
  const known = spec.sizeBytes;
  let sizeBytes = known ?? BATCH_HEADER_BYTES;
  let packed: PackedRecords | null = null;
  let soleKey: string | null = null;
  let soleValue: string | null = null;
  const sole = count === 1 && (specs[0].headers === undefined || specs[0].headers.length === 0);
  if (sole) {
    soleKey = specs[0].key;
    soleValue = specs[0].value;
    if (known === undefined) sizeBytes += recordSizeFromLengths(0, 0, nullableLength(soleKey), nullableLength(soleValue), 0, 0);
  } else {
    const keyValues = new Array<string | null>(2 * count);
    const deltas = new Array<number>(2 * count);
    let headers: KafkaRecord["headers"][] | null = null;
    for (let i = 0; i < count; i++) {
      const r = specs[i];
      if (r.timestamp > max) max = r.timestamp;
      const recordHeaders = r.headers ?? NO_HEADERS;
      if (recordHeaders.length > 0) {
        headers ??= new Array<KafkaRecord["headers"]>(count).fill(NO_HEADERS);
        headers[i] = recordHeaders;
      }
      keyValues[2 * i] = r.key;
      keyValues[2 * i + 1] = r.value;
      deltas[2 * i] = i;
      deltas[2 * i + 1] = r.timestamp - first;
      if (known === undefined) sizeBytes += recordSizeFromLengths(i, r.timestamp - first, nullableLength(r.key), nullableLength(r.value), recordHeaders.length, headersSizeBytes(recordHeaders));
    }
    packed = { lastOffsetDelta: Math.max(0, count - 1), maxTimestamp: max, keyValues, deltas, headers };
  }
  return new DefaultRecordBatch(
    spec.baseOffset,
    spec.partitionLeaderEpoch,
    spec.producerId ?? NO_PRODUCER_ID,
    spec.producerEpoch ?? NO_PRODUCER_EPOCH,
    spec.baseSequence ?? NO_SEQUENCE,
    attributesOf(spec.isTransactional ?? false, spec.isControl ?? false, spec.controlType, false),
    first,
    sizeBytes,
    soleKey,
    soleValue,
    packed,
  );
}

/**
 * A batch from its header and records as objects (the cleaner's MemoryRecordsBuilder output, test fixtures):
 * `header`'s fields but the records, timestamps, size and delete horizon given.
 */
export function batchWithRecords(
  header: RecordBatch,
  records: readonly KafkaRecord[],
  firstTimestamp: number,
  maxTimestamp: number,
  sizeBytes: number,
  deleteHorizonMs: number | null,
  keepControlType = true,
): RecordBatch {
  const baseTimestamp = deleteHorizonMs ?? firstTimestamp;
  const sole =
    records.length === 1 &&
    records[0].offsetDelta === 0 &&
    records[0].timestampDelta === 0 &&
    records[0].headers.length === 0 &&
    header.lastOffsetDelta === 0 &&
    maxTimestamp === baseTimestamp;
  let packed: PackedRecords | null = null;
  if (!sole) {
    const keyValues = new Array<string | null>(2 * records.length);
    const deltas = new Array<number>(2 * records.length);
    let headers: KafkaRecord["headers"][] | null = null;
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      keyValues[2 * i] = r.key;
      keyValues[2 * i + 1] = r.value;
      deltas[2 * i] = r.offsetDelta;
      deltas[2 * i + 1] = r.timestampDelta;
      if (r.headers.length > 0) {
        headers ??= new Array<KafkaRecord["headers"]>(records.length).fill(NO_HEADERS);
        headers[i] = r.headers;
      }
    }
    packed = { lastOffsetDelta: header.lastOffsetDelta, maxTimestamp, keyValues, deltas, headers };
  }
  return new DefaultRecordBatch(
    header.baseOffset,
    header.partitionLeaderEpoch,
    header.producerId,
    header.producerEpoch,
    header.baseSequence,
    attributesOf(header.isTransactional, header.isControl, keepControlType ? header.controlType : undefined, deleteHorizonMs !== null),
    baseTimestamp,
    sizeBytes,
    sole ? records[0].key : null,
    sole ? records[0].value : null,
    packed,
  );
}

/** The same batch at a new base offset (a leader assigning offsets, AbstractRecords' in-place rewrite). */
export function withBaseOffset(batch: RecordBatch, baseOffset: number): RecordBatch {
  return stamped(batch, baseOffset, batch.partitionLeaderEpoch);
}

/** The same batch stamped with the appending leader's epoch. */
export function withLeaderEpoch(batch: RecordBatch, partitionLeaderEpoch: number): RecordBatch {
  return stamped(batch, batch.baseOffset, partitionLeaderEpoch);
}

/**
 * The same batch with the leader's offsets and epoch (LogValidator rewriting the produced batch's header): a new
 * batch object that shares the records' storage (the produced batch is dropped after the append).
 */
export function stamped(batch: RecordBatch, baseOffset: number, partitionLeaderEpoch: number): RecordBatch {
  assert(batch instanceof DefaultRecordBatch, "a batch is built by makeBatch or batchWithRecords");
  return batch.restamped(baseOffset, partitionLeaderEpoch);
}

/**
 * The same header with no records and the same size (read_committed's consumer dropping an aborted transaction's
 * batch: its offsets still advance the position).
 */
export function withoutRecords(batch: RecordBatch): RecordBatch {
  return batchWithRecords(batch, [], batch.firstTimestamp, batch.maxTimestamp, batch.sizeBytes, batch.deleteHorizonMs ?? null);
}

/**
 * The records of a batch that is not a single plain record, packed: no object per record. `keyValues` holds each
 * record's key then value, `deltas` its offset delta then timestamp delta, `headers` each record's headers (null:
 * none has any); with the batch's last offset delta and max timestamp, which a single plain record implies.
 */
interface PackedRecords {
  readonly lastOffsetDelta: number;
  readonly maxTimestamp: number;
  readonly keyValues: readonly (string | null)[];
  readonly deltas: readonly number[];
  readonly headers: readonly KafkaRecord["headers"][] | null;
}

// DefaultRecordBatch's attributes: the isTransactional and isControl bits, and here also the control record's
// type (Kafka keeps it in the control record's key) and whether the base timestamp is the delete horizon.
const TRANSACTIONAL = 1;
const CONTROL = 2;
const COMMIT = 4;
const ABORT = 8;
const DELETE_HORIZON = 16;

function attributesOf(isTransactional: boolean, isControl: boolean, controlType: ControlType | undefined, hasDeleteHorizon: boolean): number {
  return (
    (isTransactional ? TRANSACTIONAL : 0) |
    (isControl ? CONTROL : 0) |
    (controlType === "COMMIT" ? COMMIT : controlType === "ABORT" ? ABORT : 0) |
    (hasDeleteHorizon ? DELETE_HORIZON : 0)
  );
}

/**
 * DefaultRecordBatch as the logs store it: the header as fields, the attribute flags in one integer, and the
 * records without an object each. Most batches hold one record (linger.ms 0) with offset and timestamp deltas 0
 * and no headers: its key and value are two fields of the batch. Any other batch packs its records (PackedRecords).
 * So a stored single-record batch is one object plus its value string (keys are interned by the workloads),
 * where it was a batch, a records array and its backing store, a record object and the key and value strings.
 */
export class DefaultRecordBatch implements RecordBatch {
  constructor(
    readonly baseOffset: number,
    readonly partitionLeaderEpoch: number,
    readonly producerId: number,
    readonly producerEpoch: number,
    readonly baseSequence: number,
    private readonly attributes: number,
    readonly firstTimestamp: number,
    readonly sizeBytes: number,
    /**
     * When `packed` is null the batch is one plain record (offset and timestamp deltas 0, no headers; so the last
     * offset delta is 0 and the max timestamp is the first): its key and value.
     */
    private readonly soleKey: string | null,
    private readonly soleValue: string | null,
    private readonly packed: PackedRecords | null,
  ) {}

  get lastOffsetDelta(): number {
    return this.packed === null ? 0 : this.packed.lastOffsetDelta;
  }

  get maxTimestamp(): number {
    return this.packed === null ? this.firstTimestamp : this.packed.maxTimestamp;
  }

  get isTransactional(): boolean {
    return (this.attributes & TRANSACTIONAL) !== 0;
  }

  get isControl(): boolean {
    return (this.attributes & CONTROL) !== 0;
  }

  get controlType(): ControlType | undefined {
    if ((this.attributes & COMMIT) !== 0) return "COMMIT";
    if ((this.attributes & ABORT) !== 0) return "ABORT";
    return undefined;
  }

  get deleteHorizonMs(): number | undefined {
    return (this.attributes & DELETE_HORIZON) !== 0 ? this.firstTimestamp : undefined;
  }

  get recordCount(): number {
    return this.packed === null ? 1 : this.packed.deltas.length / 2;
  }

  keyAt(index: number): string | null {
    return this.packed === null ? this.soleKey : this.packed.keyValues[2 * index];
  }

  valueAt(index: number): string | null {
    return this.packed === null ? this.soleValue : this.packed.keyValues[2 * index + 1];
  }

  offsetDeltaAt(index: number): number {
    return this.packed === null ? 0 : this.packed.deltas[2 * index];
  }

  timestampDeltaAt(index: number): number {
    return this.packed === null ? 0 : this.packed.deltas[2 * index + 1];
  }

  headersAt(index: number): KafkaRecord["headers"] {
    return this.packed === null || this.packed.headers === null ? NO_HEADERS : this.packed.headers[index];
  }

  get records(): readonly KafkaRecord[] {
    const count = this.recordCount;
    const records = new Array<KafkaRecord>(count);
    for (let i = 0; i < count; i++) {
      records[i] = { offsetDelta: this.offsetDeltaAt(i), timestampDelta: this.timestampDeltaAt(i), key: this.keyAt(i), value: this.valueAt(i), headers: this.headersAt(i) };
    }
    return records;
  }

  /** The same batch at another base offset and leader epoch, sharing the records. */
  restamped(baseOffset: number, partitionLeaderEpoch: number): DefaultRecordBatch {
    return new DefaultRecordBatch(
      baseOffset,
      partitionLeaderEpoch,
      this.producerId,
      this.producerEpoch,
      this.baseSequence,
      this.attributes,
      this.firstTimestamp,
      this.sizeBytes,
      this.soleKey,
      this.soleValue,
      this.packed,
    );
  }
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
  const value = batch.recordCount > 0 ? batch.valueAt(0) : null;
  if (!batch.isControl || value === null || value.length !== 6) return -1;
  return fromSevenBitChars(value.slice(2));
}
