/**
 * LeaderEpochFileCache (KIP-101, KIP-279): the (leader epoch, start offset) pairs of one partition replica,
 * persisted to its `leader-epoch-checkpoint` after every change. Followers truncate by asking the leader for the
 * end offset of their latest epoch; the answer comes from here. Simplification: the checkpoint write is
 * asynchronous (tmp, fsync, rename — see checkpoint.ts), where Kafka blocks on it.
 */

import type { DiskError } from "../../disk/disk.ts";
import { assert } from "../../sim/assert.ts";
import type { CheckpointFile, EpochEntry } from "./checkpoint.ts";

export type { EpochEntry } from "./checkpoint.ts";

/** RecordBatch.NO_PARTITION_LEADER_EPOCH / OffsetsForLeaderEpoch's UNDEFINED_EPOCH. */
export const UNDEFINED_EPOCH = -1;
/** OffsetsForLeaderEpochResponse.UNDEFINED_EPOCH_OFFSET. */
export const UNDEFINED_EPOCH_OFFSET = -1;

export interface EpochEndOffset {
  /** The largest epoch <= the requested one that the cache knows (KIP-279), or UNDEFINED_EPOCH. */
  epoch: number;
  /** That epoch's end offset: the next epoch's start offset, or the log end offset for the latest epoch. */
  endOffset: number;
}

export class LeaderEpochFileCache {
  /** Sorted by epoch, and then (an invariant) by start offset. */
  private epochs: EpochEntry[];

  constructor(
    /** Where changes are persisted; null for a cache that is never written (tests, scratch copies). */
    private readonly checkpoint: CheckpointFile<EpochEntry> | null,
    entries: readonly EpochEntry[] = [],
  ) {
    this.epochs = entries.slice();
    for (let i = 1; i < this.epochs.length; i++) {
      assert(this.epochs[i].epoch > this.epochs[i - 1].epoch, "leader epoch checkpoint entries must increase by epoch");
      assert(this.epochs[i].startOffset >= this.epochs[i - 1].startOffset, "leader epoch start offsets must not decrease");
    }
  }

  /**
   * Records that `epoch` starts at `startOffset`. A no-op for the latest epoch at the same or a later offset;
   * otherwise entries with an epoch >= `epoch` or a start offset >= `startOffset` are removed first (Kafka's
   * maybeTruncateNonMonotonicEntries), so the cache stays increasing in both. Returns whether it changed.
   */
  assign(epoch: number, startOffset: number): boolean {
    assert(Number.isInteger(epoch) && epoch >= 0, "assigned leader epoch must be a non-negative integer");
    assert(Number.isInteger(startOffset) && startOffset >= 0, "leader epoch start offset must be a non-negative integer");
    const latest = this.latestEntry();
    if (latest !== null && latest.epoch === epoch && latest.startOffset <= startOffset) return false;
    let keep = this.epochs.length;
    while (keep > 0 && (this.epochs[keep - 1].epoch >= epoch || this.epochs[keep - 1].startOffset >= startOffset)) keep--;
    this.epochs.length = keep;
    this.epochs.push({ epoch, startOffset });
    this.flush();
    return true;
  }

  latestEpoch(): number {
    const latest = this.latestEntry();
    return latest === null ? UNDEFINED_EPOCH : latest.epoch;
  }

  latestEntry(): EpochEntry | null {
    return this.epochs.length === 0 ? null : this.epochs[this.epochs.length - 1];
  }

  earliestEntry(): EpochEntry | null {
    return this.epochs.length === 0 ? null : this.epochs[0];
  }

  entries(): readonly EpochEntry[] {
    return this.epochs;
  }

