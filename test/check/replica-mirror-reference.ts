/**
 * The replica mirror (src/check/replica-mirror.ts) as it was before issue 18 round 4 (a put per appended record,
 * a rebuild per reload); replica-mirror-model.test.ts compares the optimised mirror with it.
 */

import type { LogLoadedBatch, TraceRecords } from "../../src/sim/trace.ts";

interface MirrorRecord {
  readonly offset: number;
  /** `${partitionLeaderEpoch}|${value}`. */
  readonly id: string;
  readonly value: string | null;
  readonly partitionLeaderEpoch: number;
  /** Virtual µs of the append on this replica. */
  readonly appendedAt: number;
}

/** appendedAt of a slot the mirror does not know (virtual time is never negative). */
const UNKNOWN = -1;
const INITIAL_CAPACITY = 16;

export class ReferenceReplicaMirror {
  /** The offset of slot 0 (at or below the log start: retention only moves `start`, until a compaction). */
  private first = 0;
  /** The first offset this mirror may hold (its log start offset). */
  private start = 0;
  /** One past the last offset (its log end offset). */
  private end = 0;
  private epochs = new Int32Array(INITIAL_CAPACITY);
  /** UNKNOWN where the mirror does not know the record at that offset. */
  private appendedAts = new Float64Array(INITIAL_CAPACITY).fill(UNKNOWN);
  private values: (string | null)[] = nulls(INITIAL_CAPACITY);

  constructor(
    readonly node: string,
    readonly topicPartition: string,
  ) {}

  get logStartOffset(): number {
    return this.start;
  }

  get logEndOffset(): number {
    return this.end;
  }

  /** True when the mirror holds a record at `offset`. */
  knows(offset: number): boolean {
    return offset >= this.start && offset < this.end && this.appendedAts[offset - this.first] !== UNKNOWN;
  }

  /** The value at a known offset (see `knows`). */
  valueAt(offset: number): string | null {
    return this.values[offset - this.first];
  }

  /** The partition leader epoch at a known offset (see `knows`). */
  epochAt(offset: number): number {
    return this.epochs[offset - this.first];
  }

  /** Both mirrors know `offset` and hold the same record there (same leader epoch, same value). */
  sameRecord(offset: number, other: ReferenceReplicaMirror): boolean {
    const i = offset - this.first;
    const j = offset - other.first;
    return this.epochs[i] === other.epochs[j] && this.values[i] === other.values[j];
  }

  /** The record at `offset` as an object (evidence, tests), or undefined where the mirror knows none. */
  at(offset: number): MirrorRecord | undefined {
    if (!this.knows(offset)) return undefined;
    const i = offset - this.first;
    const value = this.values[i];
    const partitionLeaderEpoch = this.epochs[i];
    return { offset, id: `${partitionLeaderEpoch}|${value}`, value, partitionLeaderEpoch, appendedAt: this.appendedAts[i] };
  }

  /**
   * Appends a batch's records at their offsets. Kafka appends only at the log end; an append below it (which
   * the log never does) overwrites from there, and one above it leaves unknown offsets in between.
   */
  append(offsets: readonly number[], values: readonly (string | null)[], partitionLeaderEpoch: number, at: number): void {
    if (offsets.length === 0) return;
    if (offsets[0] < this.end) this.truncateTo(offsets[0]);
    for (let i = 0; i < offsets.length; i++) this.put(offsets[i], partitionLeaderEpoch, values[i] ?? null, at);
  }

  /** As `append`, reading the batch itself (the log-append's TRACE_RECORDS): no arrays. */
  appendRecords(records: TraceRecords, partitionLeaderEpoch: number, at: number): void {
    const count = records.recordCount;
    if (count === 0) return;
    const baseOffset = records.baseOffset;
    const first = baseOffset + records.offsetDeltaAt(0);
    if (first < this.end) this.truncateTo(first);
    for (let i = 0; i < count; i++) this.put(baseOffset + records.offsetDeltaAt(i), partitionLeaderEpoch, records.valueAt(i), at);
  }

  /** Drops every record at or after `offset` (Log.truncateTo, or the log end found by recovery). */
  truncateTo(offset: number): void {
    if (offset >= this.end) return;
    if (offset <= this.start) {
      // Log.truncateTo below the log start also moves the log start down to the target.
      this.startAt(offset);
      return;
    }
    this.end = offset;
  }

  /** Empty, starting at `offset` (Log.truncateFullyAndStartAt), with room for `capacity` slots. */
  startAt(offset: number, capacity = INITIAL_CAPACITY): void {
    this.first = offset;
    this.start = offset;
    this.end = offset;
    this.epochs = new Int32Array(capacity);
    this.appendedAts = new Float64Array(capacity).fill(UNKNOWN);
    this.values = nulls(capacity);
  }

