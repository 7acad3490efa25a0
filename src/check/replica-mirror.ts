/**
 * A checker's mirror of one replica's log (one broker's copy of one partition), rebuilt only from the log-level
 * trace events: log-append, log-truncate, log-recovery, log-loaded, log-retention-delete and log-delete. It models
 * no Kafka component; it is the replication checkers' view of what each disk holds. A record is identified by
 * its partition leader epoch and value (workload values are unique per record), so two replicas agree at an
 * offset when they hold the same value appended under the same leader epoch. After an unclean shutdown the
 * mirror is resynchronised from the content the broker loaded (log-loaded's `batches`): a power loss may have
 * dropped unsynced appends or brought back records whose truncation never reached the disk, which no other event
 * says. Simplifications: compaction is not mirrored (records a cleaner removed stay in the mirror, also across a
 * reload: an offset gap in the loaded log keeps the mirror's record there, so a gap a power loss left — an old
 * segment's lost tail — is not mirrored either), and records below the log start offset are dropped.
 *
 * Storage is columnar (one slot per offset: the epoch and append time in typed arrays, the value shared with
 * the trace event), because every replica of every record is mirrored for the whole run: a record object and
 * an id string per replica and record were most of the checkers' heap. `at` builds a MirrorRecord on demand
 * for evidence; the checks compare slots with `knows` and `sameRecord`.
 */

import type { LogLoadedBatch, TraceRecords } from "../sim/trace.ts";

export interface MirrorRecord {
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

export class ReplicaMirror {
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
  sameRecord(offset: number, other: ReplicaMirror): boolean {
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
    // A batch's offset deltas rise (DefaultRecordBatch), so its last offset bounds the slots: room made once per
    // batch, then each record is written in place (the per-record put, with its checks, was most of an append).
    if (first < this.first) this.startAt(first);
    this.ensure(baseOffset + records.offsetDeltaAt(count - 1) + 1);
    const slot0 = this.first;
    const epochs = this.epochs;
    const appendedAts = this.appendedAts;
    const values = this.values;
    let end = this.end;
    for (let i = 0; i < count; i++) {
      const offset = baseOffset + records.offsetDeltaAt(i);
      // Offsets skipped between the log end and this one are unknown (none skipped: the usual append).
      if (offset > end) appendedAts.fill(UNKNOWN, end - slot0, offset - slot0);
      if (offset >= end) end = offset + 1;
      const slot = offset - slot0;
      epochs[slot] = partitionLeaderEpoch;
      appendedAts[slot] = at;
      values[slot] = records.valueAt(i);
    }
    this.end = end;
  }

  /**
   * The first offset in [from, to) that both mirrors know and where their records differ, or -1. The caller
   * keeps [from, to) inside both mirrors' [logStartOffset, logEndOffset): then `knows` is the slot's appendedAt
   * alone, and the loop reads the columns directly (the StrongIsr check compares every committed record once per
   * ISR member).
   */
  firstDifference(other: ReplicaMirror, from: number, to: number): number {
    const ownFirst = this.first;
    const otherFirst = other.first;
    const ownEpochs = this.epochs;
    const otherEpochs = other.epochs;
    const ownAppendedAts = this.appendedAts;
    const otherAppendedAts = other.appendedAts;
    const ownValues = this.values;
    const otherValues = other.values;
    for (let offset = from; offset < to; offset++) {
      const i = offset - ownFirst;
      const j = offset - otherFirst;
      if (ownAppendedAts[i] === UNKNOWN || otherAppendedAts[j] === UNKNOWN) continue;
      if (ownEpochs[i] !== otherEpochs[j] || ownValues[i] !== otherValues[j]) return offset;
    }
    return -1;
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
    if (this.holdsAll(logStartOffset, end, batches)) return this.narrowTo(logStartOffset, end);
    const loaded = new ReplicaMirror(this.node, this.topicPartition);
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

  /**
   * True when every loaded record in [logStartOffset, end) is the mirror's record at its offset and the mirror's
   * slots cover that range (the usual case: recovery only cut the tail, which log-recovery already said). Then
   * the rebuilt mirror would be this one cut to [logStartOffset, end): `narrowTo` makes it so in place, without
   * the copy a rebuild allocates.
   */
  private holdsAll(logStartOffset: number, end: number, batches: readonly LogLoadedBatch[]): boolean {
    if (logStartOffset < this.first) return false;
    for (let b = 0; b < batches.length; b++) {
      const [partitionLeaderEpoch, offsets, values] = batches[b];
      for (let i = 0; i < offsets.length; i++) {
        const offset = offsets[i];
        if (offset < logStartOffset || offset >= end) continue;
        if (!this.knows(offset) || this.epochAt(offset) !== partitionLeaderEpoch || this.valueAt(offset) !== (values[i] ?? null)) return false;
      }
    }
    return true;
  }

  /**
   * `reload`'s answer when the loaded records are all the mirror's (holdsAll): the mirror becomes [logStartOffset,
   * end), unknown where it held nothing; the lowest offset it held at or above `end`, if any, is the change.
   */
  private narrowTo(logStartOffset: number, end: number): number {
    let changed = -1;
    for (let offset = Math.max(end, this.start); offset < this.end && changed < 0; offset++) if (this.knows(offset)) changed = offset;
    // Below the old log start the mirror held nothing: those slots become unknown ones of the loaded log.
    if (logStartOffset < this.start) this.appendedAts.fill(UNKNOWN, logStartOffset - this.first, Math.min(this.start, end) - this.first);
    if (end > this.end) {
      this.ensure(end);
      this.appendedAts.fill(UNKNOWN, Math.max(this.end, logStartOffset) - this.first, end - this.first);
    }
    this.start = logStartOffset;
    this.end = end;
    if (this.start - this.first > this.epochs.length / 2) this.compact();
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
