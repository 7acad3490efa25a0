/**
 * The replication checkers' view of one partition, built only from trace events: every replica's mirrored log
 * and every broker's current role (leader or follower, leader epoch, the leader's ISR and high watermark). It
 * models no Kafka component. A broker's role is what its latest become-leader / become-follower said, until the
 * host goes down (crash, power loss, shutdown) or starts again: then it has no role, while its mirrored log stays,
 * as the disk keeps it. The acting leader is the live broker whose latest become-leader has the highest leaderEpoch.
 */

import { brokerHost } from "../protocol/kafka.ts";
import { ReplicaMirror } from "./replica-mirror.ts";

export interface ReplicaRole {
  readonly role: "leader" | "follower";
  readonly leaderEpoch: number;
  /** The leader's ISR as broker host names (leaders only; followers keep []). */
  isr: string[];
  highWatermark: number;
  /** The highest HW this broker exposed during this leadership (leaders only). */
  maxHighWatermark: number;
  /** Virtual µs of the become-leader / become-follower event. */
  readonly since: number;
}

/** The highest HW the acting leader of a partition has exposed, and who exposed it when. */
export interface Committed {
  offset: number;
  node: string;
  leaderEpoch: number;
  time: number;
}

export class PartitionView {
  /** Changed only through replica() and dropReplica() (they count `replicasVersion`). */
  private readonly replicaMap = new Map<string, ReplicaMirror>();
  /** Bumped whenever a replica's mirror is created or dropped: the StrongIsr check's resolved members follow it. */
  replicasVersion = 0;
  /** Changed only through becomeLeader, becomeFollower and dropRole (they keep actingLeader's cache right). */
  private readonly roleMap = new Map<string, ReplicaRole>();

  get roles(): ReadonlyMap<string, ReplicaRole> {
    return this.roleMap;
  }

  get replicas(): ReadonlyMap<string, ReplicaMirror> {
    return this.replicaMap;
  }

  committed: Committed | null = null;

  constructor(readonly topicPartition: string) {}

  replica(node: string): ReplicaMirror {
    let mirror = this.replicaMap.get(node);
    if (mirror === undefined) {
      mirror = new ReplicaMirror(node, this.topicPartition);
      this.replicaMap.set(node, mirror);
      this.replicasVersion++;
    }
    return mirror;
  }

  /** `node`'s replica was deleted (log-delete). */
  dropReplica(node: string): void {
    if (this.replicaMap.delete(node)) this.replicasVersion++;
  }

  /**
   * The live broker whose latest become-leader has the highest leaderEpoch (the first such role in `roles`
   * order on a tie), or null. Cached: the StrongIsr check asks after most checked events, and the roles change
   * only at role and host events (every change goes through becomeLeader, becomeFollower or dropRole).
   */
  actingLeader(): { node: string; role: ReplicaRole } | null {
    if (this.actingStale) {
      this.actingStale = false;
      let bestNode: string | null = null;
      let bestRole: ReplicaRole | null = null;
      for (const [node, role] of this.roles) {
        if (role.role !== "leader") continue;
        if (bestRole === null || role.leaderEpoch > bestRole.leaderEpoch) {
          bestNode = node;
          bestRole = role;
        }
      }
      this.acting = bestNode === null || bestRole === null ? null : { node: bestNode, role: bestRole };
    }
    return this.acting;
  }

  /** The last actingLeader() answer (callers only read it); recomputed after a role change. */
  private acting: { node: string; role: ReplicaRole } | null = null;
  private actingStale = true;

  /** `node` has no role any more (its host went down or started, or its replica was deleted). */
  dropRole(node: string): void {
    if (this.roleMap.delete(node)) this.actingStale = true;
  }

  becomeLeader(node: string, leaderEpoch: number, isr: readonly number[], highWatermark: number, time: number): ReplicaRole {
    const role: ReplicaRole = {
      role: "leader",
      leaderEpoch,
      isr: isr.map(brokerHost),
      highWatermark,
      maxHighWatermark: highWatermark,
      since: time,
    };
    this.roleMap.set(node, role);
    this.actingStale = true;
    return role;
  }

  becomeFollower(node: string, leaderEpoch: number, highWatermark: number, time: number): void {
    this.roleMap.set(node, { role: "follower", leaderEpoch, isr: [], highWatermark, maxHighWatermark: highWatermark, since: time });
    this.actingStale = true;
  }

  /** The broker that is leader at exactly `leaderEpoch`, if it still holds that role. */
  leaderAt(leaderEpoch: number): { node: string; role: ReplicaRole } | null {
    for (const [node, role] of this.roles) {
      if (role.role === "leader" && role.leaderEpoch === leaderEpoch) return { node, role };
    }
    return null;
  }

  /** True once no replica holds a log and no broker has a role (a deleted partition). */
  isEmpty(): boolean {
    return this.replicas.size === 0 && this.roles.size === 0;
  }
}
