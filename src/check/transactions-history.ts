/**
 * The transactions' history as the transaction checkers read it (tx-contract.md's trace contract): the
 * transactional producers' `txn` ops (one per transaction: invoke, then ok / fail / info, with its `sends`), their
 * individual `send` ops naming a `txnOpId`, the read_committed consumers' `poll` ops (`isolationLevel:
 * "read_committed"`), the coordinators' `txn-state` transitions and the partition leaders' `txn-marker-written`
 * events, plus the hosts' lifecycle. It models no Kafka component. Ops of a run without transactions are dropped
 * on a field test (no `f: "txn"`, no `txnOpId`, no `isolationLevel`), so such a run stores nothing. Events are
 * ordered by their trace `seq`. A producer numbers its ops from 1 again after its host restarts, so a transaction
 * is named by its process, its host's incarnation and its `opId`.
 */

import type { TraceEvent } from "../sim/trace.ts";
import type { ProcessorInfo } from "./transactions-eos.ts";
import { type TracePoint, topicPartitionName } from "./groups-history.ts";

/** One record a transaction sent. */
export interface TxnSend {
  readonly topicPartition: string;
  readonly value: string;
  /** The offset the broker acknowledged the record at (-1: not acknowledged, or not known). */
  offset: number;
}

/** One `txn` op of a transactional producer, from its invoke to its outcome. */
export interface Transaction {
  /** Its number in first-seen order. */
  readonly id: number;
  readonly process: string;
  /** The producer's host (the op's trace node). */
  readonly node: string;
  readonly opId: unknown;
  readonly transactionalId: string;
  /** The producer id and epoch the transaction began under (its first op; a KIP-360 bump may change them later). */
  readonly producerId: number;
  readonly producerEpoch: number;
  /** The invoke, or the first op seen when the history records no invoke. */
  readonly invokedAt: TracePoint;
  outcome: "ok" | "fail" | "info" | null;
  /** `result` of the outcome ("commit" | "abort"), or of the invoke while there is none. */
  result: unknown;
  error: unknown;
  completedAt: TracePoint | null;
  /** value → what the transaction sent, in first-seen order. */
  readonly sends: Map<string, TxnSend>;
  /** sendOffsetsToTransaction's offsets (a processor's transaction): the group and topic-partition → offset. */
  offsets: { readonly group: string; readonly offsets: Map<string, number> } | null;
}

/** One record a read_committed consumer's poll returned. */
export interface CommittedRead {
  readonly process: string;
  readonly topicPartition: string;
  readonly offset: number;
  readonly value: string;
  readonly at: TracePoint;
}

/** One transition of a coordinator's transaction metadata (`txn-state`). */
export interface TxnStateChange {
  readonly node: string;
  readonly state: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly at: TracePoint;
}

/** One control batch a partition leader appended (`txn-marker-written`). */
export interface TxnMarker {
  readonly node: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly result: string;
  readonly offset: number;
  readonly at: TracePoint;
}

const OUTCOMES: ReadonlySet<string> = new Set(["ok", "fail", "info"]);

export class TransactionHistory {
  /** Every transaction, in first-seen order, keyed by process, incarnation and opId. */
  readonly transactions = new Map<string, Transaction>();
  readonly reads: CommittedRead[] = [];
  /** transactionalId → the coordinators' transitions, in trace order. */
  readonly states = new Map<string, TxnStateChange[]>();
  /** topic-partition → the markers appended, in trace order. */
  readonly markers = new Map<string, TxnMarker[]>();
  /** host → the points at which it went down (crash, power loss, shutdown), in order. */
  readonly hostDowns = new Map<string, TracePoint[]>();
  /** `${topicPartition}@${offset}` → the transaction whose send was acknowledged there. */
  private readonly byOffset = new Map<string, Transaction>();
  private readonly incarnationByNode = new Map<string, number>();

