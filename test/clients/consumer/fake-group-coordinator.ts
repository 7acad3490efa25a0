/**
 * A scripted fake broker with a small group coordinator, for group consumer tests: every broker answers
 * Metadata / Fetch / ListOffsets / OffsetsForLeaderEpoch as fake-cluster.ts's FakeBroker does, and the
 * coordinator broker answers FindCoordinator and the group APIs for one group. The group is deliberately simple:
 * a JoinGroup in Empty or Stable starts a rebalance that completes `joinWindowMs` later with the members that
 * joined (KIP-394's MEMBER_ID_REQUIRED first, if enabled); the leader's SyncGroup stores the assignment; heartbeats
 * answer REBALANCE_IN_PROGRESS during a rebalance, UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION when they are stale;
 * commits are fenced the same way. Tests queue errors to answer next (`script`), and see every request.
 */

import type {
  FindCoordinatorRequest,
  HeartbeatRequest,
  JoinGroupRequest,
  JoinGroupResponse,
  LeaveGroupRequest,
  OffsetCommitRequest,
  OffsetFetchRequest,
  SyncGroupRequest,
  SyncGroupResponse,
  ConsumerProtocolAssignment,
  ConsumerProtocolSubscription,
} from "../../../src/protocol/group.ts";
import type { KafkaError, TopicPartitionRef } from "../../../src/protocol/kafka.ts";
import type { Message, Process, ProcessContext } from "../../../src/sim/host.ts";
import { ms } from "../../../src/sim/time.ts";
import { FakeBroker, type FakeCluster } from "./fake-cluster.ts";

interface Member {
  readonly memberId: string;
  readonly instanceId: string | null;
  protocols: JoinGroupRequest["protocols"];
  joinReply: { from: string; correlationId: number } | null;
  syncReply: { from: string; correlationId: number } | null;
}

export interface GroupScript {
  join: KafkaError[];
  sync: KafkaError[];
  heartbeat: KafkaError[];
  commit: KafkaError[];
  offsetFetch: KafkaError[];
  findCoordinator: KafkaError[];
}

export class FakeGroup {
  state: "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" = "Empty";
  generation = 0;
  leader = "";
  protocol: string | null = null;
  readonly members = new Map<string, Member>();
  readonly assignments = new Map<string, ConsumerProtocolAssignment>();
  readonly offsets = new Map<string, number>();
  readonly script: GroupScript = { join: [], sync: [], heartbeat: [], commit: [], offsetFetch: [], findCoordinator: [] };
  memberIdRequired = true;
  joinWindowMs = 50;
  /** Silent coordinator: requests are recorded but not answered. */
  silent = false;
  private nextMember = 1;
  private joinTimerArmed = false;

  constructor(
    readonly groupId = "g",
    readonly coordinatorId = 1,
  ) {}

  newMemberId(clientId: string): string {
    return `${clientId}-${this.nextMember++}`;
  }

  get armed(): boolean {
    return this.joinTimerArmed;
  }

  set armed(value: boolean) {
    this.joinTimerArmed = value;
  }

  committed(topic: string, partition: number): number {
    return this.offsets.get(`${topic}-${partition}`) ?? -1;
  }
}

/** A fake broker that is also the group's coordinator when its id is the group's coordinatorId. */
export class FakeGroupBroker implements Process {
  private readonly broker: FakeBroker;

  constructor(
    private readonly context: ProcessContext,
    readonly brokerId: number,
    private readonly cluster: FakeCluster,
    private readonly group: FakeGroup,
  ) {
    this.broker = new FakeBroker(context, brokerId, cluster);
  }

  onStart(): void {}

  onTimer(tag: string, data: unknown): void {
    if (tag === "complete-join") {
      // The initial window has passed: complete once every member has rejoined.
      this.group.armed = false;
      this.windowPassed = true;
      this.maybeCompleteJoin();
      return;
    }
    if (tag === "rebalance-timeout") {
      if (data !== this.rebalance || this.group.state !== "PreparingRebalance") return;
      this.completeJoin();
      return;
    }
    this.broker.onTimer(tag, data);
  }

  onMessage(from: string, message: Message, connection: number): void {
    const group = this.group;
    const request = message as Message & { correlationId: number };
    const reply = (response: Record<string, unknown>): void => this.context.send(from, { ...response, correlationId: request.correlationId } as unknown as Message);
    switch (message.type) {
      case "FindCoordinator": {
        this.cluster.requests.push({ broker: this.brokerId, time: this.context.now(), request: message });
        void (message as FindCoordinatorRequest);
        const error = group.script.findCoordinator.shift() ?? "NONE";
        reply({ type: "FindCoordinatorResponse", error, nodeId: error === "NONE" ? group.coordinatorId : -1, host: error === "NONE" ? `broker-${group.coordinatorId}` : "" });
        return;
      }
      case "JoinGroup":
      case "SyncGroup":
      case "Heartbeat":
      case "LeaveGroup":
      case "OffsetCommit":
      case "OffsetFetch":
        this.cluster.requests.push({ broker: this.brokerId, time: this.context.now(), request: message });
        if (group.silent) return;
        if (this.brokerId !== group.coordinatorId) {
          this.notCoordinator(message.type, reply);
          return;
        }
        this.onGroupRequest(from, message, reply);
        return;
      default:
        this.broker.onMessage(from, message);
        void connection;
    }
  }

