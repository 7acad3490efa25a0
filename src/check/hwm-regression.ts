/**
 * The `hwm-regression` checks of the replication checkers, read from the trace through a PartitionView.
 *
 * `hwm-regression` has two shapes:
 *  (a) "leader-hwm-decreased": a broker acting as leader lowers its HW within one leadership (same broker, same
 *      leaderEpoch, between its become-leader and the host going down). Kafka's leader HW only moves forwards.
 *  (b) "committed-data-lost": committed data regresses across an election. The partition's committed offset is
 *      the highest HW ever exposed by its acting leader (a hwm event with role "leader" from the broker that is
 *      the acting leader at that moment, at the leaderEpoch it leads). When a broker then becomes leader at a
 *      higher leaderEpoch with a logEndOffset (as its become-leader event reports it) below the committed offset,
 *      records every consumer could read are gone from the new leader's log. Only the new leader's log end is
 *      compared, never its HW: a new leader's HW legitimately lags the old leader's for a round trip while its
 *      log covers it. Under today's safe behaviour (kip-320 truncation, unclean election off, acks=all) a clean
 *      leader was in the ISR, which the old HW counted, so its log end is at or above the committed offset. It
 *      fires for KIP-101 case 1 (a follower truncated to a stale HW, then elected), for unclean elections that
 *      lose committed records, and for a replica that lost unsynced committed records in a power loss and was
 *      then elected (Kafka's real exposure without fsync, DESIGN.md's "disk").
 */

import type { PartitionView, ReplicaRole } from "./partition-view.ts";
import type { MirrorRecord } from "./replica-mirror.ts";
import type { Violation } from "./violation.ts";

/** The controller's leader-elected event behind a leadership (evidence). */
export interface ElectionInfo {
  leaderEpoch: number;
  unclean: boolean;
  reason: unknown;
  time: number;
}

/** Evidence lists at most this many lost records. */
const LOST_RECORDS_SHOWN = 20;

/** (b): `leader` becomes leader at `leaderEpoch` with `logEndOffset`; checked before its role is recorded. */
export function committedDataLost(
  view: PartitionView,
  leader: { node: string; time: number; leaderEpoch: number; logEndOffset: number },
  election: ElectionInfo | null,
): Violation | null {
  const committed = view.committed;
  if (committed === null || leader.leaderEpoch <= committed.leaderEpoch || leader.logEndOffset >= committed.offset) return null;
  const oldLog = view.replicas.get(committed.node);
  const lostRecords: { offset: number; record: MirrorRecord | null }[] = [];
  for (let offset = leader.logEndOffset; offset < committed.offset && lostRecords.length < LOST_RECORDS_SHOWN; offset++) {
    lostRecords.push({ offset, record: oldLog?.at(offset) ?? null });
  }
  return {
    name: "hwm-regression",
    time: leader.time,
    nodes: committed.node === leader.node ? [leader.node] : [leader.node, committed.node],
    evidence: {
      shape: "committed-data-lost",
      topicPartition: view.topicPartition,
      newLeader: leader.node,
      leaderEpoch: leader.leaderEpoch,
      logEndOffset: leader.logEndOffset,
      committed: { ...committed },
      unclean: election?.unclean ?? null,
      electionReason: election?.reason ?? null,
      lostRecords,
    },
  };
}

/** (a): `node`, leading as `role`, reports `highWatermark`; checked before the role's HW is updated. */
export function leaderHwmDecreased(view: PartitionView, node: string, role: ReplicaRole, highWatermark: number, time: number): Violation | null {
  if (highWatermark >= role.maxHighWatermark) return null;
  return {
    name: "hwm-regression",
    time,
    nodes: [node],
    evidence: {
      shape: "leader-hwm-decreased",
      topicPartition: view.topicPartition,
      leader: node,
      leaderEpoch: role.leaderEpoch,
      highWatermark,
      previousMaxHighWatermark: role.maxHighWatermark,
      leaderSince: role.since,
    },
  };
}
