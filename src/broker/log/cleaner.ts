/**
 * Log compaction as a pure function: Kafka's Cleaner (core/src/main/scala/kafka/log/LogCleaner.scala, `doClean`,
 * `buildOffsetMap`, `cleanSegments`, `cleanInto`, `shouldRetainRecord`, `CleanedTransactionMetadata`), the range
 * selection of LogCleanerManager (`cleanableOffsets`, `calculateCleanableBytes`, `LogToClean.cleanableRatio`) and the
 * batch rewrite of MemoryRecords.filterTo (KIP-534 delete horizon, `overrideLastOffset`, `writeEmptyHeader`).
 *
 * One call is one cleaning round (`Cleaner.doClean`):
 *  1. The cleanable range is [firstDirtyOffset, firstUncleanableOffset): it stops at the active segment, at the last
 *     stable offset, and at the first dirty closed segment whose largest timestamp is newer than
 *     now − min.compaction.lag.ms; the bound is rounded down to that segment's base offset.
 *  2. The offset map (key → latest offset) is built over the dirty range, skipping control batches and aborted
 *     transactional batches. Its `latestOffset` ends at firstUncleanableOffset − 1 (or earlier when a bounded map
 *     fills, `maxOffsetMapEntries`); the round's end offset (`cleanedUpTo`) is latestOffset + 1.
 *  3. Every segment below that end offset (the clean section too) is rewritten: a data record stays iff it is past
 *     the map's latestOffset, or it has a key and its offset is >= the map's offset for that key (keys absent from
 *     the map stay) and it is not a tombstone whose batch's delete horizon has passed. Keyless records are removed
 *     (Kafka counts them as invalid: LogValidator rejects them at produce time on compacted topics, so they only
 *     exist if the topic was switched from delete to compact). Aborted transactional batches are removed.
 *  4. Batches keep their baseOffset and lastOffsetDelta (v2 `overrideLastOffset`), so offsets never change. A batch
 *     left without records disappears unless it is the last data batch of an active producer (or, when the
 *     producer's last entry is a marker, that marker with the producer's epoch), or it ends exactly at the round's
 *     upper bound; those are kept as empty 61-byte headers (`BatchRetention.RETAIN_EMPTY`).
 *  5. A retained batch that still holds a tombstone, or a marker whose transaction has no data left, gets a delete
 *     horizon of now + delete.retention.ms the first time it is rewritten (the batch's base timestamp becomes the
 *     horizon and record timestamp deltas are rewritten against it, as MemoryRecordsBuilder does). In a later round
 *     at or after the horizon its tombstones / the marker are dropped. Nothing expires in the round that sets it.
 *
 * Sizes: a rewritten batch's sizeBytes is recomputed from its records (the timestamp deltas change, so record
 * sizes can change); an empty header is 61 bytes. A batch all of whose records stay, and that needs no new horizon,
 * is the very same object (filterTo writes the original bytes).
 *
 * Simplifications (Kafka → here):
 *  - The offset map is exact (Kafka hashes keys with MD5 into SkimpyOffsetMap and ignores collisions) and unbounded
 *    unless `maxOffsetMapEntries` (= dedupe buffer slots × load factor) is given.
 *  - Segment grouping (`groupSegmentsBySize`) merges cleaned segments only when `segmentBytes` is given, and checks
 *    only the log-size and 32-bit relative-offset rules, not the offset/time index size (segment.index.bytes,
 *    10 MiB, only binds with a tiny index.interval.bytes).
 *  - Producer state: without `activeProducers`, every producer seen in the given segments is active (producer-id
 *    expiration, producer.id.expiration.ms, is not applied); its last batch is derived from the log as the live
 *    ProducerStateManager would have built it. Pass all segments of the log, the active one included.
 *  - Transactions: aborted transactions are derived from the log (a transactional batch belongs to the
 *    transaction its producer's next marker ends) instead of the .txnindex; this is equivalent because the cleaner
 *    keeps a marker until all of its transaction's batches are gone. An ongoing transaction (no marker yet) bounds
 *    the cleanable range like the LSO does; the caller can lower the bound further with `lastStableOffset`
 *    (Kafka's LSO is also bounded by the high watermark). The cleaned transaction index is not produced.
 *  - Timestamps are CreateTime: a rewritten batch's maxTimestamp is the max over its remaining records.
 *  - Legacy (magic < 2) delete horizons from segment lastModified are not modelled: all batches are v2.
 */
