/**
 * The history checkers' stores as they were before they became columns keyed by (producer, value number): a
 * WriteHistory keyed by value strings and a LostWriteChecker of one object per acknowledged send. The tests hold
 * the new stores to these: same writes, same indexes, same evidence.
 */

import type { TraceEvent } from "../../src/sim/trace.ts";
import type { AckedWrite } from "../../src/check/history.ts";
import type { CommittedLog } from "../../src/check/committed-log.ts";
import type { Violation } from "../../src/check/violation.ts";
import type { OpType, SendOp, Write } from "../../src/check/ops.ts";

const OP_TYPES: readonly OpType[] = ["invoke", "ok", "fail", "info"];
const OP_TYPE_CODES: ReadonlyMap<string, number> = new Map(OP_TYPES.map((type, code) => [type, code]));

/**
 * The writes of every producer, keyed by value, plus each client's configuration. Stored in columns (a write is
 * an index; its ops a chain through the op columns): every write of the run is kept until the end, and an object
 * per write and per op was most of the history's heap. `write` builds a Write object for evidence.
 */
export class ReferenceWriteHistory {
  /** value → write index, in first-op order (a deleted topic's writes leave it; a value seen again is new). */
  private readonly index = new Map<string, number>();
  /** Per write (by index). */
  private readonly writeValues: string[] = [];
  private readonly processes: string[] = [];
  private readonly opIds: unknown[] = [];
  private readonly topics: string[] = [];
  private readonly partitions: number[] = [];
  private readonly ns: number[] = [];
  private readonly firstOps: number[] = [];
  private readonly lastOps: number[] = [];
  /** Per op (by index): OP_TYPES code, time, offset and attempts (NaN: absent), the next op of its write (-1: none). */
  private readonly opTypes: number[] = [];
  private readonly opTimes: number[] = [];
  private readonly opOffsets: number[] = [];
  private readonly opAttempts: number[] = [];
  private readonly opNext: number[] = [];
  /** op index → its error (only failed ops have one). */
  private readonly opErrors = new Map<number, string>();
  /** process → its "client-config" fields (the latest one, if a client restarted). */
  readonly configs = new Map<string, Record<string, unknown>>();
  private readonly handed = new Map<string, number>();

  observe(event: TraceEvent): void {
    if (event.kind === "client-config") {
      const process = typeof event.process === "string" ? event.process : event.node;
      this.configs.set(process, event);
      return;
    }
    if (event.kind === "topic-deleted" && typeof event.topic === "string") {
      // A deleted topic's writes are gone with it; a re-created topic starts a new history.
      for (const [value, i] of this.index) if (this.topics[i] === event.topic) this.index.delete(value);
      return;
    }
    if (event.kind !== "op" || event.f !== "send") return;
    if (typeof event.value !== "string" || typeof event.topic !== "string" || typeof event.type !== "string") return;
    const type = OP_TYPE_CODES.get(event.type);
    if (type === undefined) return;
    const process = typeof event.process === "string" ? event.process : event.node;
    const op = this.opTypes.length;
    let i = this.index.get(event.value);
    if (i === undefined) {
      i = this.writeValues.length;
      this.writeValues.push(event.value);
      this.processes.push(process);
      this.opIds.push(event.opId);
      this.topics.push(event.topic);
      this.partitions.push(-1);
      this.ns.push(this.valueNumber(process, event.value));
      this.firstOps.push(op);
      this.lastOps.push(op);
      this.index.set(event.value, i);
    } else {
      this.opNext[this.lastOps[i]] = op;
      this.lastOps[i] = op;
    }
    if (typeof event.partition === "number" && event.partition >= 0) this.partitions[i] = event.partition;
    this.opTypes.push(type);
    this.opTimes.push(event.t);
    this.opOffsets.push(typeof event.offset === "number" ? event.offset : NaN);
    this.opAttempts.push(typeof event.attempts === "number" ? event.attempts : NaN);
    this.opNext.push(-1);
    if (typeof event.error === "string") this.opErrors.set(op, event.error);
  }

  /** How many write indexes there are (indexes run from 0 below it; a deleted topic's stay unused). */
  get size(): number {
    return this.writeValues.length;
  }

  /** The index of the write of `value`, or -1 when the history does not know it. */
  indexOf(value: string): number {
    return this.index.get(value) ?? -1;
  }

  processOf(i: number): string {
    return this.processes[i];
  }

  /** The value number n of write `i`. */
  nOf(i: number): number {
    return this.ns[i];
  }

  /** Write `i` as an object (evidence). */
  write(i: number): Write {
    return { value: this.writeValues[i], process: this.processes[i], opId: this.opIds[i], topic: this.topics[i], partition: this.partitions[i], n: this.ns[i], ops: this.opsOf(i) };
  }

  /** The value's history, in order; each op's keys in the order type, time, offset, error, attempts (present ones only). */
  opsOf(i: number): SendOp[] {
    const ops: SendOp[] = [];
    for (let op = this.firstOps[i]; op >= 0; op = this.opNext[op]) {
      const entry: { type: OpType; time: number; offset?: number; error?: string; attempts?: number } = { type: OP_TYPES[this.opTypes[op]], time: this.opTimes[op] };
      const offset = this.opOffsets[op];
      if (!Number.isNaN(offset)) entry.offset = offset;
      const error = this.opErrors.get(op);
      if (error !== undefined) entry.error = error;
      const attempts = this.opAttempts[op];
      if (!Number.isNaN(attempts)) entry.attempts = attempts;
      ops.push(entry);
    }
    return ops;
  }

  /** The topic-partitions the producers wrote to, in first-write order. */
  topicPartitions(): string[] {
    const found = new Set<string>();
    for (const i of this.index.values()) if (this.partitions[i] >= 0) found.add(`${this.topics[i]}-${this.partitions[i]}`);
    return [...found];
  }

  /**
   * Whether a producer's configuration promises per-partition order: enable.idempotence, or at most one
   * request in flight per connection. null when the producer recorded no "client-config".
   */
  orderPromised(process: string): { promised: boolean | null; config: Record<string, unknown> } {
    const config = this.configs.get(process);
    if (config === undefined) return { promised: null, config: {} };
    const idempotence = config["enable.idempotence"];
    const inFlight = config["max.in.flight.requests.per.connection"];
    const promised = idempotence === true || idempotence === "true" || inFlight === 1 || inFlight === "1";
    return {
      promised,
      config: { "enable.idempotence": idempotence ?? null, "max.in.flight.requests.per.connection": inFlight ?? null },
    };
  }

  private valueNumber(process: string, value: string): number {
    const prefix = `${process}-`;
    if (value.startsWith(prefix) && /^\d+$/.test(value.slice(prefix.length))) return Number(value.slice(prefix.length));
    const n = this.handed.get(process) ?? 0;
    this.handed.set(process, n + 1);
    return n;
  }
}

export class ReferenceLostWriteChecker {
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
