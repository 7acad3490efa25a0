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

import type { WriteHistory } from "./ops.ts";
import type { Placements } from "./placements.ts";
import type { Violation } from "./violation.ts";

/** A producer's values in one partition: history indexes and first offsets there, parallel, in placement order. */
interface Group {
  readonly process: string;
  readonly topicPartition: string;
  readonly writes: number[];
  readonly offsets: number[];
}

export function checkOrder(history: WriteHistory, placements: Placements, now: number): Violation[] {
  // (producer, partition) → the producer's values there, at their first offset, in log order. Keyed by the
  // partition's scan index, then the producer's code, in arrays (no lookup by string per value); `groups` keeps
  // the order they were first seen in.
  const byPartition: (Group | undefined)[][] = [];
  const groups: Group[] = [];
  const add = (i: number, scanIndex: number, offset: number): void => {
    const processCode = history.processCodeOf(i);
    const byProcess = (byPartition[scanIndex] ??= []);
    let group = byProcess[processCode];
    if (group === undefined) {
      group = { process: history.processOf(i), topicPartition: placements.scannedAt(scanIndex), writes: [], offsets: [] };
      byProcess[processCode] = group;
      groups.push(group);
    }
    group.writes.push(i);
    group.offsets.push(offset);
  };
  for (const i of placements.placed) {
    if (!placements.duplicated(i)) {
      add(i, placements.firstScanIndex(i), placements.firstOffsetOf(i));
      continue;
    }
    // A duplicated value counts at its first offset in each partition.
    const seen = new Set<string>();
    for (const { topicPartition, offset } of placements.of(i)) {
      if (seen.has(topicPartition)) continue;
      seen.add(topicPartition);
      add(i, placements.scanIndexOf(topicPartition), offset);
    }
  }
  const found: Violation[] = [];
  for (const { process, topicPartition, writes, offsets } of groups) {
    const order = logOrder(offsets);
    let highest = -1;
    let first: { handedFirst: number; handedSecond: number } | null = null;
    let count = 0;
    for (const k of order) {
      const n = history.nOf(writes[k]);
      if (highest >= 0 && n < history.nOf(writes[highest])) {
        count++;
        first ??= { handedFirst: k, handedSecond: highest };
      }
      if (highest < 0 || n > history.nOf(writes[highest])) highest = k;
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
        handedFirst: describe(history, writes[first.handedFirst], offsets[first.handedFirst]),
        handedSecond: describe(history, writes[first.handedSecond], offsets[first.handedSecond]),
        count,
      },
    });
  }
  return found;
}

/** The entries' positions in ascending offset order (usually already sorted: then no sort and no copy). */
function logOrder(offsets: readonly number[]): number[] {
  const order = Array.from(offsets, (_, k) => k);
  for (let k = 1; k < offsets.length; k++) {
    if (offsets[k] < offsets[k - 1]) return order.sort((a, b) => offsets[a] - offsets[b]);
  }
  return order;
}

function describe(history: WriteHistory, i: number, offset: number): Record<string, unknown> {
  const write = history.write(i);
  return { value: write.value, n: write.n, offset, ops: write.ops };
}