import { BATCH_HEADER_BYTES, batchSizeBytes, batchWithRecords, lastOffset, nextOffset } from "./records.ts";
import type { KafkaRecord, RecordBatch } from "./records.ts";

/** RecordBatch.NO_TIMESTAMP: the base timestamp of an empty header. */
export const NO_TIMESTAMP = -1;

/** CleanerConfig.LOG_CLEANER_DEDUPE_BUFFER_LOAD_FACTOR default (log.cleaner.io.buffer.load.factor). */
export const DEDUPE_BUFFER_LOAD_FACTOR = 0.9;

/**
 * DefaultRecordBatch.deleteHorizonMs(): the horizon if the DELETE_HORIZON attribute bit is set (KIP-534: the base
 * timestamp is then the horizon and the record timestamp deltas are relative to it), else null.
 */
export function deleteHorizonOf(batch: RecordBatch): number | null {
  return batch.deleteHorizonMs ?? null;
}

export interface CleanableSegment {
  baseOffset: number;
  batches: readonly RecordBatch[];
  /** when the segment was last written, ms */
  lastModifiedMs: number;
}

/** UnifiedLog.lastRecordsOfActiveProducers' LastRecord. */
export interface ProducerLastRecord {
  /** Last offset of the producer's last data batch; null when its epoch was bumped by a marker since. */
  lastDataOffset: number | null;
  producerEpoch: number;
}

export interface CleanOptions {
  nowMs: number;
  deleteRetentionMs: number;
  minCompactionLagMs: number;
  /** offsets before this were cleaned before */
  firstDirtyOffset: number;
  /** the log's active segment base: never clean at or beyond it */
  activeSegmentBaseOffset: number;
  /** Kafka never cleans past the last stable offset (itself <= the high watermark). Optional upper bound. */
  lastStableOffset?: number;
  /** Active producers' last records (ProducerStateManager). Default: derived from the given segments. */
  activeProducers?: ReadonlyMap<number, ProducerLastRecord>;
  /** Capacity of the offset map in keys (dedupe buffer slots × load factor). Default: unbounded. */
  maxOffsetMapEntries?: number;
  /** segment.bytes: when given, consecutive cleaned segments are merged into groups of at most this many bytes. */
  segmentBytes?: number;
}

export interface CleanedSegment {
  baseOffset: number;
  batches: RecordBatch[];
  /** Kafka sets a cleaned segment's mtime to that of the last segment of its group. */
  lastModifiedMs: number;
}

export interface CleanResult {
  /** All given segments in order: the cleaned ones rewritten (maybe merged), the others unchanged. */
  segments: CleanedSegment[];
  /** the new firstDirtyOffset */
  cleanedUpTo: number;
  /** Records removed, of every kind (superseded, tombstones, keyless, aborted, transaction markers). */
  recordsRemoved: number;
  /** Of which tombstones (data records with a null value). */
  tombstonesRemoved: number;
  /** The bound of this round's cleanable range (a segment base offset). */
  firstUncleanableOffset: number;
  /** Batches dropped entirely. */
  batchesRemoved: number;
}

/** Bytes of a segment (the sum of its batches). */
export function segmentSizeBytes(segment: { batches: readonly RecordBatch[] }): number {
  let size = 0;
  for (const batch of segment.batches) size += batch.sizeBytes;
  return size;
}

/** LogSegment.largestTimestamp: the largest batch max timestamp, or the file's mtime if there is none. */
export function largestTimestamp(segment: CleanableSegment): number {
  let max = NO_TIMESTAMP;
  for (const batch of segment.batches) if (batch.maxTimestamp > max) max = batch.maxTimestamp;
  return max >= 0 ? max : segment.lastModifiedMs;
}

function checkOrdered(segments: readonly CleanableSegment[]): void {
  for (let i = 1; i < segments.length; i++) {
    if (segments[i].baseOffset <= segments[i - 1].baseOffset) {
      throw new Error(`segments must be sorted by base offset: ${segments[i - 1].baseOffset} then ${segments[i].baseOffset}`);
    }
  }
}

/** Indexes of the segments LogSegments.values(from, to) returns: those overlapping [from, to). */
export function segmentsOverlapping(segments: readonly { readonly baseOffset: number }[], from: number, to: number): number[] {
  const out: number[] = [];
  if (from >= to) return out;
  for (let i = 0; i < segments.length; i++) {
    if (segments[i].baseOffset >= to) break;
    const nextBase = i + 1 < segments.length ? segments[i + 1].baseOffset : Infinity;
    if (nextBase > from) out.push(i);
  }
  return out;
}

