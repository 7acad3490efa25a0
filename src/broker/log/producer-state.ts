/**
 * The hook through which the log keeps producer state (ProducerStateManager: idempotent-producer dedup and
 * transactions) in step with its content. The log layer only calls it; ../idempotence/producer-state-manager.ts
 * implements it, and the LogManager attaches one to every log it loads or creates. Simplification: no
 * producer-state snapshots — `rebuild` replays the whole log.
 */

import type { RecordBatch } from "./records.ts";

/**
 * The leader's verdict on a client's batch before it is appended (UnifiedLog.analyzeAndValidateProducerState
 * with AppendOrigin.Client): append it, answer with the offsets of the copy already in the log (a retry of one
 * of the producer's last five batches), or refuse it.
 */
export type LeaderAppendCheck =
  | { readonly kind: "append" }
  | { readonly kind: "duplicate"; readonly firstOffset: number; readonly lastOffset: number }
  | { readonly kind: "error"; readonly error: "OUT_OF_ORDER_SEQUENCE_NUMBER" | "INVALID_PRODUCER_EPOCH" | "INVALID_TXN_STATE" | "TRANSACTION_COORDINATOR_FENCED" };

/** AbortedTxn (the .txnindex entry): an aborted transaction's first and last (marker) offsets, and the LSO then. */
export interface AbortedTxn {
  readonly producerId: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly lastStableOffset: number;
}

export const APPEND: LeaderAppendCheck = Object.freeze({ kind: "append" });

/**
 * AppendOrigin of a leader append: a client's Produce, or a coordinator's own write (the group coordinator's
 * transactional offset commits, the markers): only a client's batch is checked for duplicates and sequence.
 */
export type AppendOrigin = "CLIENT" | "COORDINATOR";

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
  /** The leader's check of a batch (producerId ≥ 0) before appendAsLeader; changes no state. Origin: CLIENT. */
  checkLeaderAppend(batch: RecordBatch, origin?: AppendOrigin): LeaderAppendCheck;
  /**
   * ProducerStateManager.firstUnstableOffset after onHighWatermarkUpdated(highWatermark): the first offset of the
   * earliest ongoing transaction, or of a completed one whose marker is not below the high watermark yet; null
   * when none.
   */
  firstUnstableOffset(highWatermark: number): number | null;
  /** Whether the log ever held a transactional batch (since it was loaded): only then is the LSO traced. */
  readonly hasTransactions: boolean;
  /**
   * UnifiedLog.collectAbortedTransactions (TransactionIndex.collectAbortedTxns over the segments): the aborted
   * transactions overlapping [startOffset, upperBoundOffset): lastOffset >= startOffset and firstOffset < upper.
   */
  collectAbortedTransactions(startOffset: number, upperBoundOffset: number): AbortedTxn[];
}

/** The default: the log keeps no producer state (and accepts every batch). */
export const NO_PRODUCER_STATE: ProducerStateHooks = Object.freeze({
  onBatchAppended() {},
  onTruncate() {},
  rebuild() {},
  checkLeaderAppend: () => APPEND,
  firstUnstableOffset: () => null,
  hasTransactions: false,
  collectAbortedTransactions: () => [],
});
