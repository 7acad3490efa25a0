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

/** A broker's verified-prefix pointer: every offset below `verified` was found equal to the acting leader's log. */
interface Pointer {
  readonly node: string;
  verified: number;
}

export class StrongIsrTracker {
  /**
   * One pointer per broker ever checked (a handful per partition, found by a scan: no Map on the per-check
   * path); 0 means nothing verified (offsets are never negative, so a cut to 0 and "none" are the same).
   */
  private readonly pointers: Pointer[] = [];
  /** The acting leader the pointers were verified against. */
  private leaderNode = "";
  private leaderEpoch = -1;
  /**
   * The acting leader's ISR members (but itself) that have a mirror, resolved to their mirror and pointer, in ISR
   * order; rebuilt when the ISR array, the leader or the set of mirrors changes (rare), so a check reads arrays.
   */
  private resolvedIsr: readonly string[] | null = null;
  private resolvedLeader = "";
  private resolvedVersion = -1;
  private leaderLog: ReplicaMirror | undefined = undefined;
  private readonly memberLogs: ReplicaMirror[] = [];
  private readonly memberPointers: Pointer[] = [];
  /** The acting leader's HW at the last check (-Infinity: there was no acting leader). */
  checkedHighWatermark = -Infinity;

  /** `node`'s log was cut at `offset` (truncation, recovery, an overwrite): nothing at or above it is verified. */
  onTruncate(node: string, offset: number, leader: string | null): void {
    for (const pointer of this.pointers) {
      if (node === leader || pointer.node === node) pointer.verified = Math.min(pointer.verified, offset);
    }
  }

  onDelete(node: string): void {
    for (const pointer of this.pointers) if (pointer.node === node) pointer.verified = 0;
  }

  /** Checks the partition's acting leader against its ISR; returns the first divergence found, if any. */
  check(view: PartitionView): Divergence | null {
    const acting = view.actingLeader();
    this.checkedHighWatermark = acting === null ? -Infinity : acting.role.highWatermark;
    if (acting === null) return null;
    if (acting.node !== this.leaderNode || acting.role.leaderEpoch !== this.leaderEpoch) {
      for (const pointer of this.pointers) pointer.verified = 0;
      this.leaderNode = acting.node;
      this.leaderEpoch = acting.role.leaderEpoch;
    }
    if (acting.role.isr !== this.resolvedIsr || acting.node !== this.resolvedLeader || view.replicasVersion !== this.resolvedVersion) {
      this.resolve(view, acting.node, acting.role.isr);
    }
    const leaderLog = this.leaderLog;
    if (leaderLog === undefined) return null;
    const highWatermark = acting.role.highWatermark;
    const memberLogs = this.memberLogs;
    for (let k = 0; k < memberLogs.length; k++) {
      const memberLog = memberLogs[k];
      const pointer = this.memberPointers[k];
      const end = Math.min(highWatermark, leaderLog.logEndOffset, memberLog.logEndOffset);
      const start = Math.max(pointer.verified, leaderLog.logStartOffset, memberLog.logStartOffset);
      // [start, end) lies inside both logs: the mirror compares its columns directly.
      const offset = start < end ? leaderLog.firstDifference(memberLog, start, end) : -1;
      if (offset >= 0) {
        return {
          offset,
          reference: acting.node,
          other: memberLog.node,
          referenceRecord: leaderLog.at(offset)!,
          otherRecord: memberLog.at(offset)!,
          leader: acting.node,
          leaderEpoch: acting.role.leaderEpoch,
          highWatermark,
        };
      }
      pointer.verified = Math.max(start, end);
    }
    return null;
  }

  private resolve(view: PartitionView, leader: string, isr: readonly string[]): void {
    this.resolvedIsr = isr;
    this.resolvedLeader = leader;
    this.resolvedVersion = view.replicasVersion;
    this.leaderLog = view.replicas.get(leader);
    this.memberLogs.length = 0;
    this.memberPointers.length = 0;
    for (const member of isr) {
      if (member === leader) continue;
      const memberLog = view.replicas.get(member);
      if (memberLog === undefined) continue;
      this.memberLogs.push(memberLog);
      this.memberPointers.push(this.pointer(member));
    }
  }

  private pointer(node: string): Pointer {
    for (const pointer of this.pointers) if (pointer.node === node) return pointer;
    const pointer = { node, verified: 0 };
    this.pointers.push(pointer);
    return pointer;
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