  /**
   * The log as the broker loaded it from disk (log-loaded after an unclean shutdown): records from
   * `logStartOffset` up to `logEndOffset` (exclusive), as `batches` hold them. A record equal to the mirror's at
   * its offset keeps its `appendedAt`; one the mirror did not hold is stamped `at`. Returns the lowest offset at
   * or above the log start whose record changed (appeared, went or differs), or -1 when none did. Only called
   * at a broker's start, so it may allocate.
   */
  reload(logStartOffset: number, logEndOffset: number, batches: readonly LogLoadedBatch[], at: number): number {
    const end = Math.max(logStartOffset, logEndOffset);
    const loaded = new ReferenceReplicaMirror(this.node, this.topicPartition);
    // Sized at once (growing from the initial capacity, doubling, was most of a reload's cost).
    loaded.startAt(logStartOffset, Math.max(INITIAL_CAPACITY, end - logStartOffset));
    loaded.end = end;
    for (const [partitionLeaderEpoch, offsets, values] of batches) {
      for (let i = 0; i < offsets.length; i++) {
        const offset = offsets[i];
        if (offset < logStartOffset || offset >= end) continue;
        const value = values[i] ?? null;
        const kept = this.knows(offset) && this.epochAt(offset) === partitionLeaderEpoch && this.valueAt(offset) === value;
        loaded.set(offset, partitionLeaderEpoch, value, kept ? this.appendedAts[offset - this.first] : at);
      }
    }
    // An offset gap below the loaded log end: most likely compaction, which the mirror does not mirror.
    for (let offset = logStartOffset; offset < end; offset++) {
      if (!loaded.knows(offset) && this.knows(offset)) loaded.set(offset, this.epochAt(offset), this.valueAt(offset), this.appendedAts[offset - this.first]);
    }
    let changed = -1;
    const scanEnd = Math.max(end, this.end);
    for (let offset = logStartOffset; offset < scanEnd && changed < 0; offset++) {
      const before = this.knows(offset);
      if (loaded.knows(offset) !== before || (before && !loaded.sameRecord(offset, this))) changed = offset;
    }
    this.first = loaded.first;
    this.start = loaded.start;
    this.end = loaded.end;
    this.epochs = loaded.epochs;
    this.appendedAts = loaded.appendedAts;
    this.values = loaded.values;
    return changed;
  }

  /** The log start moved up (retention): records below it are gone. */
  advanceLogStart(offset: number): void {
    if (offset <= this.start) return;
    if (offset >= this.end) {
      this.startAt(offset);
      return;
    }
    this.start = offset;
    // Slots below the log start are dead: reclaim them once they are half the storage (amortised O(1)).
    if (this.start - this.first > this.epochs.length / 2) this.compact();
  }

  /** Writes the record at `offset` at the log end or above it (unknown offsets in between). */
  private put(offset: number, partitionLeaderEpoch: number, value: string | null, at: number): void {
    if (offset < this.first) {
      // Below every slot (an append below the log start, which Kafka never does): start afresh there.
      this.startAt(offset);
    }
    if (offset >= this.end) {
      this.ensure(offset + 1);
      // Offsets skipped between the old log end and this one are unknown (none skipped: the usual append).
      if (offset > this.end) this.appendedAts.fill(UNKNOWN, this.end - this.first, offset - this.first);
      this.end = offset + 1;
    }
    this.set(offset, partitionLeaderEpoch, value, at);
  }

  private set(offset: number, partitionLeaderEpoch: number, value: string | null, at: number): void {
    const i = offset - this.first;
    this.epochs[i] = partitionLeaderEpoch;
    this.appendedAts[i] = at;
    this.values[i] = value;
  }

  /** Room for slots up to (excluding) `endOffset`. */
  private ensure(endOffset: number): void {
    const needed = endOffset - this.first;
    if (needed <= this.epochs.length) return;
    let capacity = this.epochs.length;
    while (capacity < needed) capacity *= 2;
    const epochs = new Int32Array(capacity);
    epochs.set(this.epochs);
    const appendedAts = new Float64Array(capacity).fill(UNKNOWN);
    appendedAts.set(this.appendedAts);
    const values = this.values;
    for (let i = values.length; i < capacity; i++) values.push(null);
    this.epochs = epochs;
    this.appendedAts = appendedAts;
  }

  /** Moves the live slots [start, end) to slot 0. */
  private compact(): void {
    const shift = this.start - this.first;
    const live = this.end - this.start;
    this.epochs.copyWithin(0, shift, shift + live);
    this.appendedAts.copyWithin(0, shift, shift + live);
    const values = this.values;
    for (let i = 0; i < live; i++) values[i] = values[i + shift];
    // Dead slots drop their values (the model's retention freed them too).
    for (let i = live; i < values.length; i++) values[i] = null;
    this.appendedAts.fill(UNKNOWN, live);
    this.first = this.start;
  }
}

/**
 * `capacity` nulls in a packed array (pushed: `new Array(n)` makes a holey array, and a large one a dictionary —
 * slow elements for every later read and write).
 */
function nulls(capacity: number): (string | null)[] {
  const values: (string | null)[] = [];
  for (let i = 0; i < capacity; i++) values.push(null);
  return values;
}