  private notCoordinator(type: string, reply: (response: Record<string, unknown>) => void): void {
    if (type === "OffsetCommit") reply({ type: "OffsetCommitResponse", partitions: [] });
    else if (type === "OffsetFetch") reply({ type: "OffsetFetchResponse", error: "NOT_COORDINATOR", partitions: [] });
    else reply({ type: `${type}Response`, error: "NOT_COORDINATOR", generationId: -1, protocolType: null, protocolName: null, leader: "", skipAssignment: false, memberId: "", members: [], assignment: { assignedPartitions: [], userData: null } });
  }

  private onGroupRequest(from: string, message: Message, reply: (response: Record<string, unknown>) => void): void {
    const group = this.group;
    switch (message.type) {
      case "JoinGroup": {
        const request = message as JoinGroupRequest;
        const scripted = group.script.join.shift();
        if (scripted !== undefined) {
          reply(joinResponse(scripted, request.memberId));
          return;
        }
        let memberId = request.memberId;
        if (memberId === "") {
          memberId = group.newMemberId(request.clientId);
          if (group.memberIdRequired) {
            this.pendingIds.add(memberId);
            reply(joinResponse("MEMBER_ID_REQUIRED", memberId));
            return;
          }
        } else if (!group.members.has(memberId) && !this.pendingIds.has(memberId)) {
          // A member id we never gave, or one already removed.
          reply(joinResponse("UNKNOWN_MEMBER_ID", memberId));
          return;
        }
        this.pendingIds.delete(memberId);
        const member = group.members.get(memberId) ?? { memberId, instanceId: request.groupInstanceId, protocols: request.protocols, joinReply: null, syncReply: null };
        member.protocols = request.protocols;
        member.joinReply = { from, correlationId: request.correlationId };
        group.members.set(memberId, member);
        this.prepareRebalance(request.rebalanceTimeoutMs);
        this.maybeCompleteJoin();
        return;
      }
      case "SyncGroup": {
        const request = message as SyncGroupRequest;
        const scripted = group.script.sync.shift();
        if (scripted !== undefined) {
          reply(syncResponse(scripted, []));
          return;
        }
        const member = group.members.get(request.memberId);
        if (member === undefined) return reply(syncResponse("UNKNOWN_MEMBER_ID", []));
        if (request.generationId !== group.generation) return reply(syncResponse("ILLEGAL_GENERATION", []));
        if (group.state === "PreparingRebalance") return reply(syncResponse("REBALANCE_IN_PROGRESS", []));
        if (group.state === "Stable") return reply(syncResponse("NONE", group.assignments.get(request.memberId)?.assignedPartitions ?? []));
        member.syncReply = { from, correlationId: request.correlationId };
        if (request.memberId === group.leader) {
          for (const { memberId, assignment } of request.assignments) group.assignments.set(memberId, assignment);
          group.state = "Stable";
          for (const m of group.members.values()) {
            if (m.syncReply === null) continue;
            this.context.send(m.syncReply.from, { ...syncResponse("NONE", group.assignments.get(m.memberId)?.assignedPartitions ?? []), correlationId: m.syncReply.correlationId } as unknown as Message);
            m.syncReply = null;
          }
        }
        return;
      }
      case "Heartbeat": {
        const request = message as HeartbeatRequest;
        const scripted = group.script.heartbeat.shift();
        if (scripted !== undefined) return reply({ type: "HeartbeatResponse", error: scripted });
        if (!group.members.has(request.memberId)) return reply({ type: "HeartbeatResponse", error: "UNKNOWN_MEMBER_ID" });
        if (request.generationId !== group.generation) return reply({ type: "HeartbeatResponse", error: "ILLEGAL_GENERATION" });
        if (group.state === "PreparingRebalance") return reply({ type: "HeartbeatResponse", error: "REBALANCE_IN_PROGRESS" });
        return reply({ type: "HeartbeatResponse", error: "NONE" });
      }
      case "LeaveGroup": {
        const request = message as LeaveGroupRequest;
        for (const { memberId } of request.members) group.members.delete(memberId);
        if (group.members.size === 0) group.state = "Empty";
        else {
          this.prepareRebalance(300_000);
          this.maybeCompleteJoin();
        }
        return reply({ type: "LeaveGroupResponse", error: "NONE", members: request.members.map((m) => ({ ...m, error: "NONE" })) });
      }
      case "OffsetCommit": {
        const request = message as OffsetCommitRequest;
        const scripted = group.script.commit.shift();
        let error: KafkaError = scripted ?? "NONE";
        if (scripted === undefined) {
          if (!group.members.has(request.memberId)) error = "UNKNOWN_MEMBER_ID";
          else if (request.generationId !== group.generation) error = "ILLEGAL_GENERATION";
          else if (group.state === "CompletingRebalance") error = "REBALANCE_IN_PROGRESS";
        }
        if (error === "NONE") for (const p of request.partitions) group.offsets.set(`${p.topic}-${p.partition}`, p.committedOffset);
        return reply({ type: "OffsetCommitResponse", partitions: request.partitions.map((p) => ({ topic: p.topic, partition: p.partition, error })) });
      }
      case "OffsetFetch": {
        const request = message as OffsetFetchRequest;
        const scripted = group.script.offsetFetch.shift();
        if (scripted !== undefined) return reply({ type: "OffsetFetchResponse", error: scripted, partitions: [] });
        const partitions = (request.partitions ?? []).map((p: TopicPartitionRef) => ({
          topic: p.topic,
          partition: p.partition,
          committedOffset: group.committed(p.topic, p.partition),
          committedLeaderEpoch: -1,
          metadata: null,
          error: "NONE",
        }));
        return reply({ type: "OffsetFetchResponse", error: "NONE", partitions });
      }
    }
  }