  /**
   * KIP-279's endOffsetFor: for the latest epoch the log end offset; otherwise the largest known epoch <=
   * `requestedEpoch` and the start offset of the first epoch after it; for an epoch below every known one,
   * the requested epoch and the first known start offset (KAFKA-7415, 2.1+; with `undefinedBelowFirst`, 2.0.0's
   * LeaderEpochFileCache.endOffsetFor: UNDEFINED); UNDEFINED for UNDEFINED_EPOCH or an epoch above all.
   */
  endOffsetFor(requestedEpoch: number, logEndOffset: number, undefinedBelowFirst = false): EpochEndOffset {
    if (requestedEpoch === UNDEFINED_EPOCH) return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (this.epochs.length > 0 && this.latestEpoch() === requestedEpoch) return { epoch: requestedEpoch, endOffset: logEndOffset };
    const higher = this.firstIndexAbove(requestedEpoch);
    if (higher === this.epochs.length) return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (higher === 0) {
      if (undefinedBelowFirst) return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
      return { epoch: requestedEpoch, endOffset: this.epochs[0].startOffset };
    }
    return { epoch: this.epochs[higher - 1].epoch, endOffset: this.epochs[higher].startOffset };
  }

  /**
   * KIP-101's endOffsetFor (0.11 to 1.1): the log end offset for the latest epoch; the start offset of the first
   * epoch after `requestedEpoch`; UNDEFINED_EPOCH_OFFSET when the epoch is below every known one or above all.
   * It does not say which epoch the answer belongs to — the gap KIP-279 closed.
   */
  endOffsetForKip101(requestedEpoch: number, logEndOffset: number): number {
    if (requestedEpoch === UNDEFINED_EPOCH) return UNDEFINED_EPOCH_OFFSET;
    if (this.epochs.length > 0 && this.latestEpoch() === requestedEpoch) return logEndOffset;
    const higher = this.firstIndexAbove(requestedEpoch);
    if (higher === this.epochs.length || higher === 0) return UNDEFINED_EPOCH_OFFSET;
    return this.epochs[higher].startOffset;
  }

  /** The epoch of the leader that wrote `offset`: the last entry starting at or before it (UNDEFINED if none). */
  epochForOffset(offset: number): number {
    let epoch = UNDEFINED_EPOCH;
    for (const entry of this.epochs) {
      if (entry.startOffset > offset) break;
      epoch = entry.epoch;
    }
    return epoch;
  }

  /** Removes the entries starting at or after `endOffset` (the log was truncated to it). */
  truncateFromEnd(endOffset: number): void {
    const latest = this.latestEntry();
    if (endOffset < 0 || latest === null || latest.startOffset < endOffset) return;
    let keep = this.epochs.length;
    while (keep > 0 && this.epochs[keep - 1].startOffset >= endOffset) keep--;
    this.epochs.length = keep;
    this.flush();
  }

  /**
   * The log start offset moved to `startOffset`: entries starting at or before it go, and the last of them is
   * kept with its start moved up to `startOffset` (its epoch still covers the new first offset).
   */
  truncateFromStart(startOffset: number): void {
    let removed = 0;
    while (removed < this.epochs.length && this.epochs[removed].startOffset <= startOffset) removed++;
    if (removed === 0) return;
    const kept: EpochEntry = { epoch: this.epochs[removed - 1].epoch, startOffset };
    this.epochs = [kept, ...this.epochs.slice(removed)];
    this.flush();
  }

  /** Empties the cache (the log was truncated fully). */
  clearAndFlush(): void {
    this.epochs = [];
    this.flush();
  }

  /** Writes the checkpoint at once (a clean shutdown); null when there is no checkpoint file. */
  writeNow(): DiskError | null {
    return this.checkpoint === null ? null : this.checkpoint.writeNow(this.epochs.slice());
  }

  /** Stops persisting: a write still in flight does not complete (the log was deleted). */
  close(): void {
    this.checkpoint?.close();
  }

  private firstIndexAbove(epoch: number): number {
    let lo = 0;
    let hi = this.epochs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.epochs[mid].epoch > epoch) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  private flush(): void {
    this.checkpoint?.write(this.epochs.slice());
  }
}
