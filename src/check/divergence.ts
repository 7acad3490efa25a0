/**
 * `divergent-log`, as TLA+'s StrongIsr (hachikuji/kafka-specification) read through the trace: for the acting
 * leader of a partition, every member of the leader's ISR that holds a record at an offset below the leader's high
 * watermark holds the same record as the leader there. A missing record is not divergence (a rejoining follower
 * still fetching); a stale suffix above a follower's truncation point is not either, as long as it lies at or above
 * the leader's HW or the follower is not in the ISR. Incremental: per ISR member a verified-prefix pointer, lowered
 * when either log is cut and cleared when the acting leader changes, so each event costs O(ISR + new offsets).
 * At the end of a run, `finalDivergence` compares every pair of replicas (live or not) below the leader's HW.
 */

import type { PartitionView } from "./partition-view.ts";
import type { MirrorRecord, ReplicaMirror } from "./replica-mirror.ts";

export interface Divergence {
  offset: number;
  /** The replica taken as reference (the leader online) and the one that disagrees. */
  reference: string;
  other: string;
  referenceRecord: MirrorRecord;
  otherRecord: MirrorRecord;
  leader: string;
  leaderEpoch: number;
  highWatermark: number;
}

export class StrongIsrTracker {
  /** ISR member → every offset below it was verified equal to the acting leader's log (where both hold one). */
  private readonly verified = new Map<string, number>();
  /** `${node}|${leaderEpoch}` of the acting leader the pointers were verified against. */
  private leaderNode = "";
  private leaderEpoch = -1;
  /** The acting leader's HW at the last check (-Infinity: there was no acting leader). */
  checkedHighWatermark = -Infinity;

  /** `node`'s log was cut at `offset` (truncation, recovery, an overwrite): nothing at or above it is verified. */
  onTruncate(node: string, offset: number, leader: string | null): void {
    if (node === leader) {
      for (const [member, upTo] of this.verified) this.verified.set(member, Math.min(upTo, offset));
      return;
    }
    const upTo = this.verified.get(node);
    if (upTo !== undefined) this.verified.set(node, Math.min(upTo, offset));
  }

  onDelete(node: string): void {
    this.verified.delete(node);
  }

  /** Checks the partition's acting leader against its ISR; returns the first divergence found, if any. */
  check(view: PartitionView): Divergence | null {
    const acting = view.actingLeader();
    this.checkedHighWatermark = acting === null ? -Infinity : acting.role.highWatermark;
    if (acting === null) return null;
    if (acting.node !== this.leaderNode || acting.role.leaderEpoch !== this.leaderEpoch) {
      this.verified.clear();
      this.leaderNode = acting.node;
      this.leaderEpoch = acting.role.leaderEpoch;
    }
    const leaderLog = view.replicas.get(acting.node);
    if (leaderLog === undefined) return null;
    const highWatermark = acting.role.highWatermark;
    for (const member of acting.role.isr) {
      if (member === acting.node) continue;
      const memberLog = view.replicas.get(member);
      if (memberLog === undefined) continue;
      const end = Math.min(highWatermark, leaderLog.logEndOffset, memberLog.logEndOffset);
      const start = Math.max(this.verified.get(member) ?? 0, leaderLog.logStartOffset, memberLog.logStartOffset);
      for (let offset = start; offset < end; offset++) {
        if (!leaderLog.knows(offset) || !memberLog.knows(offset) || leaderLog.sameRecord(offset, memberLog)) continue;
        return {
          offset,
          reference: acting.node,
          other: member,
          referenceRecord: leaderLog.at(offset)!,
          otherRecord: memberLog.at(offset)!,
          leader: acting.node,
          leaderEpoch: acting.role.leaderEpoch,
          highWatermark,
        };
      }
      this.verified.set(member, Math.max(start, end));
    }
    return null;
  }
}

/** End of run: any two replicas (live or not) holding different records at one offset below the leader's HW. */
export function finalDivergence(view: PartitionView): Divergence | null {
  const acting = view.actingLeader();
  if (acting === null) return null;
  const highWatermark = acting.role.highWatermark;
  // The leader's record is the reference where it holds one (the leader first, the others in their order).
  const replicas = [...view.replicas.values()].sort((a, b) => Number(b.node === acting.node) - Number(a.node === acting.node));
  // Offsets no replica holds cannot disagree: start at the lowest log start.
  let from = highWatermark;
  for (const replica of replicas) from = Math.min(from, replica.logStartOffset);
  for (let offset = Math.max(0, from); offset < highWatermark; offset++) {
    let reference: ReplicaMirror | null = null;
    for (let i = 0; i < replicas.length; i++) {
      const replica = replicas[i];
      if (!replica.knows(offset)) continue;
      if (reference === null) {
        reference = replica;
      } else if (!replica.sameRecord(offset, reference)) {
        return {
          offset,
          reference: reference.node,
          other: replica.node,
          referenceRecord: reference.at(offset)!,
          otherRecord: replica.at(offset)!,
          leader: acting.node,
          leaderEpoch: acting.role.leaderEpoch,
          highWatermark,
        };
      }
    }
  }
  return null;
}