/** What the log's batches say about producers and transactions, as the live broker would know it. */
interface LogScan {
  /** Per producer, its last record (ProducerStateEntry), in first-seen order. */
  producers: Map<number, ProducerLastRecord>;
  /** Transactional data batches that belong to an aborted transaction. */
  aborted: Set<RecordBatch>;
  /** First offset of the earliest transaction with no marker yet (bounds cleaning like the LSO), or Infinity. */
  firstOngoingTxnOffset: number;
}

function scanLog(segments: readonly CleanableSegment[]): LogScan {
  const producers = new Map<number, ProducerLastRecord>();
  const aborted = new Set<RecordBatch>();
  /** Per producer: the transactional data batches since its last marker. */
  const open = new Map<number, RecordBatch[]>();
  for (const segment of segments) {
    for (const batch of segment.batches) {
      if (batch.producerId < 0) continue;
      const entry = producers.get(batch.producerId) ?? { lastDataOffset: null, producerEpoch: batch.producerEpoch };
      // ProducerStateEntry.maybeUpdateProducerEpoch: a new epoch clears the batch metadata.
      if (entry.producerEpoch !== batch.producerEpoch) {
        entry.producerEpoch = batch.producerEpoch;
        entry.lastDataOffset = null;
      }
      if (batch.isControl) {
        // A marker ends the producer's transaction. An emptied marker (its records cleaned after the delete
        // horizon) was a marker when appended: the live producer state saw it, and no data of its transaction is
        // left, so treating it as a boundary changes nothing.
        const pending = open.get(batch.producerId);
        if (pending !== undefined && batch.recordCount > 0 && batch.controlType === "ABORT") {
          for (const b of pending) aborted.add(b);
        }
        open.delete(batch.producerId);
      } else {
        entry.lastDataOffset = lastOffset(batch);
        if (batch.isTransactional) {
          const pending = open.get(batch.producerId);
          if (pending === undefined) open.set(batch.producerId, [batch]);
          else pending.push(batch);
        }
      }
      producers.set(batch.producerId, entry);
    }
  }
  let firstOngoingTxnOffset = Infinity;
  for (const pending of open.values()) firstOngoingTxnOffset = Math.min(firstOngoingTxnOffset, pending[0].baseOffset);
  return { producers, aborted, firstOngoingTxnOffset };
}

export interface UncleanableOptions {
  nowMs: number;
  minCompactionLagMs: number;
  firstDirtyOffset: number;
  activeSegmentBaseOffset: number;
  lastStableOffset?: number;
}

/**
 * LogCleanerManager.cleanableOffsets + calculateCleanableBytes: the base offset of the first segment the cleaner
 * must not touch. `firstOngoingTxnOffset` stands for the LSO's transaction part.
 */
function computeFirstUncleanable(segments: readonly CleanableSegment[], o: UncleanableOptions, firstOngoingTxnOffset: number): number {
  const active = o.activeSegmentBaseOffset;
  let bound = Math.min(active, firstOngoingTxnOffset, o.lastStableOffset ?? Infinity);
  const lag = Math.max(o.minCompactionLagMs, 0);
  if (lag > 0) {
    // The first dirty non-active segment whose largest timestamp is within the lag of now.
    for (const i of segmentsOverlapping(segments, o.firstDirtyOffset, active)) {
      if (largestTimestamp(segments[i]) > o.nowMs - lag) {
        bound = Math.min(bound, segments[i].baseOffset);
        break;
      }
    }
  }
  const uncleanable = Math.max(o.firstDirtyOffset, bound);
  // The segment holding it (nonActiveLogSegmentsFrom(uncleanable).headOption), else the active segment.
  const holding = segmentsOverlapping(segments, uncleanable, active);
  return holding.length > 0 ? segments[holding[0]].baseOffset : active;
}

/** The cleanable range's bound for the scheduler (exported for the log manager). */
export function firstUncleanableOffset(segments: readonly CleanableSegment[], options: UncleanableOptions): number {
  checkOrdered(segments);
  return computeFirstUncleanable(segments, options, scanLog(segments).firstOngoingTxnOffset);
}

