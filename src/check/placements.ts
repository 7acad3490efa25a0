/**
 * Where each producer value sits in the final committed logs: per value the history knows, its
 * (topic-partition, offset) placements, in partition then offset order. It models no Kafka component;
 * duplicate-write and reordered-write read it, and both judge only values some producer's history names, so
 * only those are placed. With an acting leader a committed log has one record per offset. Without one it is the
 * union of the replicas (CommittedLog's "replicas" source), and an offset where replicas hold different values is
 * not placed at all: that disagreement is divergent-log's business, and counting both values would invent
 * duplicates and inversions.
 *
 * Compact: a write's first placement is two numbers in columns indexed by its history index; only a value placed
 * twice or more (a duplicate) gets a list. Nothing is allocated per committed record.
 */

import type { CommittedLog } from "./committed-log.ts";
import type { WriteHistory } from "./ops.ts";

export interface Placement {
  readonly topicPartition: string;
  readonly offset: number;
}

export class Placements {
  /** The history indexes of the placed writes, in the order of their first placement (scan order). */
  readonly placed: number[] = [];
  /** topic-partition → its committed log (null: none known). */
  readonly logs = new Map<string, CommittedLog | null>();
  /** The scanned topic-partitions, by scan index. */
  private readonly scanned: string[] = [];
  /** write index → the scan index of its first placement's partition (-1: not placed), and its offset. */
  private readonly firstPartition: Int32Array;
  private readonly firstOffset: Float64Array;
  /** write index → its second and later placements (duplicates only). */
  private readonly more = new Map<number, Placement[]>();

  constructor(
    committedLog: (topicPartition: string) => CommittedLog | null,
    topicPartitions: Iterable<string>,
    private readonly history: WriteHistory,
  ) {
    this.firstPartition = new Int32Array(history.size).fill(-1);
    this.firstOffset = new Float64Array(history.size);
    for (const topicPartition of topicPartitions) {
      if (this.logs.has(topicPartition)) continue;
      const log = committedLog(topicPartition);
      this.logs.set(topicPartition, log);
      if (log !== null) this.scan(log);
    }
  }

  /** The number of placements of write `i`. */
  count(i: number): number {
    return (this.firstPartition[i] >= 0 ? 1 : 0) + (this.more.get(i)?.length ?? 0);
  }

  /** Write `i`'s placements, in scan order. */
  of(i: number): Placement[] {
    const first = this.firstPartition[i];
    if (first < 0) return [];
    return [{ topicPartition: this.scanned[first], offset: this.firstOffset[i] }, ...(this.more.get(i) ?? [])];
  }

  /** Write `i`'s first placement's partition and offset (it is placed). */
  firstTopicPartition(i: number): string {
    return this.scanned[this.firstPartition[i]];
  }

  /** Write `i`'s first placement's partition as its scan index (it is placed). */
  firstScanIndex(i: number): number {
    return this.firstPartition[i];
  }

  /** The scan index of a scanned topic-partition (each is scanned once: the index names it). */
  scanIndexOf(topicPartition: string): number {
    return this.scanned.indexOf(topicPartition);
  }

  /** The topic-partition scanned `scanIndex`-th. */
  scannedAt(scanIndex: number): string {
    return this.scanned[scanIndex];
  }

  firstOffsetOf(i: number): number {
    return this.firstOffset[i];
  }

  /** True when write `i` is placed more than once. */
  duplicated(i: number): boolean {
    return this.more.has(i);
  }

  /** The offsets of write `i` in one partition, ascending. */
  offsetsIn(i: number, topicPartition: string): number[] {
    return this.of(i).filter((p) => p.topicPartition === topicPartition).map((p) => p.offset);
  }

  /** The leader whose log a partition's committed log is, if any. */
  leaderOf(topicPartition: string): string | null {
    return this.logs.get(topicPartition)?.leader ?? null;
  }

  private scan(log: CommittedLog): void {
    const scanIndex = this.scanned.length;
    this.scanned.push(log.topicPartition);
    for (let offset = log.logStartOffset; offset < log.highWatermark; offset++) {
      // Exactly one distinct value at the offset (none, or replicas disagreeing: not placed).
      const value = log.valueAt(offset);
      if (value === undefined || value === null) continue;
      const i = this.history.indexOf(value);
      if (i < 0) continue;
      if (this.firstPartition[i] < 0) {
        this.firstPartition[i] = scanIndex;
        this.firstOffset[i] = offset;
        this.placed.push(i);
        continue;
      }
      let more = this.more.get(i);
      if (more === undefined) this.more.set(i, (more = []));
      more.push({ topicPartition: log.topicPartition, offset });
    }
  }
}
