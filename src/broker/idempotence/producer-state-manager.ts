/**
 * A partition log's ProducerStateManager (Kafka 3.x, idempotence part): per producerId its epoch and its last
 * five batches, updated by every append (leader and follower alike: followers copy, never validate), consulted
 * by the leader before it appends a client's batch (ProducerStateHooks.checkLeaderAppend).
 * Simplifications, each with the same observable outcome for idempotent producers:
 * - No snapshots (.snapshot files): when a log is loaded the state is rebuilt by replaying every batch from the
 *   log start offset (Kafka replays from its latest snapshot), so crash recovery restores dedup for every
 *   producer that still has a batch in the log.
 * - Truncation rebuilds from what remains of the log (Kafka reloads the latest snapshot below the truncation
 *   point and replays); when no producer has a batch at or past the truncation point nothing changes.
 * - Retention moving the log start offset keeps the in-memory entries, as 3.x does (onLogStartOffsetIncremented
 *   drops nothing); producer.id.expiration.ms (1 day) is not modelled — no simulated run lasts that long.
 * Transactions (ProducerStateManager 3.6): a producer's first transactional batch opens `ongoingTxns[firstOffset]`;
 * its marker (appendEndTxnMarker) completes it, moving it to `unreplicatedTxns` until the high watermark passes the
 * marker (onHighWatermarkUpdated), and an ABORT appends AbortedTxn(pid, first, last, lastStableOffset) to the
 * aborted-transaction index (the .txnindex files). firstUnstableOffset = the earliest of both maps.
 * - The aborted-transaction index is kept in memory, one list per log rather than one file per segment, rebuilt
 *   with the rest of the state on load and truncation (Kafka's LogLoader rebuilds .txnindex from the segments it
 *   recovers the same way); retention does not trim it (entries below the log start are never asked for).
 * KIP-890 part 1 (3.6): `verificationStates` by producerId (ProducerStateManager.verificationStates), created by
 * the leader before a producer's first transactional append here and cleared by any transactional batch of the
 * producer (UnifiedLog.updateProducers); see verification-state-entry.ts.
 */

import type { AbortedTxn, AppendOrigin, LeaderAppendCheck, ProducerStateHooks } from "../log/producer-state.ts";
import { APPEND } from "../log/producer-state.ts";
import type { LogContext } from "../log/context.ts";
import { assert } from "../../sim/assert.ts";
import { lastOffset, markerCoordinatorEpoch, NO_PRODUCER_ID, type RecordBatch } from "../log/records.ts";
import { checkEndTxnMarker, checkLeaderAppend, ProducerStateEntry } from "./producer-state-entry.ts";
import { VerificationStateEntry, type VerificationGuard } from "./verification-state-entry.ts";

/** TxnMetadata: a transaction on this partition; lastOffset (the marker's) once completed, else -1. */
export interface TxnMetadata {
  readonly producerId: number;
  readonly firstOffset: number;
  lastOffset: number;
}

/** What the manager reads of its log to rebuild after a truncation. */
export interface ProducerStateSource {
  readonly logStartOffset: number;
  batchesFrom(offset: number): Iterable<RecordBatch>;
}

export class ProducerStateManager implements ProducerStateHooks {
  /** By producerId, in first-seen order. */
  readonly producers = new Map<number, ProducerStateEntry>();
  /** Open transactions by first offset; appends come in offset order, so the map's order is ascending. */
  readonly ongoingTxns = new Map<number, TxnMetadata>();
  /** Completed transactions whose marker is not yet below the high watermark, by first offset. */
  readonly unreplicatedTxns = new Map<number, TxnMetadata>();
  /** The aborted-transaction index, in marker order. */
  readonly abortedTxns: AbortedTxn[] = [];
  hasTransactions = false;
  /** KIP-890 part 1: the pending transaction verifications, by producerId. */
  readonly verificationStates = new Map<number, VerificationStateEntry>();

  constructor(
    readonly topicPartition: string,
    private readonly source: ProducerStateSource,
    private readonly context: LogContext | null = null,
  ) {}

  lastEntry(producerId: number): ProducerStateEntry | undefined {
    return this.producers.get(producerId);
  }

  checkLeaderAppend(batch: RecordBatch, origin: AppendOrigin = "CLIENT"): LeaderAppendCheck {
    if (batch.producerId === NO_PRODUCER_ID) return APPEND;
    if (batch.isControl) return checkEndTxnMarker(this.producers.get(batch.producerId), batch);
    return checkLeaderAppend(this.producers.get(batch.producerId), batch, this.verificationStates.get(batch.producerId), origin);
  }

  /** UnifiedLog.hasOngoingTransaction: the producer has an open transaction on this partition. */
  hasOngoingTransaction(producerId: number): boolean {
    const entry = this.producers.get(producerId);
    return entry !== undefined && entry.currentTxnFirstOffset >= 0;
  }

  /**
   * UnifiedLog.maybeStartTransactionVerification: null when the producer's transaction is already open here
   * (nothing to verify), else the guard of its verification state (created now, or the pending one with its
   * lowest sequence and epoch updated: maybeCreateVerificationStateEntry).
   */
  maybeStartTransactionVerification(producerId: number, sequence: number, epoch: number, nowMs: number): VerificationGuard | null {
    if (this.hasOngoingTransaction(producerId)) return null;
    let entry = this.verificationStates.get(producerId);
    if (entry === undefined) {
      entry = new VerificationStateEntry(nowMs, sequence, epoch);
      this.verificationStates.set(producerId, entry);
    }
    entry.maybeUpdateLowestSequenceAndEpoch(sequence, epoch);
    return entry.verificationGuard;
  }