  private readonly pendingIds = new Set<string>();

  private windowPassed = false;
  private rebalance = 0;

  private maybeCompleteJoin(): void {
    const group = this.group;
    if (!this.windowPassed || group.state !== "PreparingRebalance") return;
    for (const member of group.members.values()) if (member.joinReply === null) return;
    this.completeJoin();
  }

  private prepareRebalance(rebalanceTimeoutMs: number): void {
    const group = this.group;
    if (group.state === "Empty" || group.state === "Stable" || group.state === "CompletingRebalance") {
      group.state = "PreparingRebalance";
      this.windowPassed = false;
      this.rebalance++;
      this.context.setTimer(ms(rebalanceTimeoutMs), "rebalance-timeout", this.rebalance);
      for (const m of group.members.values()) {
        if (m.syncReply !== null) {
          this.context.send(m.syncReply.from, { ...syncResponse("REBALANCE_IN_PROGRESS", []), correlationId: m.syncReply.correlationId } as unknown as Message);
          m.syncReply = null;
        }
      }
    }
    if (!group.armed) {
      group.armed = true;
      this.context.setTimer(ms(group.joinWindowMs), "complete-join");
    }
  }

  /** onCompleteJoin: members that did not rejoin are dropped; a new generation; the leader gets every subscription. */
  private completeJoin(): void {
    const group = this.group;
    for (const [memberId, member] of [...group.members]) if (member.joinReply === null) group.members.delete(memberId);
    if (group.members.size === 0) {
      group.state = "Empty";
      return;
    }
    group.generation++;
    group.state = "CompletingRebalance";
    group.assignments.clear();
    if (!group.members.has(group.leader)) group.leader = [...group.members.keys()][0];
    const first = [...group.members.values()][0];
    group.protocol = first.protocols[0].name;
    for (const member of group.members.values()) {
      const response: JoinGroupResponse = {
        type: "JoinGroupResponse",
        correlationId: member.joinReply!.correlationId,
        error: "NONE",
        generationId: group.generation,
        protocolType: "consumer",
        protocolName: group.protocol,
        leader: group.leader,
        skipAssignment: false,
        memberId: member.memberId,
        members:
          member.memberId === group.leader
            ? [...group.members.values()].map((m) => ({
                memberId: m.memberId,
                groupInstanceId: m.instanceId,
                metadata: m.protocols.find((p) => p.name === group.protocol)!.metadata as ConsumerProtocolSubscription,
              }))
            : [],
      };
      this.context.send(member.joinReply!.from, response);
      member.joinReply = null;
    }
  }
}

function joinResponse(error: KafkaError, memberId: string): Record<string, unknown> {
  return { type: "JoinGroupResponse", error, generationId: -1, protocolType: null, protocolName: null, leader: "", skipAssignment: false, memberId, members: [] };
}

function syncResponse(error: KafkaError, assignedPartitions: readonly TopicPartitionRef[]): Omit<SyncGroupResponse, "correlationId"> {
  return { type: "SyncGroupResponse", error, protocolType: error === "NONE" ? "consumer" : null, protocolName: null, assignment: { assignedPartitions, userData: null } };
}
