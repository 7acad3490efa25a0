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

import type { TraceEvent, TraceFields } from "../sim/trace.ts";
import type { CommittedLog } from "./committed-log.ts";
import { checkDuplicates } from "./duplicates.ts";
import { Float64Column, Int32Column } from "../sim/column.ts";
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

/**
 * Stored in ack order as columns (one entry per acknowledged send; every one is kept until the end of the run):
 * the strings are the events' own, the topic-partition a code, so an ack allocates no object and no string.
 */
export class LostWriteChecker {
  private readonly processes: string[] = [];
  private readonly opIds: unknown[] = [];
  private readonly values: string[] = [];
  /** Index into `topicPartitionNames`. */
  private readonly topicPartitions = new Int32Column();
  /** The offset the broker acknowledged (-1 when unknown), and the virtual µs of the ok. */
  private readonly offsets = new Float64Column();
  private readonly times = new Float64Column();
  /** `${topic}-${partition}` by code, and topic → partition → code. */
  private readonly topicPartitionNames: string[] = [];
  private readonly codes = new Map<string, Map<number, number>>();
  private readonly nameCodes = new Map<string, number>();
  /** A transaction's acknowledged sends (process + txnOpId), held until its `txn` op says it committed. */
  private readonly inTransaction = new Map<string, AckedWrite[]>();

  /** Collects the ok'd sends (call for every trace event, or only for "op" events). */
  observe(event: TraceEvent): void {
    if (event.kind === "topic-deleted" && typeof event.topic === "string") {
      // Deleting a topic is not losing its writes: forget them (a re-created topic starts a new history).
      const prefix = `${event.topic}-`;
      const kept = this.ackedWrites.filter((write) => !(write.topicPartition.startsWith(prefix) && /^\d+$/.test(write.topicPartition.slice(prefix.length))));
      this.clear();
      for (const write of kept) this.push(write);
      return;
    }
    if (event.kind === "op") this.observeOp(event, event.t, event.node);
  }

  /** An "op" event's fields, emitted at `t` on `node` (the checkers' path: no event object). */
  observeOp(fields: TraceFields, t: number, node: string): void {
    if (fields.f === "txn") return this.transactionEnded(fields, node);
    if (fields.type !== "ok" || fields.f !== "send") return;
    const value = fields.value;
    const topic = fields.topic;
    const partition = fields.partition;
    if (typeof value !== "string" || typeof topic !== "string" || typeof partition !== "number") return;
    const process = typeof fields.process === "string" ? fields.process : node;
    const offset = typeof fields.offset === "number" ? fields.offset : -1;
    if (fields.txnOpId !== undefined) {
      // Appended is not committed: a transaction's write counts only once the transaction committed.
      const key = `${process}\u0000${String(fields.txnOpId)}`;
      let held = this.inTransaction.get(key);
      if (held === undefined) this.inTransaction.set(key, (held = []));
      held.push({ process, opId: fields.opId, value, topicPartition: `${topic}-${partition}`, offset, time: t });
      return;
    }
    this.processes.push(process);
    this.opIds.push(fields.opId);
    this.values.push(value);
    this.topicPartitions.push(this.topicPartitionCode(topic, partition));
    this.offsets.push(offset);
    this.times.push(t);
  }

  /** A `txn` op's outcome: a commit acknowledged (ok, result "commit") makes its sends writes to check; others are dropped. */
  private transactionEnded(fields: TraceFields, node: string): void {
    if (fields.type === "invoke") return;
    const process = typeof fields.process === "string" ? fields.process : node;
    const key = `${process}\u0000${String(fields.opId)}`;
    const held = this.inTransaction.get(key);
    this.inTransaction.delete(key);
    if (held !== undefined && fields.type === "ok" && fields.result === "commit") for (const write of held) this.push(write);
  }

  /** The acknowledged writes, in ack order (built on demand: tests). */
  get ackedWrites(): AckedWrite[] {
    const writes: AckedWrite[] = [];
    for (let k = 0; k < this.values.length; k++) writes.push(this.ackedWrite(k));
    return writes;
  }

  /** Every acknowledged value absent from its partition's final committed log, in ack order. */
  check(committedLog: (topicPartition: string) => CommittedLog | null, now: number): Violation[] {
    // Per topic-partition code: its committed log, read once.
    const logs: (CommittedLog | null | undefined)[] = [];
    const found: Violation[] = [];
    for (let k = 0; k < this.values.length; k++) {
      const code = this.topicPartitions.at(k);
      let log = logs[code];
      if (log === undefined) logs[code] = log = committedLog(this.topicPartitionNames[code]);
      const offset = this.offsets.at(k);
      const value = this.values[k];
      if (log !== null && offset >= 0 && offset < log.logStartOffset) continue;
      // Where it was acknowledged first (no set needed), then anywhere in the committed log.
      if (log !== null && (log.valueAt(offset) === value || log.values.has(value))) continue;
      const write = this.ackedWrite(k);
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

  private ackedWrite(k: number): AckedWrite {
    return {
      process: this.processes[k],
      opId: this.opIds[k],
      value: this.values[k],
      topicPartition: this.topicPartitionNames[this.topicPartitions.at(k)],
      offset: this.offsets.at(k),
      time: this.times.at(k),
    };
  }

  private push(write: AckedWrite): void {
    this.processes.push(write.process);
    this.opIds.push(write.opId);
    this.values.push(write.value);
    this.topicPartitions.push(this.topicPartitionNameCode(write.topicPartition));
    this.offsets.push(write.offset);
    this.times.push(write.time);
  }

  private clear(): void {
    this.processes.length = 0;
    this.opIds.length = 0;
    this.values.length = 0;
    this.topicPartitions.length = 0;
    this.offsets.length = 0;
    this.times.length = 0;
  }

  private topicPartitionCode(topic: string, partition: number): number {
    let byPartition = this.codes.get(topic);
    if (byPartition === undefined) this.codes.set(topic, (byPartition = new Map()));
    let code = byPartition.get(partition);
    if (code === undefined) {
      code = this.topicPartitionNameCode(`${topic}-${partition}`);
      byPartition.set(partition, code);
    }
    return code;
  }

  /** The code of a topic-partition name (a name met first here, from a held transactional send, gets a new code). */
  private topicPartitionNameCode(topicPartition: string): number {
    let code = this.nameCodes.get(topicPartition);
    if (code === undefined) {
      code = this.topicPartitionNames.length;
      this.topicPartitionNames.push(topicPartition);
      this.nameCodes.set(topicPartition, code);
    }
    return code;
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

  /** An "op" event's fields (the checkers' path: no event object). */
  observeOp(fields: TraceFields, t: number, node: string): void {
    this.lostWrites.observeOp(fields, t, node);
    this.history.observeOp(fields, t, node);
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
