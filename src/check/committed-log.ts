/**
 * A partition's committed log as the history checkers read it at the end of a run, from the replication
 * checkers' mirror. With an acting leader: its records below its HW — the log every consumer reads. Without one
 * (every replica down, or no leader elected): the union of the replicas' records below the committed offset (the
 * highest HW a leader exposed), because a record still on some replica's disk is not known to be lost; a future
 * election decides, and the run's settle phase normally elects a leader first.
 *
 * It reads the mirrors in place (nothing is copied); `values`, the set of every committed value, is built on
 * first use only: the checks ask `valueAt` first.
 */

import type { PartitionView } from "./partition-view.ts";
import type { MirrorRecord, ReplicaMirror } from "./replica-mirror.ts";

export interface CommittedLog {
  topicPartition: string;
  /** "leader": the acting leader's records below its HW; "replicas": no leader, the union below the committed offset. */
  source: "leader" | "replicas";
  leader: string | null;
  /** Offsets below this are committed. */
  highWatermark: number;
  /** Below this the leader no longer holds records (retention): nothing there can be judged lost. */
  logStartOffset: number;
  /** The committed records at an offset: one from the leader, or each distinct one held by a replica. */
  recordsAt(offset: number): MirrorRecord[];
  /**
   * The one value committed at an offset, without allocating: undefined when no record is committed there or
   * the replicas hold different values (records that differ only in their leader epoch share a value).
   */
  valueAt(offset: number): string | null | undefined;
  /** Every committed value (built on first use). */
  readonly values: Set<string | null>;
}

export function committedLog(view: PartitionView): CommittedLog {
  const topicPartition = view.topicPartition;
  const acting = view.actingLeader();
  const leaderLog = acting === null ? undefined : view.replicas.get(acting.node);
  if (acting !== null && leaderLog !== undefined) {
    const highWatermark = Math.min(acting.role.highWatermark, leaderLog.logEndOffset);
    const logStartOffset = leaderLog.logStartOffset;
    let values: Set<string | null> | null = null;
    return {
      topicPartition,
      source: "leader",
      leader: acting.node,
      highWatermark,
      logStartOffset,
      recordsAt: (offset) => {
        const record = offset < highWatermark ? leaderLog.at(offset) : undefined;
        return record === undefined ? [] : [record];
      },
      valueAt: (offset) => (offset < highWatermark && leaderLog.knows(offset) ? leaderLog.valueAt(offset) : undefined),
      get values() {
        if (values === null) {
          values = new Set<string | null>();
          for (let offset = logStartOffset; offset < highWatermark; offset++) if (leaderLog.knows(offset)) values.add(leaderLog.valueAt(offset));
        }
        return values;
      },
    };
  }
  const highWatermark = view.committed?.offset ?? 0;
  const replicas = [...view.replicas.values()];
  const recordsAt = (offset: number): MirrorRecord[] => {
    if (offset >= highWatermark) return [];
    const found: MirrorRecord[] = [];
    for (const replica of replicas) {
      const record = replica.at(offset);
      if (record !== undefined && !found.some((other) => other.id === record.id)) found.push(record);
    }
    return found;
  };
  const valueAt = (offset: number): string | null | undefined => {
    if (offset >= highWatermark) return undefined;
    let holder: ReplicaMirror | null = null;
    for (const replica of replicas) {
      if (!replica.knows(offset)) continue;
      if (holder === null) holder = replica;
      else if (replica.valueAt(offset) !== holder.valueAt(offset)) return undefined;
    }
    return holder === null ? undefined : holder.valueAt(offset);
  };
  let values: Set<string | null> | null = null;
  return {
    topicPartition,
    source: "replicas",
    leader: null,
    highWatermark,
    logStartOffset: 0,
    recordsAt,
    valueAt,
    get values() {
      if (values === null) {
        values = new Set<string | null>();
        for (let offset = 0; offset < highWatermark; offset++) {
          for (const replica of replicas) if (replica.knows(offset)) values.add(replica.valueAt(offset));
        }
      }
      return values;
    },
  };
}
