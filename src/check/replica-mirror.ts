/**
 * A checker's mirror of one replica's log (one broker's copy of one partition), rebuilt only from the log-level
 * trace events: log-append, log-truncate, log-recovery, log-loaded, log-retention-delete and log-delete. It models
 * no Kafka component; it is the replication checkers' view of what each disk holds. A record is identified by
 * `${partitionLeaderEpoch}|${value}` (workload values are unique per record), so two replicas agree at an
 * offset when they hold the same value appended under the same leader epoch. After an unclean shutdown the
 * mirror is resynchronised from the content the broker loaded (log-loaded's `batches`): a power loss may have
 * dropped unsynced appends or brought back records whose truncation never reached the disk, which no other event
 * says. Simplifications: compaction is not mirrored (records a cleaner removed stay in the mirror, also across a
 * reload: an offset gap in the loaded log keeps the mirror's record there, so a gap a power loss left — an old
 * segment's lost tail — is not mirrored either), and records below the log start offset are dropped.
 */

import type { LogLoadedBatch } from "../sim/trace.ts";

export interface MirrorRecord {
  readonly offset: number;
  /** `${partitionLeaderEpoch}|${value}`. */
  readonly id: string;
  readonly value: string | null;
  readonly partitionLeaderEpoch: number;
  /** Virtual µs of the append on this replica. */
  readonly appendedAt: number;
}

export class ReplicaMirror {
  /** The first offset this mirror may hold (its log start offset). */
  private base = 0;
  /** records[i] is the record at offset base + i; undefined where the mirror does not know it. */
  private records: (MirrorRecord | undefined)[] = [];

  constructor(
    readonly node: string,
    readonly topicPartition: string,
  ) {}

  get logStartOffset(): number {
    return this.base;
  }

  get logEndOffset(): number {
    return this.base + this.records.length;
  }

  at(offset: number): MirrorRecord | undefined {
    if (offset < this.base) return undefined;
    return this.records[offset - this.base];
  }

  /**
   * Appends a batch's records at their offsets. Kafka appends only at the log end; an append below it (which
   * the log never does) overwrites from there, and one above it leaves unknown offsets in between.
   */
  append(offsets: readonly number[], values: readonly (string | null)[], partitionLeaderEpoch: number, at: number): void {
    if (offsets.length === 0) return;
    if (offsets[0] < this.logEndOffset) this.truncateTo(offsets[0]);
    for (let i = 0; i < offsets.length; i++) {
      const offset = offsets[i];
      const value = values[i] ?? null;
      while (this.logEndOffset < offset) this.records.push(undefined);
      this.records[offset - this.base] = { offset, id: `${partitionLeaderEpoch}|${value}`, value, partitionLeaderEpoch, appendedAt: at };
    }
  }

  /** Drops every record at or after `offset` (Log.truncateTo, or the log end found by recovery). */
  truncateTo(offset: number): void {
    if (offset >= this.logEndOffset) return;
    if (offset <= this.base) {
      // Log.truncateTo below the log start also moves the log start down to the target.
      this.startAt(offset);
      return;
    }
    this.records.length = offset - this.base;
  }

  /** Empty, starting at `offset` (Log.truncateFullyAndStartAt). */
  startAt(offset: number): void {
    this.base = offset;
    this.records = [];
  }

  /**
   * The log as the broker loaded it from disk (log-loaded after an unclean shutdown): records from
   * `logStartOffset` up to `logEndOffset` (exclusive), as `batches` hold them. A record equal to the mirror's at
   * its offset stays the same object (its `appendedAt` is kept); one the mirror did not hold is stamped `at`.
   * Returns the lowest offset at or above the log start whose record changed (appeared, went or differs), or
   * -1 when none did. Only called at a broker's start, so it may allocate.
   */
  reload(logStartOffset: number, logEndOffset: number, batches: readonly LogLoadedBatch[], at: number): number {
    const end = Math.max(logStartOffset, logEndOffset);
    const records: (MirrorRecord | undefined)[] = new Array<MirrorRecord | undefined>(end - logStartOffset).fill(undefined);
    for (const [partitionLeaderEpoch, offsets, values] of batches) {
      for (let i = 0; i < offsets.length; i++) {
        const offset = offsets[i];
        if (offset < logStartOffset || offset >= end) continue;
        const value = values[i] ?? null;
        const id = `${partitionLeaderEpoch}|${value}`;
        const mirrored = this.at(offset);
        records[offset - logStartOffset] = mirrored !== undefined && mirrored.id === id ? mirrored : { offset, id, value, partitionLeaderEpoch, appendedAt: at };
      }
    }
    // An offset gap below the loaded log end: most likely compaction, which the mirror does not mirror.
    for (let i = 0; i < records.length; i++) records[i] ??= this.at(logStartOffset + i);
    let changed = -1;
    const scanEnd = Math.max(end, this.logEndOffset);
    for (let offset = logStartOffset; offset < scanEnd && changed < 0; offset++) {
      const loaded = offset < end ? records[offset - logStartOffset] : undefined;
      if (loaded !== this.at(offset)) changed = offset;
    }
    this.base = logStartOffset;
    this.records = records;
    return changed;
  }

  /** The log start moved up (retention): records below it are gone. */
  advanceLogStart(offset: number): void {
    if (offset <= this.base) return;
    if (offset >= this.logEndOffset) {
      this.startAt(offset);
      return;
    }
    this.records = this.records.slice(offset - this.base);
    this.base = offset;
  }
}
