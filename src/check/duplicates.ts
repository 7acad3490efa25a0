/**
 * `duplicate-write`, a history checker run at the end of a run: a producer's value present at two or more
 * offsets of the final committed logs — twice in its partition (a retry after a lost response, without
 * idempotence) or in two partitions. Whatever the value's outcome in the history (ok, fail, info): a failed or
 * unknown write that appears once is fine, one that appears twice is a duplicate. Only values the history knows
 * (some producer's op) are judged, so records of other writers never count. It models no Kafka component.
 */

import type { WriteHistory, Write } from "./ops.ts";
import type { Placements } from "./placements.ts";
import type { Violation } from "./violation.ts";

export function checkDuplicates(history: WriteHistory, placements: Placements, now: number): Violation[] {
  const found: Violation[] = [];
  for (const [value, where] of placements.byValue) {
    if (where.length < 2) continue;
    const write = history.writes.get(value);
    if (write === undefined) continue;
    const leaders = [...new Set(where.map((p) => placements.leaderOf(p.topicPartition)).filter((leader) => leader !== null))];
    found.push({
      name: "duplicate-write",
      time: now,
      nodes: [write.process, ...leaders],
      evidence: {
        value,
        producer: write.process,
        opId: write.opId,
        topicPartition: topicPartitionOf(write),
        offsets: placements.offsetsIn(value, topicPartitionOf(write)),
        placements: where.map((p) => ({ topicPartition: p.topicPartition, offset: p.offset })),
        ops: write.ops.map((op) => ({ ...op })),
      },
    });
  }
  return found;
}

function topicPartitionOf(write: Write): string {
  return `${write.topic}-${write.partition}`;
}
