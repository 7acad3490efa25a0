/**
 * `reordered-write`, a history checker run at the end of a run: per producer and partition, two of the
 * producer's values whose order in the final committed log is the opposite of the order the workload handed them
 * to the producer (value number n) — a retried batch landing after a later one (max.in.flight > 1 without
 * idempotence). Only values present count (a failed or unknown write that is absent is fine); a duplicated value
 * counts at its first offset (the second copy is duplicate-write's). It is always checked; the evidence says
 * whether the producer's configuration promised order (enable.idempotence, or
 * max.in.flight.requests.per.connection = 1, from its "client-config"). Each (producer, partition) is reported
 * once, with its first inversion in log order and how many values came after a later-handed one.
 * It models no Kafka component.
 */

import type { Write, WriteHistory } from "./ops.ts";
import type { Placements } from "./placements.ts";
import type { Violation } from "./violation.ts";

interface Present {
  readonly write: Write;
  readonly offset: number;
}

export function checkOrder(history: WriteHistory, placements: Placements, now: number): Violation[] {
  // (producer, partition) → the producer's values there, at their first offset, in log order.
  const groups = new Map<string, { process: string; topicPartition: string; present: Present[] }>();
  for (const [value, where] of placements.byValue) {
    const write = history.writes.get(value);
    if (write === undefined) continue;
    const seen = new Set<string>();
    for (const { topicPartition, offset } of where) {
      if (seen.has(topicPartition)) continue;
      seen.add(topicPartition);
      const key = `${write.process}\u0000${topicPartition}`;
      let group = groups.get(key);
      if (group === undefined) {
        group = { process: write.process, topicPartition, present: [] };
        groups.set(key, group);
      }
      group.present.push({ write, offset });
    }
  }
  const found: Violation[] = [];
  for (const { process, topicPartition, present } of groups.values()) {
    present.sort((a, b) => a.offset - b.offset);
    let highest: Present | null = null;
    let first: { handedFirst: Present; handedSecond: Present } | null = null;
    let count = 0;
    for (const entry of present) {
      if (highest !== null && entry.write.n < highest.write.n) {
        count++;
        first ??= { handedFirst: entry, handedSecond: highest };
      }
      if (highest === null || entry.write.n > highest.write.n) highest = entry;
    }
    if (first === null) continue;
    const { promised, config } = history.orderPromised(process);
    const leader = placements.leaderOf(topicPartition);
    found.push({
      name: "reordered-write",
      time: now,
      nodes: leader === null ? [process] : [process, leader],
      evidence: {
        producer: process,
        topicPartition,
        orderPromised: promised,
        config,
        // handedFirst was handed to the producer before handedSecond, yet sits at a higher offset.
        handedFirst: describe(first.handedFirst),
        handedSecond: describe(first.handedSecond),
        count,
      },
    });
  }
  return found;
}

function describe({ write, offset }: Present): Record<string, unknown> {
  return { value: write.value, n: write.n, offset, ops: write.ops.map((op) => ({ ...op })) };
}