/**
 * LogToClean.cleanableRatio: bytes of the cleanable dirty segments over bytes of the clean plus cleanable segments
 * (a segment straddling firstDirtyOffset counts in both, as in Kafka). Without `lag`, the cleanable range ends at the
 * active segment and any ongoing transaction; with it, also at min.compaction.lag.ms and the given LSO, as the cleaner
 * will. 0 for an empty log.
 */
export function dirtyRatio(
  segments: readonly CleanableSegment[],
  firstDirtyOffset: number,
  activeSegmentBaseOffset: number,
  lag?: { nowMs: number; minCompactionLagMs: number; lastStableOffset?: number },
): number {
  checkOrdered(segments);
  const firstUncleanable = firstUncleanableOffset(segments, {
    nowMs: lag?.nowMs ?? 0,
    minCompactionLagMs: lag?.minCompactionLagMs ?? 0,
    firstDirtyOffset,
    activeSegmentBaseOffset,
    ...(lag?.lastStableOffset !== undefined ? { lastStableOffset: lag.lastStableOffset } : {}),
  });
  let cleanBytes = 0;
  for (const i of segmentsOverlapping(segments, -1, firstDirtyOffset)) cleanBytes += segmentSizeBytes(segments[i]);
  let cleanableBytes = 0;
  for (const i of segmentsOverlapping(segments, Math.min(firstDirtyOffset, firstUncleanable), firstUncleanable)) {
    cleanableBytes += segmentSizeBytes(segments[i]);
  }
  const total = cleanBytes + cleanableBytes;
  return total === 0 ? 0 : cleanableBytes / total;
}

/** The offset map: key → latest offset over the dirty range, and the last offset it covers. */
interface OffsetMap {
  offsets: Map<string, number>;
  latestOffset: number;
}

/** Cleaner.buildOffsetMap / buildOffsetMapForSegment. */
function buildOffsetMap(
  segments: readonly CleanableSegment[],
  start: number,
  end: number,
  aborted: ReadonlySet<RecordBatch>,
  maxEntries: number,
): OffsetMap {
  const map: OffsetMap = { offsets: new Map(), latestOffset: -1 };
  const dirty = segmentsOverlapping(segments, start, end);
  for (let d = 0; d < dirty.length; d++) {
    const segment = segments[dirty[d]];
    const nextSegmentStart = d + 1 < dirty.length ? segments[dirty[d + 1]].baseOffset : end;
    for (const batch of segment.batches) {
      if (lastOffset(batch) < start) continue; // the offset index lookup skips to the first dirty batch
      if (!batch.isControl && !aborted.has(batch)) {
        for (const record of batch.records) {
          const offset = batch.baseOffset + record.offsetDelta;
          if (record.key !== null && offset >= start) {
            if (map.offsets.size >= maxEntries) return map; // full: this round ends at the last offset mapped
            map.offsets.set(record.key, offset);
            map.latestOffset = offset;
          }
        }
      }
      map.latestOffset = lastOffset(batch);
    }
    // In case of offset gaps, fast-forward to the last offset this segment can hold.
    map.latestOffset = nextSegmentStart - 1;
  }
  return map;
}

/** LogCleaner.CleanedTransactionMetadata, with aborted transactions known per batch (see scanLog). */
class CleanedTransactionMetadata {
  /** Producers with an aborted transaction under way in the scan, and whether one of its batches was read. */
  private readonly ongoingAborted = new Map<number, boolean>();
  private readonly ongoingCommitted = new Set<number>();

  constructor(private readonly aborted: ReadonlySet<RecordBatch>) {}

  /** onBatchRead: true iff the data batch belongs to an aborted transaction (it can be discarded). */
  onBatchRead(batch: RecordBatch): boolean {
    if (!batch.isTransactional) return false;
    if (this.aborted.has(batch)) {
      this.ongoingAborted.set(batch.producerId, true);
      return true;
    }
    this.ongoingCommitted.add(batch.producerId);
    return false;
  }

  /** onControlBatchRead: true iff the marker may be discarded (no batch of its transaction was read). */
  onControlBatchRead(batch: RecordBatch): boolean {
    if (batch.recordCount === 0) return true; // an empty control batch was already cleaned
    if (batch.controlType === "ABORT") {
      const observed = this.ongoingAborted.get(batch.producerId) === true;
      this.ongoingAborted.delete(batch.producerId);
      return !observed;
    }
    if (batch.controlType === "COMMIT") return !this.ongoingCommitted.delete(batch.producerId);
    return false;
  }
}

