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
  readonly replicas = new Map<string, ReplicaMirror>();
  readonly roles = new Map<string, ReplicaRole>();
  committed: Committed | null = null;

  constructor(readonly topicPartition: string) {}

  replica(node: string): ReplicaMirror {
    let mirror = this.replicas.get(node);
    if (mirror === undefined) {
      mirror = new ReplicaMirror(node, this.topicPartition);
      this.replicas.set(node, mirror);
    }
    return mirror;
  }

  /** The live broker whose latest become-leader has the highest leaderEpoch, or null. */
  actingLeader(): { node: string; role: ReplicaRole } | null {
    this.bestNode = null;
    this.bestRole = null;
    // forEach with a callback made once, not for-of over entries nor a fresh closure: this runs after every
    // checked event and should not allocate.
    this.roles.forEach(this.considerLeader);
    const bestNode = this.bestNode as string | null;
    const bestRole = this.bestRole as ReplicaRole | null;
    if (bestNode === null || bestRole === null) return null;
    const acting = this.acting;
    if (acting === null || acting.node !== bestNode || acting.role !== bestRole) this.acting = { node: bestNode, role: bestRole };
    return this.acting;
  }

  /** The last actingLeader() answer, reused while it stays the same (callers only read it). */
  private acting: { node: string; role: ReplicaRole } | null = null;
  /** actingLeader's scan state: the best leader so far. */
  private bestNode: string | null = null;
  private bestRole: ReplicaRole | null = null;
  private readonly considerLeader = (role: ReplicaRole, node: string): void => {
    if (role.role !== "leader") return;
    if (this.bestRole === null || role.leaderEpoch > this.bestRole.leaderEpoch) {
      this.bestNode = node;
      this.bestRole = role;
    }
  };

  becomeLeader(node: string, leaderEpoch: number, isr: readonly number[], highWatermark: number, time: number): ReplicaRole {
    const role: ReplicaRole = {
      role: "leader",
      leaderEpoch,
      isr: isr.map(brokerHost),
      highWatermark,
      maxHighWatermark: highWatermark,
      since: time,
    };
    this.roles.set(node, role);
    return role;
  }

  becomeFollower(node: string, leaderEpoch: number, highWatermark: number, time: number): void {
    this.roles.set(node, { role: "follower", leaderEpoch, isr: [], highWatermark, maxHighWatermark: highWatermark, since: time });
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
