/**
 * The hook through which the log keeps producer state (ProducerStateManager: idempotent-producer dedup and
 * transactions) in step with its content. The log layer only calls it; the idempotence and transactions issue
 * implements it. Simplification: no producer-state snapshots — `rebuild` replays the whole log.
 */

import type { RecordBatch } from "./records.ts";

export interface ProducerStateHooks {
  /** A batch was appended (as leader, with its assigned offsets and epoch, or as follower). */
  onBatchAppended(batch: RecordBatch): void;
  /** The log was truncated: every batch at or after `offset` is gone (truncateTo, truncateFullyAndStartAt). */
  onTruncate(offset: number): void;
  /**
   * Rebuild from scratch from the log's batches, from the log start offset to the end (called when the hooks
   * are attached to a loaded log). The iterable reads the disk lazily; iterate it at most once, synchronously.
   */
  rebuild(batches: Iterable<RecordBatch>): void;
}

/** The default: the log keeps no producer state. */
export const NO_PRODUCER_STATE: ProducerStateHooks = Object.freeze({
  onBatchAppended() {},
  onTruncate() {},
  rebuild() {},
});
