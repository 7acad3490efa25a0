/**
 * Integration harness for the group coordinator: a real simulated cluster (ZooKeeper, brokers, controller, the
 * scenario builder's world) and a test client host ("client") that sends group requests over the network and
 * keeps every response by correlation id. Tests drive it step by step: send, run until answered.
 */

import { expect } from "chai";
import type { KafkaBroker } from "../../../../src/broker/broker.ts";
import { Disk } from "../../../../src/disk/disk.ts";
import type {
  FindCoordinatorResponse,
  HeartbeatResponse,
  JoinGroupResponse,
  OffsetCommitResponse,
  OffsetFetchResponse,
  SyncGroupResponse,
} from "../../../../src/protocol/group.ts";
import { buildWorld, type BuiltWorld } from "../../../../src/scenario/build.ts";
import { validateScenario } from "../../../../src/scenario/load.ts";
import type { Message, Process, ProcessContext } from "../../../../src/sim/host.ts";
import { ms } from "../../../../src/sim/time.ts";
import { MemorySink, type TraceEvent } from "../../../../src/sim/trace.ts";

export const GROUP = "g1";

export class Client implements Process {
  readonly received: Message[] = [];
  private correlationId = 0;
  constructor(readonly context: ProcessContext<Disk>) {}
  onStart(): void {}
  onTimer(): void {}
  onMessage(_from: string, message: Message): void {
    this.received.push(message);
  }
  send(to: string, message: Record<string, unknown>): number {
    const correlationId = ++this.correlationId;
    this.context.send(to, { ...message, correlationId, sizeBytes: 64 } as unknown as Message);
    return correlationId;
  }
  answer<T>(correlationId: number): T | undefined {
    return this.received.find((m) => (m as unknown as { correlationId: number }).correlationId === correlationId) as T | undefined;
  }
}

export interface MemberSpec {
  clientId: string;
  memberId?: string;
  instanceId?: string | null;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  topics?: string[];
}

export class GroupCluster {
  readonly built: BuiltWorld;
  private readonly sink = new MemorySink();

  constructor(config: Record<string, unknown> = {}, options: { brokers?: number; version?: string; compat?: Record<string, unknown>; seed?: number } = {}) {
    const scenario = validateScenario(
      {
        name: "group-coordinator",
        seed: options.seed ?? 5,
        duration: "600s",
        cluster: {
          zookeeper: { servers: 1 },
          brokers: options.brokers ?? 3,
          ...(options.version !== undefined ? { version: options.version } : {}),
          ...(options.compat !== undefined ? { compat: options.compat } : {}),
          config: { "offsets.topic.num.partitions": 3, ...config },
        },
        topics: [{ name: "t", partitions: 2, replicationFactor: 1 }],
      },
      "group-coordinator.json",
    );
    this.built = buildWorld(scenario, options.seed ?? 5);
    this.built.world.trace.addSink(this.sink);
    this.built.world.addHost("client", new Disk(this.built.world, "client"), (context) => new Client(context));
    for (const host of this.built.world.hosts) host.start();
  }

  get client(): Client {
    return this.built.world.host("client").process as Client;
  }

  broker(name: string): KafkaBroker {
    return this.built.world.host(name).process as KafkaBroker;
  }

  run(msLimit: number, until: () => boolean = () => false): boolean {
    const world = this.built.world;
    const end = world.now + ms(msLimit);
    while (world.now < end) {
      if (until()) return true;
      const verdict = world.kernel.run({ untilUs: Math.min(end, world.now + ms(1)), maxEvents: 10_000_000 });
      if (verdict.reason === "model-error") throw verdict.error;
    }
    return until();
  }

  /** Sends and runs until answered (or `limitMs`); the answer or undefined. */
  request<T>(to: string, message: Record<string, unknown>, limitMs = 10_000): T | undefined {
    const id = this.client.send(to, message);
    this.run(limitMs, () => this.client.answer(id) !== undefined);
    return this.client.answer<T>(id);
  }

