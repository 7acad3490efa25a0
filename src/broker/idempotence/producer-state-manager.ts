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
 * - No transactions yet: control batches only move the producer epoch (appendEndTxnMarker's epoch update).
 */

import type { LeaderAppendCheck, ProducerStateHooks } from "../log/producer-state.ts";
import { APPEND } from "../log/producer-state.ts";
import type { LogContext } from "../log/context.ts";
import { lastOffset, NO_PRODUCER_ID, type RecordBatch } from "../log/records.ts";
import { checkLeaderAppend, ProducerStateEntry } from "./producer-state-entry.ts";

/** What the manager reads of its log to rebuild after a truncation. */
export interface ProducerStateSource {
  readonly logStartOffset: number;
  batchesFrom(offset: number): Iterable<RecordBatch>;
}

export class ProducerStateManager implements ProducerStateHooks {
  /** By producerId, in first-seen order. */
  readonly producers = new Map<number, ProducerStateEntry>();

  constructor(
    readonly topicPartition: string,
    private readonly source: ProducerStateSource,
    private readonly context: LogContext | null = null,
  ) {}

  lastEntry(producerId: number): ProducerStateEntry | undefined {
    return this.producers.get(producerId);
  }

  checkLeaderAppend(batch: RecordBatch): LeaderAppendCheck {
    if (batch.producerId === NO_PRODUCER_ID || batch.isControl) return APPEND;
    return checkLeaderAppend(this.producers.get(batch.producerId), batch);
  }

  onBatchAppended(batch: RecordBatch): void {
    if (batch.producerId === NO_PRODUCER_ID) return;
    let entry = this.producers.get(batch.producerId);
    if (entry === undefined) {
      entry = new ProducerStateEntry(batch.producerId);
      this.producers.set(batch.producerId, entry);
    }
    if (batch.isControl) entry.maybeUpdateProducerEpoch(batch.producerEpoch);
    else entry.addBatch(batch);
    entry.lastAppendedOffset = lastOffset(batch);
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
