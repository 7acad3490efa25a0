/**
 * `hanging-transaction`: a partition's last stable offset stays behind an open transaction for longer than
 * `transaction.max.timeout.ms` (plus one `transaction.abort.timed.out.transaction.cleanup.interval.ms`) after the
 * transaction's producer is gone. No producer can keep a transaction open that long: the coordinator aborts every
 * transaction it knows at its `transaction.timeout.ms` (at most the max), so an LSO stuck past that bound is held
 * by a transaction the coordinator does not know (KAFKA-14402: a delayed Produce landing after the abort markers).
 * It models no Kafka component.
 *
 * It reads `txn-lso` (the leader's LSO and HW when the LSO changes) and, for those partitions only, the leader's
 * `hwm` events (the HW may pass a stuck LSO without the LSO changing). The LSO is stuck from the first instant it is
 * below the HW at its current value. The transaction holding it is the one whose send was acknowledged at the LSO
 * (TransactionHistory); its producer is gone when its `txn` op has an outcome (the producer considers it over) or
 * its host went down after the invoke; the clock starts at the later of "stuck" and "gone". A holder the history
 * does not know (a write no producer saw acknowledged) is gone from the start. A holder whose producer is up with
 * the transaction still going is not judged. Checked when the LSO moves (the period that ends) and at the end of the
 * run; each (partition, LSO) is reported once.
 */

import type { TraceEvent } from "../sim/trace.ts";
import type { TracePoint } from "./groups-history.ts";
import type { Transaction, TransactionHistory } from "./transactions-history.ts";
import type { Violation } from "./violation.ts";

/** transaction.max.timeout.ms' default (TransactionStateManagerConfig). */
export const TRANSACTION_MAX_TIMEOUT_MS_DEFAULT = 900_000;
/** transaction.abort.timed.out.transaction.cleanup.interval.ms' default. */
export const TRANSACTION_CLEANUP_INTERVAL_MS_DEFAULT = 10_000;

interface PartitionLso {
  node: string;
  lastStableOffset: number;
  highWatermark: number;
  /** Since when the LSO has been below the HW at its current value (null: it is not). */
  stuckSince: TracePoint | null;
  reported: boolean;
}

export class HangingTransactionChecker {
  private readonly partitions = new Map<string, PartitionLso>();
  private readonly boundUs: number;

  constructor(
    private readonly history: TransactionHistory,
    readonly transactionMaxTimeoutMs = TRANSACTION_MAX_TIMEOUT_MS_DEFAULT,
    readonly cleanupIntervalMs = TRANSACTION_CLEANUP_INTERVAL_MS_DEFAULT,
  ) {
    this.boundUs = (transactionMaxTimeoutMs + cleanupIntervalMs) * 1000;
  }

  /** Reads a `txn-lso` or `hwm` event; returns the hang that the LSO's move ends, if any. */
  observe(event: TraceEvent): Violation | null {
    if (typeof event.topicPartition !== "string") return null;
    if (event.kind === "txn-lso") return this.lso(event, event.topicPartition);
    if (event.kind !== "hwm" || event.role !== "leader" || typeof event.highWatermark !== "number") return null;
    const partition = this.partitions.get(event.topicPartition);
    if (partition === undefined) return null;
    partition.highWatermark = event.highWatermark;
    partition.node = event.node;
    if (partition.stuckSince === null && partition.lastStableOffset < partition.highWatermark) partition.stuckSince = { t: event.t, seq: event.seq };
    return null;
  }

  /** The partitions stuck past the bound at `now` (the end of the run). */
  check(now: number): Violation[] {
    const found: Violation[] = [];
    for (const [topicPartition, partition] of this.partitions) {
      const violation = this.judge(topicPartition, partition, now);
      if (violation !== null) found.push(violation);
    }
    return found;
  }

  private lso(event: TraceEvent, topicPartition: string): Violation | null {
    if (typeof event.lastStableOffset !== "number" || typeof event.highWatermark !== "number") return null;
    let partition = this.partitions.get(topicPartition);
    let violation: Violation | null = null;
    if (partition === undefined) {
      partition = { node: event.node, lastStableOffset: event.lastStableOffset, highWatermark: event.highWatermark, stuckSince: null, reported: false };
      this.partitions.set(topicPartition, partition);
    } else if (partition.lastStableOffset !== event.lastStableOffset) {
      violation = this.judge(topicPartition, partition, event.t);
      partition.lastStableOffset = event.lastStableOffset;
      partition.stuckSince = null;
      partition.reported = false;
    }
    partition.node = event.node;
    partition.highWatermark = event.highWatermark;
    if (partition.stuckSince === null && partition.lastStableOffset < partition.highWatermark) partition.stuckSince = { t: event.t, seq: event.seq };
    return violation;
  }

  private judge(topicPartition: string, partition: PartitionLso, now: number): Violation | null {
    const stuckSince = partition.stuckSince;
    if (stuckSince === null || partition.reported) return null;
    const holder = this.history.atOffset(topicPartition, partition.lastStableOffset) ?? null;
    const gone = holder === null ? stuckSince : this.goneAt(holder);
    if (gone === null) return null;
    const from = Math.max(stuckSince.t, gone.t);
    if (now - from <= this.boundUs) return null;
    partition.reported = true;
    return {
      name: "hanging-transaction",
      time: now,
      nodes: holder === null ? [partition.node] : [partition.node, holder.node],
      evidence: {
        topicPartition,
        lastStableOffset: partition.lastStableOffset,
        highWatermark: partition.highWatermark,
        leader: partition.node,
        stuckSince: stuckSince.t,
        producerGoneAt: holder === null ? null : gone.t,
        stuckForMs: (now - from) / 1000,
        transactionMaxTimeoutMs: this.transactionMaxTimeoutMs,
        holder:
          holder === null
            ? null
            : { process: holder.process, opId: holder.opId, transactionalId: holder.transactionalId, producerId: holder.producerId, producerEpoch: holder.producerEpoch, outcome: holder.outcome },
      },
    };
  }

  /** When the holder's producer let the transaction go: its outcome, or its host going down after the invoke. */
  private goneAt(txn: Transaction): TracePoint | null {
    const down = this.history.downAfter(txn.node, txn.invokedAt);
    if (txn.completedAt === null) return down;
    if (down === null) return txn.completedAt;
    return down.seq < txn.completedAt.seq ? down : txn.completedAt;
  }
}