  /** FindCoordinator until a coordinator is known (the first one creates __consumer_offsets). */
  findCoordinator(groupId = GROUP, via = "broker-1", limitMs = 60_000): string {
    let found: FindCoordinatorResponse | undefined;
    const ok = this.run(limitMs, () => {
      found = this.request<FindCoordinatorResponse>(via, { type: "FindCoordinator", key: groupId, keyType: 0 }, 1000);
      if (found?.error === "NONE") return true;
      this.run(100);
      return false;
    });
    expect(ok, `a coordinator for ${groupId}`).to.equal(true);
    return found!.host;
  }

  /** Sends a JoinGroup and returns its correlation id (the answer may be parked). */
  sendJoin(to: string, member: MemberSpec, groupId = GROUP): number {
    return this.client.send(to, {
      type: "JoinGroup",
      groupId,
      sessionTimeoutMs: member.sessionTimeoutMs ?? 10_000,
      rebalanceTimeoutMs: member.rebalanceTimeoutMs ?? 30_000,
      memberId: member.memberId ?? "",
      groupInstanceId: member.instanceId ?? null,
      clientId: member.clientId,
      protocolType: "consumer",
      protocols: [{ name: "range", metadata: { topics: member.topics ?? ["t"], userData: null, ownedPartitions: [], generationId: -1 } }],
      reason: null,
    });
  }

  awaitAnswer<T>(id: number, limitMs = 30_000): T {
    expect(this.run(limitMs, () => this.client.answer(id) !== undefined), `answer to ${id}`).to.equal(true);
    return this.client.answer<T>(id)!;
  }

  join(to: string, member: MemberSpec, groupId = GROUP, limitMs = 30_000): JoinGroupResponse {
    return this.awaitAnswer<JoinGroupResponse>(this.sendJoin(to, member, groupId), limitMs);
  }

  sendSync(to: string, memberId: string, generationId: number, assignments: { memberId: string; partitions: number[] }[] = [], instanceId: string | null = null): number {
    return this.client.send(to, {
      type: "SyncGroup",
      groupId: GROUP,
      generationId,
      memberId,
      groupInstanceId: instanceId,
      protocolType: "consumer",
      protocolName: "range",
      assignments: assignments.map((a) => ({ memberId: a.memberId, assignment: { assignedPartitions: a.partitions.map((p) => ({ topic: "t", partition: p })), userData: null } })),
    });
  }

  heartbeat(to: string, memberId: string, generationId: number, instanceId: string | null = null): HeartbeatResponse | undefined {
    return this.request<HeartbeatResponse>(to, { type: "Heartbeat", groupId: GROUP, memberId, generationId, groupInstanceId: instanceId });
  }

  commit(to: string, memberId: string, generationId: number, offsets: Record<number, number>, instanceId: string | null = null): OffsetCommitResponse | undefined {
    return this.request<OffsetCommitResponse>(to, {
      type: "OffsetCommit",
      groupId: GROUP,
      generationId,
      memberId,
      groupInstanceId: instanceId,
      partitions: Object.entries(offsets).map(([p, offset]) => ({ topic: "t", partition: Number(p), committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: null })),
    });
  }

  fetchOffsets(to: string, partitions: number[] = [0, 1]): OffsetFetchResponse | undefined {
    return this.request<OffsetFetchResponse>(to, { type: "OffsetFetch", groupId: GROUP, partitions: partitions.map((p) => ({ topic: "t", partition: p })), requireStable: false }, 2000);
  }

  /** A dynamic member joins with MEMBER_ID_REQUIRED first; returns the id it got. */
  memberId(to: string, clientId: string): string {
    const first = this.join(to, { clientId });
    expect(first.error).to.equal("MEMBER_ID_REQUIRED");
    expect(first.memberId.startsWith(`${clientId}-`)).to.equal(true);
    return first.memberId;
  }

  events(kind?: string): TraceEvent[] {
    const events = this.sink.lines.map((line) => JSON.parse(line) as TraceEvent).filter((e) => e.kind !== undefined);
    return kind === undefined ? events : events.filter((e) => e.kind === kind);
  }
}

export function syncAnswer(cluster: GroupCluster, id: number): SyncGroupResponse {
  return cluster.awaitAnswer<SyncGroupResponse>(id);
}
