/**
 * The processors' exactly-once check, run at the end of a run (issue 16's EOS pipeline): every input record below
 * its group's final committed offset appears exactly once in the committed output — `lost-write` when its derived
 * record (`${value}>${output}`, processor-workload.ts) was never read by a read_committed consumer of the output
 * topic, `duplicate-write` when it was read at two or more output offsets. It models no Kafka component.
 *
 * - Processors are named by their `client-config` (role "processor": group, input, output).
 * - The final committed offset of (group, input partition) is the latest, by trace order, of the group's
 *   acknowledged commits: a processor's `txn` op ending ok with result "commit" (its `offsets`, committed by the
 *   marker) or a member's OffsetCommit acknowledged ok (at_least_once: commitSync).
 * - Input records are the input partition's final committed log from its log start, without control records
 *   (the markers' offsets) and without records of transactions that did not commit.
 * - The committed output is what read_committed consumers returned from the output topic, each (partition,
 *   offset) once. Without such a reader the check is skipped (it needs one; scenarios add a verifier consumer).
 */

import { derivedValue } from "../workload/processor-workload.ts";
import type { CommittedLog } from "./committed-log.ts";
import type { GroupHistory } from "./groups-history.ts";
import type { TransactionHistory } from "./transactions-history.ts";
import type { Violation } from "./violation.ts";

/** A processor's role, from its client-config. */
export interface ProcessorInfo {
  readonly process: string;
  readonly group: string;
  readonly input: string;
  readonly output: string;
}

/** At most this many violations of each kind per group (a broken pipeline loses or doubles everything). */
const REPORTED_PER_GROUP = 20;

export function checkExactlyOnce(
  processors: readonly ProcessorInfo[],
  history: TransactionHistory,
  groups: GroupHistory,
  committedLog: (topicPartition: string) => CommittedLog | null,
  topicPartitions: readonly string[],
  now: number,
): Violation[] {
  const found: Violation[] = [];
  const pipelines = new Map<string, ProcessorInfo>();
  for (const processor of processors) pipelines.set(`${processor.group}\u0000${processor.input}\u0000${processor.output}`, processor);
  for (const pipeline of pipelines.values()) {
    const outputs = outputReads(history, pipeline.output);
    if (outputs === null) continue;
    const finals = finalOffsets(history, groups, pipeline);
    const uncommitted = uncommittedValues(history);
    let lost = 0;
    let doubled = 0;
    for (const [inputPartition, finalOffset] of finals) {
      if (!topicPartitions.includes(inputPartition)) continue;
      const log = committedLog(inputPartition);
      if (log === null) continue;
      const markers = new Set((history.markers.get(inputPartition) ?? []).map((marker) => marker.offset));
      for (let offset = log.logStartOffset; offset < finalOffset; offset++) {
        if (markers.has(offset)) continue;
        const record = log.recordsAt(offset)[0];
        if (record === undefined || record.value === null || uncommitted.has(record.value)) continue;
        const derived = derivedValue(record.value, pipeline.output);
        const seen = outputs.get(derived) ?? [];
        if (seen.length === 1) continue;
        const shown = seen.length === 0 ? lost++ : doubled++;
        if (shown >= REPORTED_PER_GROUP) continue;
        found.push({
          name: seen.length === 0 ? "lost-write" : "duplicate-write",
          time: now,
          nodes: processors.filter((p) => p.group === pipeline.group).map((p) => p.process),
          evidence: {
            pipeline: { group: pipeline.group, input: pipeline.input, output: pipeline.output },
            input: { topicPartition: inputPartition, offset, value: record.value },
            value: derived,
            finalCommittedOffset: finalOffset,
            outputPlacements: seen,
          },
        });
      }
    }
  }
  return found;
}

/** derived value → the (partition, offset) positions read_committed consumers read it at; null without a reader. */
function outputReads(history: TransactionHistory, output: string): Map<string, { topicPartition: string; offset: number }[]> | null {
  const prefix = `${output}-`;
  const byValue = new Map<string, { topicPartition: string; offset: number }[]>();
  const seenAt = new Set<string>();
  let any = false;
  for (const read of history.reads) {
    if (!read.topicPartition.startsWith(prefix) || !/^\d+$/.test(read.topicPartition.slice(prefix.length))) continue;
    any = true;
    const at = `${read.topicPartition}@${read.offset}`;
    if (seenAt.has(at)) continue;
    seenAt.add(at);
    let placements = byValue.get(read.value);
    if (placements === undefined) byValue.set(read.value, (placements = []));
    placements.push({ topicPartition: read.topicPartition, offset: read.offset });
  }
  return any ? byValue : null;
}

/** (input partition → offset): the group's last acknowledged commit, transactional or not, in trace order. */
function finalOffsets(history: TransactionHistory, groups: GroupHistory, pipeline: ProcessorInfo): Map<string, number> {
  const latest = new Map<string, { offset: number; seq: number }>();
  const consider = (topicPartition: string, offset: number, seq: number): void => {
    const prefix = `${pipeline.input}-`;
    if (!topicPartition.startsWith(prefix)) return;
    const current = latest.get(topicPartition);
    if (current === undefined || seq > current.seq) latest.set(topicPartition, { offset, seq });
  };
  for (const txn of history.transactions.values()) {
    if (txn.outcome !== "ok" || txn.result !== "commit" || txn.offsets === null || txn.offsets.group !== pipeline.group) continue;
    for (const [topicPartition, offset] of txn.offsets.offsets) consider(topicPartition, offset, txn.completedAt!.seq);
  }
  for (const partition of groups.partitions.values()) {
    if (partition.group !== pipeline.group) continue;
    for (const commit of partition.commits) {
      if (commit.outcome !== "ok") continue;
      const offset = commit.offsets.get(partition.topicPartition);
      if (offset !== undefined) consider(partition.topicPartition, offset, commit.completedAt!.seq);
    }
  }
  return new Map([...latest].map(([topicPartition, { offset }]) => [topicPartition, offset]));
}

/** Values sent by transactions that did not end committed (their records are in the log, never committed). */
function uncommittedValues(history: TransactionHistory): Set<string> {
  const values = new Set<string>();
  for (const txn of history.transactions.values()) {
    if (txn.outcome === "ok" && txn.result === "commit") continue;
    for (const value of txn.sends.keys()) values.add(value);
  }
  return values;
}
