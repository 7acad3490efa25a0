/**
 * The replication checkers' partition view and StrongIsr tracker as they were before issue 18 round 3 (an
 * acting-leader scan per call, a Map of verified pointers per check): test/check/replication-reference.ts runs them,
 * and test/check/replication-model.test.ts holds the optimised checkers to the same violations.
 */

import { brokerHost } from "../../src/protocol/kafka.ts";
import type { Divergence } from "../../src/check/divergence.ts";
import { ReplicaMirror } from "../../src/check/replica-mirror.ts";

interface ReplicaRole {
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
interface Committed {
  offset: number;
  node: string;
  leaderEpoch: number;
  time: number;
}

export class ReferencePartitionView {
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

export class ReferenceStrongIsrTracker {
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
  check(view: ReferencePartitionView): Divergence | null {
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
