/**
 * `duplicate-write`, a history checker run at the end of a run: a producer's value present at two or more
 * offsets of the final committed logs — twice in its partition (a retry after a lost response, without
 * idempotence) or in two partitions. Whatever the value's outcome in the history (ok, fail, info): a failed or
 * unknown write that appears once is fine, one that appears twice is a duplicate. Only values the history knows
 * (some producer's op) are judged, so records of other writers never count. It models no Kafka component.
 */

import type { WriteHistory } from "./ops.ts";
import type { Placements } from "./placements.ts";
import type { Violation } from "./violation.ts";

export function checkDuplicates(history: WriteHistory, placements: Placements, now: number): Violation[] {
  const found: Violation[] = [];
  for (const i of placements.placed) {
    if (!placements.duplicated(i)) continue;
    const write = history.write(i);
    const where = placements.of(i);
    const leaders = [...new Set(where.map((p) => placements.leaderOf(p.topicPartition)).filter((leader) => leader !== null))];
    const topicPartition = `${write.topic}-${write.partition}`;
    found.push({
      name: "duplicate-write",
      time: now,
      nodes: [write.process, ...leaders],
      evidence: {
        value: write.value,
        producer: write.process,
        opId: write.opId,
        topicPartition,
        offsets: placements.offsetsIn(i, topicPartition),
        placements: where.map((p) => ({ topicPartition: p.topicPartition, offset: p.offset })),
        ops: write.ops,
      },
    });
  }
  return found;
}