  /**
   * `${topicPartition}@${offset}` → the producer id of the transactional record a leader appended there (the
   * latest append wins after a truncation): who really wrote a record, when several transactions sent its value.
   */
  readonly producerAt = new Map<string, number>();
  /** The processors (client-config with role "processor"), in first-seen order. */
  readonly processors: ProcessorInfo[] = [];

  /** True once any transactional op, read_committed poll or transaction event was seen. */
  active = false;

  observe(event: TraceEvent): void {
    switch (event.kind) {
      case "op":
        if (event.f === "txn") this.txn(event);
        else if (event.txnOpId !== undefined && event.f === "send") this.send(event);
        else if (event.isolationLevel === "read_committed" && event.f === "poll" && event.type === "ok") this.poll(event);
        return;
      case "txn-state":
        this.state(event);
        return;
      case "log-append":
        if (event.isTransactional === true && event.asLeader === true && event.isControl !== true) this.transactionalAppend(event);
        return;
      case "client-config":
        if (event.role === "processor" && typeof event.group === "string" && typeof event.input === "string" && typeof event.output === "string") {
          const process = this.process(event);
          if (!this.processors.some((p) => p.process === process)) this.processors.push({ process, group: event.group, input: event.input, output: event.output });
        }
        return;
      case "txn-marker-written":
        this.marker(event);
        return;
      case "host-start":
        this.incarnationByNode.set(event.node, (this.incarnationByNode.get(event.node) ?? 0) + 1);
        return;
      case "host-crash":
      case "host-power-loss":
      case "host-machine-crash":
      case "host-shutdown": {
        let downs = this.hostDowns.get(event.node);
        if (downs === undefined) this.hostDowns.set(event.node, (downs = []));
        downs.push({ t: event.t, seq: event.seq });
        return;
      }
    }
  }

  /** The transaction whose send was acknowledged at (topicPartition, offset), if the history knows one. */
  atOffset(topicPartition: string, offset: number): Transaction | undefined {
    return this.byOffset.get(`${topicPartition}@${offset}`);
  }

  /** The first time `node` went down after `after`, or null. */
  downAfter(node: string, after: TracePoint): TracePoint | null {
    for (const down of this.hostDowns.get(node) ?? []) if (down.seq > after.seq) return down;
    return null;
  }

  private process(event: TraceEvent): string {
    return typeof event.process === "string" ? event.process : event.node;
  }

  private transaction(event: TraceEvent, opId: unknown): Transaction {
    const process = this.process(event);
    const key = `${process}\u0000${this.incarnationByNode.get(event.node) ?? 0}\u0000${String(opId)}`;
    let found = this.transactions.get(key);
    if (found === undefined) {
      this.active = true;
      found = {
        id: this.transactions.size,
        process,
        node: event.node,
        opId,
        transactionalId: typeof event.transactionalId === "string" ? event.transactionalId : "",
        producerId: typeof event.producerId === "number" ? event.producerId : -1,
        producerEpoch: typeof event.producerEpoch === "number" ? event.producerEpoch : -1,
        invokedAt: { t: event.t, seq: event.seq },
        outcome: null,
        result: undefined,
        error: undefined,
        completedAt: null,
        sends: new Map(),
        offsets: null,
      };
      this.transactions.set(key, found);
    }
    return found;
  }

