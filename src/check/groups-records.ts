/**
 * `skipped-record`, a group history checker run at the end of a run, and the duplicate-delivery count. It models
 * no Kafka component.
 *
 * skipped-record: a record below the group's final committed offset that no member of the group ever finished
 * processing — at-most-once loss (commit before processing, then a crash). The final committed offset of
 * (group, partition) is the offset of the group's last acknowledged commit (by ok order). A record is an offset
 * some member of the group polled, or an offset holding a record in the partition's final committed log at or
 * above its log start offset; offsets without either (compacted or control-record gaps, records deleted by
 * retention before anyone read them) are not records. Only offsets from the group's lowest polled offset up are
 * judged (auto.offset.reset "latest" legitimately starts past older records); a partition the group never polled
 * is not judged. A record is processed when some `process` op of the group names its offset. Not judged: records
 * still in flight at the end of the run — polled in the latest poll() of a consumer whose host stayed up since
 * (the application is processing them, or hangs after stopAt). Each (group, partition) is reported once.
 *
 * Duplicate deliveries (at-least-once, not a violation): the (group, partition, offset) that `process` ops name
 * more than once.
 */

import type { CommittedLog } from "./committed-log.ts";
import type { CommitAttempt, GroupHistory, GroupPartition } from "./groups-history.ts";
import type { Violation } from "./violation.ts";

/** Evidence lists at most this many skipped offsets. */
const SKIPPED_SHOWN = 20;

/**
 * `hostDownSeq(node)`: the seq of the host's latest crash, power loss or shutdown (-1: never), for the in-flight
 * exemption.
 */
export function checkSkippedRecords(
  history: GroupHistory,
  committedLog: (topicPartition: string) => CommittedLog | null,
  hostDownSeq: (node: string) => number,
  now: number,
): Violation[] {
  const found: Violation[] = [];
  for (const partition of history.partitions.values()) {
    const final = finalCommit(partition);
    if (final === null || partition.polled.size === 0) continue;
    const finalOffset = final.offsets.get(partition.topicPartition)!;
    const lowestPolled = partition.lowestPolled;
    const skipped = new Set<number>();
    const inFlight = (offset: number): boolean => {
      const last = partition.polled.get(offset);
      return last !== undefined && history.lastPollSeqByNode.get(last.node) === last.seq && hostDownSeq(last.node) < last.seq;
    };
    const judge = (offset: number): void => {
      if (offset >= lowestPolled && offset < finalOffset && !partition.processed.has(offset) && !inFlight(offset)) skipped.add(offset);
    };
    for (const offset of partition.polled.keys()) judge(offset);
    const log = committedLog(partition.topicPartition);
    if (log !== null) {
      const end = Math.min(finalOffset, log.highWatermark);
      for (let offset = Math.max(lowestPolled, log.logStartOffset); offset < end; offset++) {
        if (log.recordsAt(offset).length > 0) judge(offset);
      }
    }
    if (skipped.size === 0) continue;
    found.push(violation(partition, final, finalOffset, lowestPolled, [...skipped].sort((a, b) => a - b), now));
  }
  return found;
}

/** The (group, partition, offset) processed more than once. */
export function duplicateDeliveries(history: GroupHistory): number {
  let count = 0;
  for (const partition of history.partitions.values()) count += partition.processedTwice.size;
  return count;
}

/** The group's last acknowledged commit of the partition, by ok order. */
function finalCommit(partition: GroupPartition): CommitAttempt | null {
  let final: CommitAttempt | null = null;
  for (const commit of partition.commits) {
    if (commit.outcome !== "ok") continue;
    if (final === null || commit.completedAt!.seq > final.completedAt!.seq) final = commit;
  }
  return final;
}

function violation(partition: GroupPartition, final: CommitAttempt, finalOffset: number, lowestPolled: number, skipped: number[], now: number): Violation {
  const shown = skipped.slice(0, SKIPPED_SHOWN);
  const pollers = [...new Set(shown.map((offset) => partition.polled.get(offset)?.node).filter((node) => node !== undefined))];
  return {
    name: "skipped-record",
    time: now,
    nodes: [...new Set([final.process, ...pollers])],
    evidence: {
      group: partition.group,
      topicPartition: partition.topicPartition,
      skipped: shown,
      count: skipped.length,
      polledBy: pollers,
      lowestPolled,
      finalCommit: {
        offset: finalOffset,
        process: final.process,
        member: final.member,
        generation: final.generation,
        mode: final.mode ?? null,
        opId: final.opId,
        ackedAt: final.completedAt!.t,
      },
    },
  };
}