type BatchRetention = "DELETE" | "RETAIN_EMPTY" | "DELETE_EMPTY";

interface RoundState {
  map: OffsetMap;
  nowMs: number;
  deleteRetentionMs: number;
  txn: CleanedTransactionMetadata;
  producers: ReadonlyMap<number, ProducerLastRecord>;
  /** upperBoundOffsetOfCleaningRound: the batch ending here is kept even if emptied. */
  upperBound: number;
  recordsRemoved: number;
  tombstonesRemoved: number;
  batchesRemoved: number;
}

/** Counts a removed record in the round's statistics. */
function countRemoved(state: RoundState, batch: RecordBatch, record: KafkaRecord): void {
  state.recordsRemoved++;
  if (!batch.isControl && record.value === null) state.tombstonesRemoved++;
}

/** Cleaner.shouldRetainRecord for a data record. */
function shouldRetainRecord(state: RoundState, batch: RecordBatch, record: KafkaRecord): boolean {
  const offset = batch.baseOffset + record.offsetDelta;
  if (offset > state.map.latestOffset) return true;
  if (record.key === null) return false; // an invalid (keyless) message
  const found = state.map.offsets.get(record.key) ?? -1;
  const horizon = deleteHorizonOf(batch);
  const retainDeletes = horizon === null || state.nowMs < horizon;
  return offset >= found && (record.value !== null || retainDeletes);
}

/** The same batch holding only `retained`, rebuilt by MemoryRecordsBuilder (offsets and lastOffsetDelta kept). */
function rebuild(batch: RecordBatch, retained: readonly KafkaRecord[], horizon: number | null): RecordBatch {
  const timestamps = retained.map((r) => batch.firstTimestamp + r.timestampDelta);
  const base = horizon ?? timestamps[0];
  let max = timestamps[0];
  for (const t of timestamps) if (t > max) max = t;
  const records = retained.map((r, i) => (r.timestampDelta === timestamps[i] - base ? r : { ...r, timestampDelta: timestamps[i] - base }));
  return batchWithRecords(batch, records, base, max, batchSizeBytes(records), horizon);
}

/** DefaultRecordBatch.writeEmptyHeader: no records, no base timestamp, no horizon, no control type; the last offset is kept. */
function emptyHeader(batch: RecordBatch): RecordBatch {
  return batchWithRecords(batch, [], NO_TIMESTAMP, batch.maxTimestamp, BATCH_HEADER_BYTES, null, false);
}

/** Cleaner.cleanInto's filter (checkBatchRetention + shouldRetainRecord) and MemoryRecords.filterTo for one batch. */
function cleanBatch(state: RoundState, batch: RecordBatch): RecordBatch | null {
  // checkBatchRetention
  const canDiscardBatch = batch.isControl ? state.txn.onControlBatchRead(batch) : state.txn.onBatchRead(batch);
  const horizon = deleteHorizonOf(batch);
  const discardBatchRecords = batch.isControl ? canDiscardBatch && horizon !== null && horizon <= state.nowMs : canDiscardBatch;
  const last = state.producers.get(batch.producerId);
  const isLastOfProducer =
    last !== undefined &&
    (last.lastDataOffset !== null ? lastOffset(batch) === last.lastDataOffset : batch.isControl && batch.producerEpoch === last.producerEpoch);
  let retention: BatchRetention;
  if (batch.producerId >= 0 && isLastOfProducer) retention = "RETAIN_EMPTY";
  else if (nextOffset(batch) === state.upperBound) retention = "RETAIN_EMPTY";
  else if (discardBatchRecords) retention = "DELETE";
  else retention = "DELETE_EMPTY";
  const containsMarkerForEmptyTxn = canDiscardBatch && batch.isControl;

  if (retention === "DELETE") {
    for (const record of batch.records) countRemoved(state, batch, record);
    state.batchesRemoved++;
    return null;
  }
  // filterBatch
  const retained: KafkaRecord[] = [];
  let containsTombstones = false;
  for (const record of batch.records) {
    const keep = discardBatchRecords ? false : batch.isControl ? true : shouldRetainRecord(state, batch, record);
    if (keep) {
      retained.push(record);
      if (record.value === null) containsTombstones = true;
    } else {
      countRemoved(state, batch, record);
    }
  }
  if (retained.length > 0) {
    const needToSetDeleteHorizon = (containsTombstones || containsMarkerForEmptyTxn) && horizon === null;
    if (retained.length === batch.recordCount && !needToSetDeleteHorizon) return batch;
    return rebuild(batch, retained, needToSetDeleteHorizon ? state.nowMs + state.deleteRetentionMs : horizon);
  }
  if (retention === "RETAIN_EMPTY") return emptyHeader(batch);
  state.batchesRemoved++;
  return null;
}

