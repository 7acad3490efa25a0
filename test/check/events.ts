/** Hand-written trace events for the checker tests: a tiny script builder with auto-incremented seq. */

import type { TraceEvent } from "../../src/sim/trace.ts";

export class Script {
  readonly events: TraceEvent[] = [];
  private t = 0;

  /** Advances time by `dtUs` and appends one event. */
  at(dtUs: number, node: string, kind: string, fields: Record<string, unknown> = {}): this {
    this.t += dtUs;
    this.events.push({ t: this.t, seq: this.events.length, node, kind, ...fields });
    return this;
  }

  /** log-append of `values` at consecutive offsets from `baseOffset`. */
  append(node: string, tp: string, baseOffset: number, epoch: number, values: string[], asLeader = false): this {
    const offsets = values.map((_, i) => baseOffset + i);
    return this.at(1000, node, "log-append", {
      topicPartition: tp,
      baseOffset,
      lastOffset: baseOffset + values.length - 1,
      partitionLeaderEpoch: epoch,
      asLeader,
      offsets,
      values,
    });
  }

  leader(node: string, tp: string, leaderEpoch: number, isr: number[], logEndOffset: number, highWatermark: number): this {
    return this.at(1000, node, "become-leader", { topicPartition: tp, leaderEpoch, isr, replicas: isr, logEndOffset, highWatermark });
  }

  follower(node: string, tp: string, leaderEpoch: number, leader: number, logEndOffset: number, highWatermark: number): this {
    return this.at(1000, node, "become-follower", { topicPartition: tp, leaderEpoch, leader, logEndOffset, highWatermark });
  }

  hwm(node: string, tp: string, highWatermark: number, leaderEpoch: number, role: "leader" | "follower" = "leader", previous = 0): this {
    return this.at(1000, node, "hwm", { topicPartition: tp, highWatermark, previous, leaderEpoch, role });
  }

  truncate(node: string, tp: string, offset: number, fully = false): this {
    return this.at(1000, node, "log-truncate", { topicPartition: tp, offset, previousLogEndOffset: -1, ...(fully ? { fully: true } : {}) });
  }

  /** log-recovery at start-up: the log end (and start) recovery found. */
  recovery(node: string, tp: string, logEndOffset: number, logStartOffset = 0): this {
    return this.at(1000, node, "log-recovery", { topicPartition: tp, clean: false, logStartOffset, logEndOffset, truncated: null });
  }

  /**
   * log-loaded after an unclean shutdown: the content the disk gave back, as `[partitionLeaderEpoch, values]`
   * per batch from `logStartOffset` (consecutive offsets); the log end is where the last batch ends.
   */
  loaded(node: string, tp: string, highWatermark: number, batches: [number, string[]][], logStartOffset = 0): this {
    let next = logStartOffset;
    const traced = batches.map(([epoch, values]) => {
      const offsets = values.map((_, i) => next + i);
      next += values.length;
      return [epoch, offsets, values, next - 1];
    });
    return this.at(1000, node, "log-loaded", { topicPartition: tp, logStartOffset, logEndOffset: next, highWatermark, batches: traced });
  }

  isr(node: string, tp: string, kind: "isr-shrink" | "isr-expand", leaderEpoch: number, isr: number[]): this {
    return this.at(1000, node, kind, { topicPartition: tp, leaderEpoch, isr, previousIsr: [] });
  }

  host(node: string, kind: "host-crash" | "host-start" | "host-power-loss" | "host-shutdown"): this {
    return this.at(1000, node, kind, { incarnation: 1 });
  }

  op(process: string, type: "invoke" | "ok" | "fail" | "info", opId: number, value: string, partition: number, offset?: number): this {
    return this.at(1000, process, "op", {
      process,
      type,
      f: "send",
      opId,
      value,
      key: null,
      topic: "t",
      partition,
      ...(offset === undefined ? {} : { offset }),
    });
  }

  get now(): number {
    return this.t;
  }
}