  private txn(event: TraceEvent): void {
    const txn = this.transaction(event, event.opId);
    const offsets = event.offsets as { group?: unknown; offsets?: unknown } | undefined;
    if (offsets !== undefined && typeof offsets.group === "string" && Array.isArray(offsets.offsets)) {
      const byPartition = new Map<string, number>();
      for (const entry of offsets.offsets as { topic?: unknown; partition?: unknown; offset?: unknown }[]) {
        if (typeof entry.topic === "string" && typeof entry.partition === "number" && typeof entry.offset === "number") byPartition.set(topicPartitionName(entry.topic, entry.partition), entry.offset);
      }
      txn.offsets = { group: offsets.group, offsets: byPartition };
    }
    if (Array.isArray(event.sends)) {
      for (const entry of event.sends as unknown[]) {
        if (typeof entry !== "object" || entry === null) continue;
        const { topic, partition, value, offset } = entry as Record<string, unknown>;
        if (typeof topic === "string" && typeof partition === "number" && typeof value === "string") {
          this.addSend(txn, topicPartitionName(topic, partition), value, typeof offset === "number" ? offset : -1);
        }
      }
    }
    if (txn.outcome === null) {
      if (event.result !== undefined) txn.result = event.result;
      if (typeof event.type === "string" && OUTCOMES.has(event.type)) {
        txn.outcome = event.type as "ok" | "fail" | "info";
        txn.error = event.error;
        txn.completedAt = { t: event.t, seq: event.seq };
      }
    }
  }

  private send(event: TraceEvent): void {
    if (typeof event.value !== "string" || typeof event.topic !== "string" || typeof event.partition !== "number" || event.partition < 0) return;
    const txn = this.transaction(event, event.txnOpId);
    const offset = event.type === "ok" && typeof event.offset === "number" ? event.offset : -1;
    this.addSend(txn, topicPartitionName(event.topic, event.partition), event.value, offset);
  }

  private addSend(txn: Transaction, topicPartition: string, value: string, offset: number): void {
    let send = txn.sends.get(value);
    if (send === undefined) txn.sends.set(value, (send = { topicPartition, value, offset: -1 }));
    if (offset >= 0 && send.offset < 0 && send.topicPartition === topicPartition) {
      send.offset = offset;
      this.byOffset.set(`${topicPartition}@${offset}`, txn);
    }
  }

  private poll(event: TraceEvent): void {
    if (typeof event.topic !== "string" || typeof event.partition !== "number" || !Array.isArray(event.offsets) || !Array.isArray(event.values)) return;
    this.active = true;
    const topicPartition = topicPartitionName(event.topic, event.partition);
    const offsets = event.offsets as unknown[];
    const values = event.values as unknown[];
    const process = this.process(event);
    for (let i = 0; i < offsets.length; i++) {
      const offset = offsets[i];
      const value = values[i];
      if (typeof offset === "number" && typeof value === "string") this.reads.push({ process, topicPartition, offset, value, at: { t: event.t, seq: event.seq } });
    }
  }

  private transactionalAppend(event: TraceEvent): void {
    const offsets = event.offsets;
    if (typeof event.topicPartition !== "string" || typeof event.producerId !== "number" || !Array.isArray(offsets)) return;
    for (const offset of offsets) if (typeof offset === "number") this.producerAt.set(`${event.topicPartition}@${offset}`, event.producerId);
  }

  private state(event: TraceEvent): void {
    if (typeof event.transactionalId !== "string" || typeof event.state !== "string") return;
    this.active = true;
    let changes = this.states.get(event.transactionalId);
    if (changes === undefined) this.states.set(event.transactionalId, (changes = []));
    changes.push({
      node: event.node,
      state: event.state,
      producerId: typeof event.producerId === "number" ? event.producerId : -1,
      producerEpoch: typeof event.producerEpoch === "number" ? event.producerEpoch : -1,
      at: { t: event.t, seq: event.seq },
    });
  }

  private marker(event: TraceEvent): void {
    if (typeof event.topic !== "string" || typeof event.partition !== "number" || typeof event.offset !== "number" || typeof event.producerId !== "number") return;
    this.active = true;
    const topicPartition = topicPartitionName(event.topic, event.partition);
    let markers = this.markers.get(topicPartition);
    if (markers === undefined) this.markers.set(topicPartition, (markers = []));
    markers.push({
      node: event.node,
      producerId: event.producerId,
      producerEpoch: typeof event.producerEpoch === "number" ? event.producerEpoch : -1,
      result: typeof event.result === "string" ? event.result : "",
      offset: event.offset,
      at: { t: event.t, seq: event.seq },
    });
  }
}
