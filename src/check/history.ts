/**
 * The history checkers run at the end of a run (HistoryCheckers: lost-write, duplicate-write, reordered-write)
 * and `lost-write` itself, a history checker run at the end of a run (Jepsen's style): every producer write the history
 * records as `ok` must be in its partition's final committed log. It reads the clients' "op" trace events and the
 * committed logs the replication checkers mirror (ReplicationCheckers.committedLog: the acting leader's records
 * below its HW, or without a leader the union of the replicas' records below the last committed offset). An `info`
 * (unknown outcome) or `fail` write is never a violation, present or absent. A write acknowledged at an offset
 * below the leader's log start offset (deleted by retention) cannot be judged and is skipped. A transactional
 * send (one naming a `txnOpId`) counts only when its transaction's `txn` op ends ok with result "commit": an
 * appended record of an aborted or unfinished transaction is not a write the producer was promised.
 */

import type { TraceEvent } from "../sim/trace.ts";
import type { CommittedLog } from "./committed-log.ts";
import { checkDuplicates } from "./duplicates.ts";
import { WriteHistory } from "./ops.ts";
import { checkOrder } from "./order.ts";
import { Placements } from "./placements.ts";
import type { Violation } from "./violation.ts";

/** The trace kinds the history checkers read; every other event is ignored (Trace.observe's kind filter). */
export const HISTORY_KINDS: readonly string[] = ["op", "client-config", "topic-deleted"];

export interface AckedWrite {
  process: string;
  opId: unknown;
  value: string;
  topicPartition: string;
  /** The offset the broker acknowledged (-1 when unknown). */
  offset: number;
  /** Virtual µs of the ok. */
  time: number;
}

export class LostWriteChecker {
  private readonly acked: AckedWrite[] = [];
  /** A transaction's acknowledged sends (process + txnOpId), held until its `txn` op says it committed. */
  private readonly inTransaction = new Map<string, AckedWrite[]>();

  /** Collects the ok'd sends (call for every trace event, or only for "op" events). */
  observe(event: TraceEvent): void {
    if (event.kind === "topic-deleted" && typeof event.topic === "string") {
      // Deleting a topic is not losing its writes: forget them (a re-created topic starts a new history).
      const prefix = `${event.topic}-`;
      const kept = this.acked.filter((write) => !(write.topicPartition.startsWith(prefix) && /^\d+$/.test(write.topicPartition.slice(prefix.length))));
      this.acked.length = 0;
      this.acked.push(...kept);
      return;
    }
    if (event.kind !== "op") return;
    if (event.f === "txn") return this.transactionEnded(event);
    if (event.type !== "ok" || event.f !== "send") return;
    if (typeof event.value !== "string" || typeof event.topic !== "string" || typeof event.partition !== "number") return;
    const process = typeof event.process === "string" ? event.process : event.node;
    let into = this.acked;
    if (event.txnOpId !== undefined) {
      // Appended is not committed: a transaction's write counts only once the transaction committed.
      const key = `${process}\u0000${String(event.txnOpId)}`;
      let held = this.inTransaction.get(key);
      if (held === undefined) this.inTransaction.set(key, (held = []));
      into = held;
    }
    into.push({
      process,
      opId: event.opId,
      value: event.value,
      topicPartition: `${event.topic}-${event.partition}`,
      offset: typeof event.offset === "number" ? event.offset : -1,
      time: event.t,
    });
  }

  /** A `txn` op's outcome: a commit acknowledged (ok, result "commit") makes its sends writes to check; others are dropped. */
  private transactionEnded(event: TraceEvent): void {
    if (event.type === "invoke") return;
    const process = typeof event.process === "string" ? event.process : event.node;
    const key = `${process}\u0000${String(event.opId)}`;
    const held = this.inTransaction.get(key);
    this.inTransaction.delete(key);
    if (held !== undefined && event.type === "ok" && event.result === "commit") this.acked.push(...held);
  }

  get ackedWrites(): readonly AckedWrite[] {
    return this.acked;
  }

  /** Every acknowledged value absent from its partition's final committed log, in ack order. */
  check(committedLog: (topicPartition: string) => CommittedLog | null, now: number): Violation[] {
    const logs = new Map<string, CommittedLog | null>();
    const found: Violation[] = [];
    for (const write of this.acked) {
      if (!logs.has(write.topicPartition)) logs.set(write.topicPartition, committedLog(write.topicPartition));
      const log = logs.get(write.topicPartition) ?? null;
      if (log !== null && write.offset >= 0 && write.offset < log.logStartOffset) continue;
      // Where it was acknowledged first (no set needed), then anywhere in the committed log.
      if (log !== null && (log.valueAt(write.offset) === write.value || log.values.has(write.value))) continue;
      const recordsNow = log === null || write.offset < 0 ? [] : log.recordsAt(write.offset);
      found.push({
        name: "lost-write",
        time: now,
        nodes: log !== null && log.leader !== null ? [write.process, log.leader] : [write.process],
        evidence: {
          value: write.value,
          process: write.process,
          opId: write.opId,
          topicPartition: write.topicPartition,
          ackedOffset: write.offset,
          ackedAt: write.time,
          recordNow: recordsNow.map((record) => ({ offset: record.offset, value: record.value, partitionLeaderEpoch: record.partitionLeaderEpoch })),
          committedSource: log?.source ?? "none",
          highWatermark: log?.highWatermark ?? 0,
        },
      });
    }
    return found;
  }
}

/**
 * Every history checker behind one observer: feed it every trace event (observe), then at the end of the run
 * call check with the final committed logs (ReplicationCheckers.committedLog). Returns lost-write, then
 * duplicate-write, then reordered-write violations. `topicPartitions` (ReplicationCheckers.topicPartitions())
 * widens the scan for values that landed in a partition the producers never wrote to; without it only the
 * partitions named in the history are read.
 */
export class HistoryCheckers {
  readonly lostWrites = new LostWriteChecker();
  readonly history = new WriteHistory();

  observe(event: TraceEvent): void {
    this.lostWrites.observe(event);
    this.history.observe(event);
  }

  check(committedLog: (topicPartition: string) => CommittedLog | null, now: number, topicPartitions: readonly string[] = []): Violation[] {
    const placements = new Placements(committedLog, [...this.history.topicPartitions(), ...topicPartitions], this.history);
    return [
      ...this.lostWrites.check(committedLog, now),
      ...checkDuplicates(this.history, placements, now),
      ...checkOrder(this.history, placements, now),
    ];
  }
}
