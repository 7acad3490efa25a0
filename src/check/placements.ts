/**
 * Where each value sits in the final committed logs: value → its (topic-partition, offset) placements, in
 * partition then offset order. It models no Kafka component; duplicate-write and reordered-write read it. With
 * an acting leader a committed log has one record per offset. Without one it is the union of the replicas
 * (CommittedLog's "replicas" source), and an offset where replicas hold different values is not placed at all:
 * that disagreement is divergent-log's business, and counting both values would invent duplicates and inversions.
 */

import type { CommittedLog } from "./committed-log.ts";

export interface Placement {
  readonly topicPartition: string;
  readonly offset: number;
}

export class Placements {
  /** value → placements, in scan order (partition by partition, offsets ascending). */
  readonly byValue = new Map<string, Placement[]>();
  /** topic-partition → its committed log (null: none known). */
  readonly logs = new Map<string, CommittedLog | null>();

  constructor(committedLog: (topicPartition: string) => CommittedLog | null, topicPartitions: Iterable<string>) {
    for (const topicPartition of topicPartitions) {
      if (this.logs.has(topicPartition)) continue;
      const log = committedLog(topicPartition);
      this.logs.set(topicPartition, log);
      if (log !== null) this.scan(log);
    }
  }

  /** The offsets of `value` in one partition, ascending. */
  offsetsIn(value: string, topicPartition: string): number[] {
    return (this.byValue.get(value) ?? []).filter((p) => p.topicPartition === topicPartition).map((p) => p.offset);
  }

  /** The leader whose log a partition's committed log is, if any. */
  leaderOf(topicPartition: string): string | null {
    return this.logs.get(topicPartition)?.leader ?? null;
  }

  private scan(log: CommittedLog): void {
    for (let offset = log.logStartOffset; offset < log.highWatermark; offset++) {
      // Exactly one distinct value at the offset (none, or replicas disagreeing: not placed).
      const value = log.valueAt(offset);
      if (value === undefined || value === null) continue;
      let placements = this.byValue.get(value);
      if (placements === undefined) {
        placements = [];
        this.byValue.set(value, placements);
      }
      placements.push({ topicPartition: log.topicPartition, offset });
    }
  }
}
