/**
 * A segment's sparse indexes, as OffsetIndex and TimeIndex keep them: an offset-index entry maps the last offset
 * of a batch to the batch's position (here: its chunk number in the segment file, plus its byte position), one
 * entry per `index.interval.bytes`; a time-index entry maps the largest timestamp so far to its offset.
 * Simplification: the `.index` and `.timeindex` files are not modelled — the indexes live in memory and are
 * rebuilt from the segment file whenever a segment is loaded (Kafka rebuilds them when missing or recovered).
 */

import { assert } from "../../sim/assert.ts";

/** OffsetIndex entries are 8 bytes; TimeIndex entries 12 (their maxEntries come from segment.index.bytes). */
export const OFFSET_INDEX_ENTRY_BYTES = 8;
export const TIME_INDEX_ENTRY_BYTES = 12;

/** Where a batch starts in its segment file. */
export interface IndexPosition {
  /** Chunk number of the batch in the segment file. */
  chunk: number;
  /** Bytes before it in the file. */
  bytePosition: number;
}

export class OffsetIndex {
  private readonly offsets: number[] = [];
  private readonly chunks: number[] = [];
  private readonly bytePositions: number[] = [];

  constructor(readonly maxEntries: number) {}

  get entries(): number {
    return this.offsets.length;
  }

  isFull(): boolean {
    return this.offsets.length >= this.maxEntries;
  }

  /** Adds (offset → position); offsets must increase (Kafka throws InvalidOffsetException otherwise). */
  append(offset: number, chunk: number, bytePosition: number): void {
    const n = this.offsets.length;
    assert(n === 0 || offset > this.offsets[n - 1], "offset index entries must increase");
    assert(n === 0 || chunk > this.chunks[n - 1], "offset index positions must increase");
    this.offsets.push(offset);
    this.chunks.push(chunk);
    this.bytePositions.push(bytePosition);
  }

  /** The position of the largest indexed offset <= `target`, or the file start when there is none. */
  lookup(target: number): IndexPosition {
    const i = this.largestLowerBound(target);
    return i < 0 ? { chunk: 0, bytePosition: 0 } : { chunk: this.chunks[i], bytePosition: this.bytePositions[i] };
  }

  /** The last entry's offset, or -1 when empty. */
  lastOffset(): number {
    return this.offsets.length === 0 ? -1 : this.offsets[this.offsets.length - 1];
  }

  /** Removes the entries with an offset >= `offset`. */
  truncateTo(offset: number): void {
    const keep = this.largestLowerBound(offset - 1) + 1;
    this.offsets.length = keep;
    this.chunks.length = keep;
    this.bytePositions.length = keep;
  }

  private largestLowerBound(target: number): number {
    let lo = 0;
    let hi = this.offsets.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.offsets[mid] <= target) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }
}

export class TimeIndex {
  private readonly timestamps: number[] = [];
  private readonly offsets: number[] = [];

  constructor(readonly maxEntries: number) {}

  get entries(): number {
    return this.timestamps.length;
  }

  isFull(): boolean {
    return this.timestamps.length >= this.maxEntries;
  }

  /** Appends (timestamp, offset) if the timestamp is larger than the last entry's (TimeIndex.maybeAppend). */
  maybeAppend(timestamp: number, offset: number): void {
    const n = this.timestamps.length;
    if (n > 0 && timestamp <= this.timestamps[n - 1]) return;
    if (n === 0 && timestamp < 0) return;
    assert(n === 0 || offset >= this.offsets[n - 1], "time index offsets must not decrease");
    this.timestamps.push(timestamp);
    this.offsets.push(offset);
  }

  /** The last entry, or (-1, baseOffset) when empty (TimeIndex.lastEntry). */
  lastEntry(baseOffset: number): { timestamp: number; offset: number } {
    const n = this.timestamps.length;
    return n === 0 ? { timestamp: -1, offset: baseOffset } : { timestamp: this.timestamps[n - 1], offset: this.offsets[n - 1] };
  }

  /** Removes the entries with an offset >= `offset`. */
  truncateTo(offset: number): void {
    let keep = this.offsets.length;
    while (keep > 0 && this.offsets[keep - 1] >= offset) keep--;
    this.timestamps.length = keep;
    this.offsets.length = keep;
  }
}
