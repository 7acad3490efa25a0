/**
 * The client history as the history checkers read it: the producers' "op" events (f "send": invoke / ok /
 * fail / info per value) and the clients' "client-config" events, parsed from the trace. It models no Kafka
 * component. Values are unique per producer (`${process}-${n padded to 6}`, n in the order the workload handed
 * them to the producer), so a value names one write; a value that does not follow that shape is numbered by the
 * order of its first op instead.
 */

import type { TraceEvent } from "../sim/trace.ts";

export type OpType = "invoke" | "ok" | "fail" | "info";

/** One history entry of a producer's write. */
export interface SendOp {
  readonly type: OpType;
  /** Virtual µs. */
  readonly time: number;
  readonly offset?: number;
  readonly error?: string;
  readonly attempts?: number;
}

/** Everything the history says about one value. */
export interface Write {
  readonly value: string;
  readonly process: string;
  readonly opId: unknown;
  readonly topic: string;
  /** The partition the producer sent it to (-1: never assigned one). */
  partition: number;
  /** The value number n: the order the workload handed values to this producer. */
  readonly n: number;
  readonly ops: SendOp[];
}

const OP_TYPES: ReadonlySet<string> = new Set(["invoke", "ok", "fail", "info"]);

/** The writes of every producer, keyed by value, plus each client's configuration. */
export class WriteHistory {
  readonly writes = new Map<string, Write>();
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
      for (const [value, write] of this.writes) if (write.topic === event.topic) this.writes.delete(value);
      return;
    }
    if (event.kind !== "op" || event.f !== "send") return;
    if (typeof event.value !== "string" || typeof event.topic !== "string" || typeof event.type !== "string" || !OP_TYPES.has(event.type)) return;
    const process = typeof event.process === "string" ? event.process : event.node;
    let write = this.writes.get(event.value);
    if (write === undefined) {
      write = {
        value: event.value,
        process,
        opId: event.opId,
        topic: event.topic,
        partition: -1,
        n: this.valueNumber(process, event.value),
        ops: [],
      };
      this.writes.set(event.value, write);
    }
    if (typeof event.partition === "number" && event.partition >= 0) write.partition = event.partition;
    // Built field by field (not spreads, per op): the same keys in the same order.
    const op: { type: OpType; time: number; offset?: number; error?: string; attempts?: number } = { type: event.type as OpType, time: event.t };
    if (typeof event.offset === "number") op.offset = event.offset;
    if (typeof event.error === "string") op.error = event.error;
    if (typeof event.attempts === "number") op.attempts = event.attempts;
    write.ops.push(op);
  }

  /** The topic-partitions the producers wrote to, in first-write order. */
  topicPartitions(): string[] {
    const found = new Set<string>();
    for (const write of this.writes.values()) if (write.partition >= 0) found.add(`${write.topic}-${write.partition}`);
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