/** Cleaner.groupSegmentsBySize (log size and relative-offset rules; sizes before cleaning). */
function groupSegmentsBySize(
  segments: readonly CleanableSegment[],
  maxSize: number,
  firstUncleanable: number,
): CleanableSegment[][] {
  const groups: CleanableSegment[][] = [];
  let i = 0;
  while (i < segments.length) {
    const group = [segments[i]];
    let logSize = segmentSizeBytes(segments[i]);
    i++;
    while (i < segments.length) {
      const size = segmentSizeBytes(segments[i]);
      const lastOffsetOfHead = i + 1 < segments.length ? segments[i + 1].baseOffset - 1 : firstUncleanable - 1;
      const fitsOffsets = size === 0 || lastOffsetOfHead - group[group.length - 1].baseOffset <= 2147483647;
      if (logSize + size > maxSize || !fitsOffsets) break;
      group.push(segments[i]);
      logSize += size;
      i++;
    }
    groups.push(group);
  }
  return groups;
}

/** One cleaning round (Cleaner.doClean) over the log's segments. Pure: the inputs are not modified. */
export function compactSegments(segments: readonly CleanableSegment[], options: CleanOptions): CleanResult {
  checkOrdered(segments);
  const scan = scanLog(segments);
  const firstUncleanable = computeFirstUncleanable(segments, options, scan.firstOngoingTxnOffset);
  const unchanged = (s: CleanableSegment): CleanedSegment => ({
    baseOffset: s.baseOffset,
    batches: [...s.batches],
    lastModifiedMs: s.lastModifiedMs,
  });
  const result: CleanResult = {
    segments: [],
    cleanedUpTo: options.firstDirtyOffset,
    recordsRemoved: 0,
    tombstonesRemoved: 0,
    firstUncleanableOffset: firstUncleanable,
    batchesRemoved: 0,
  };
  // Nothing cleanable: the cleaner manager would not pick this log (no cleanable bytes).
  if (firstUncleanable <= options.firstDirtyOffset) {
    result.segments = segments.map(unchanged);
    return result;
  }
  const maxEntries = options.maxOffsetMapEntries ?? Infinity;
  if (maxEntries < 1) throw new Error("offset map is too small to fit in even a single message");
  const map = buildOffsetMap(segments, options.firstDirtyOffset, firstUncleanable, scan.aborted, maxEntries);
  const endOffset = map.latestOffset + 1;

  const state: RoundState = {
    map,
    nowMs: options.nowMs,
    deleteRetentionMs: options.deleteRetentionMs,
    txn: new CleanedTransactionMetadata(scan.aborted),
    producers: options.activeProducers ?? scan.producers,
    upperBound: firstUncleanable,
    recordsRemoved: 0,
    tombstonesRemoved: 0,
    batchesRemoved: 0,
  };
  // log.logSegments(0, endOffset): the clean section and the dirty range up to the round's end.
  const toClean = segments.filter((s) => s.baseOffset < endOffset);
  const groups =
    options.segmentBytes !== undefined ? groupSegmentsBySize(toClean, options.segmentBytes, firstUncleanable) : toClean.map((s) => [s]);
  for (const group of groups) {
    const batches: RecordBatch[] = [];
    for (const segment of group) {
      for (const batch of segment.batches) {
        const cleaned = cleanBatch(state, batch);
        if (cleaned !== null) batches.push(cleaned);
      }
    }
    result.segments.push({ baseOffset: group[0].baseOffset, batches, lastModifiedMs: group[group.length - 1].lastModifiedMs });
  }
  for (const segment of segments.slice(toClean.length)) result.segments.push(unchanged(segment));
  result.cleanedUpTo = endOffset;
  result.recordsRemoved = state.recordsRemoved;
  result.tombstonesRemoved = state.tombstonesRemoved;
  result.batchesRemoved = state.batchesRemoved;
  return result;
}