  /** UnifiedLog.verificationGuard: the pending verification's guard, or null. */
  verificationGuard(producerId: number): VerificationGuard | null {
    return this.verificationStates.get(producerId)?.verificationGuard ?? null;
  }

  firstUnstableOffset(highWatermark: number): number | null {
    // onHighWatermarkUpdated → removeUnreplicatedTransactions: completed below the high watermark.
    for (const [firstOffset, txn] of this.unreplicatedTxns) if (txn.lastOffset < highWatermark) this.unreplicatedTxns.delete(firstOffset);
    let first: number | null = null;
    for (const firstOffset of this.ongoingTxns.keys()) {
      first = firstOffset;
      break;
    }
    for (const firstOffset of this.unreplicatedTxns.keys()) if (first === null || firstOffset < first) first = firstOffset;
    return first;
  }

  collectAbortedTransactions(startOffset: number, upperBoundOffset: number): AbortedTxn[] {
    return this.abortedTxns.filter((txn) => txn.lastOffset >= startOffset && txn.firstOffset < upperBoundOffset);
  }

  onBatchAppended(batch: RecordBatch): void {
    if (batch.producerId === NO_PRODUCER_ID) return;
    let entry = this.producers.get(batch.producerId);
    if (entry === undefined) {
      entry = new ProducerStateEntry(batch.producerId);
      this.producers.set(batch.producerId, entry);
    }
    // updateProducers: a data batch of the transaction or its marker ends the verification (clearVerificationStateEntry).
    if (batch.isTransactional) this.verificationStates.delete(batch.producerId);
    if (batch.isControl) this.appendEndTxnMarker(entry, batch);
    else {
      entry.addBatch(batch);
      if (batch.isTransactional && entry.currentTxnFirstOffset < 0) {
        // appendDataBatch: the producer's first transactional batch here begins a transaction.
        entry.currentTxnFirstOffset = batch.baseOffset;
        this.ongoingTxns.set(batch.baseOffset, { producerId: batch.producerId, firstOffset: batch.baseOffset, lastOffset: -1 });
        this.hasTransactions = true;
      }
    }
    entry.lastAppendedOffset = lastOffset(batch);
  }

  /**
   * appendEndTxnMarker, then completeTxn: a marker of a non-empty transaction completes it (an ABORT goes to the
   * index with lastStableOffset(completedTxn): the first other producer's open transaction, else just past the
   * marker); every marker moves the epoch and records the coordinator epoch.
   */
  private appendEndTxnMarker(entry: ProducerStateEntry, batch: RecordBatch): void {
    const firstOffset = entry.currentTxnFirstOffset;
    entry.maybeUpdateProducerEpoch(batch.producerEpoch);
    entry.currentTxnFirstOffset = -1;
    entry.coordinatorEpoch = markerCoordinatorEpoch(batch);
    entry.lastTimestamp = batch.maxTimestamp;
    if (firstOffset < 0) return;
    const txn = this.ongoingTxns.get(firstOffset);
    assert(txn !== undefined && txn.producerId === batch.producerId, "a marker completes a transaction that was started");
    txn.lastOffset = lastOffset(batch);
    if (batch.controlType === "ABORT") {
      let lastStableOffset = txn.lastOffset + 1;
      for (const other of this.ongoingTxns.values()) {
        if (other.producerId !== txn.producerId) {
          lastStableOffset = other.firstOffset;
          break;
        }
      }
      this.abortedTxns.push({ producerId: txn.producerId, firstOffset, lastOffset: txn.lastOffset, lastStableOffset });
    }
    this.ongoingTxns.delete(firstOffset);
    this.unreplicatedTxns.set(firstOffset, txn);
    this.hasTransactions = true;
  }

  onTruncate(offset: number): void {
    if (this.producers.size === 0) return;
    let affected = false;
    for (const entry of this.producers.values()) if (entry.lastAppendedOffset >= offset) affected = true;
    // truncateFullyAndStartAt may start past every batch: then the log is empty and so is the state.
    if (!affected && !this.logIsEmpty()) return;
    this.replay(this.source.batchesFrom(this.source.logStartOffset), "truncate", offset);
  }

  private logIsEmpty(): boolean {
    return this.source.batchesFrom(this.source.logStartOffset)[Symbol.iterator]().next().done === true;
  }

  rebuild(batches: Iterable<RecordBatch>): void {
    this.replay(batches, "load", -1);
  }

  private replay(batches: Iterable<RecordBatch>, reason: "load" | "truncate", offset: number): void {
    this.producers.clear();
    this.ongoingTxns.clear();
    this.unreplicatedTxns.clear();
    this.abortedTxns.length = 0;
    let replayed = 0;
    for (const batch of batches) {
      if (reason === "truncate" && batch.baseOffset >= offset) break;
      this.onBatchAppended(batch);
      replayed++;
    }
    const context = this.context;
    if (context !== null && context.tracing && (this.producers.size > 0 || reason === "truncate")) {
      context.trace("producer-state-rebuild", { topicPartition: this.topicPartition, reason, batches: replayed, producers: this.producers.size });
    }
  }
}
