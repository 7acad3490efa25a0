/**
 * A world for group consumer tests: fake brokers (fake-cluster.ts) of which one is a fake group coordinator
 * (fake-group-coordinator.ts), group consumer workloads on their own hosts, and two small assignors of the test's
 * own (the real ones come with helper A's branch): an eager range assignor and a cooperative one that withholds
 * a partition changing owner for one rebalance, as KIP-429 requires.
 */

import { expect } from "chai";
import type { ConsumerPartitionAssignor, RebalanceProtocol, Subscription } from "../../../src/clients/consumer/assignors/partition-assignor.ts";
import { Network } from "../../../src/net/network.ts";
import type { TopicPartitionRef } from "../../../src/protocol/kafka.ts";
import type { HostDisk } from "../../../src/sim/host.ts";
import { ms } from "../../../src/sim/time.ts";
import type { TraceEvent } from "../../../src/sim/trace.ts";
import { World } from "../../../src/sim/world.ts";
import { GroupConsumerWorkload, type GroupConsumerWorkloadConfig } from "../../../src/workload/group-consumer-workload.ts";
import { FakeCluster } from "./fake-cluster.ts";
import { FakeGroup, FakeGroupBroker } from "./fake-group-coordinator.ts";

const diskStub: HostDisk = { onCrash() {}, onPowerLoss() {} };

/** Per topic over sorted members: the first P % C get one more (RangeAssignor's shape). */
export class TestRangeAssignor implements ConsumerPartitionAssignor {
  readonly name: string = "range";
  readonly supportedProtocols: readonly RebalanceProtocol[] = ["EAGER"];
  readonly assignedHistory: TopicPartitionRef[][] = [];

  subscriptionUserData(): unknown {
    return null;
  }

  assign(partitionsPerTopic: ReadonlyMap<string, number>, subscriptions: ReadonlyMap<string, Subscription>): Map<string, TopicPartitionRef[]> {
    const members = [...subscriptions.keys()].sort();
    const result = new Map<string, TopicPartitionRef[]>(members.map((m) => [m, []]));
    for (const [topic, count] of partitionsPerTopic) {
      const subscribers = members.filter((m) => subscriptions.get(m)!.topics.includes(topic));
      const per = Math.floor(count / subscribers.length);
      const extra = count % subscribers.length;
      let next = 0;
      subscribers.forEach((member, i) => {
        const n = per + (i < extra ? 1 : 0);
        for (let k = 0; k < n; k++) result.get(member)!.push({ topic, partition: next++ });
      });
    }
    return result;
  }

  onAssignment(assignment: readonly TopicPartitionRef[]): void {
    this.assignedHistory.push([...assignment]);
  }
}

/** Range's target, minus partitions another member still owns (they go out in the next rebalance). */
export class TestCooperativeAssignor extends TestRangeAssignor {
  override readonly name = "cooperative-sticky";
  override readonly supportedProtocols: readonly RebalanceProtocol[] = ["COOPERATIVE", "EAGER"];

  override assign(partitionsPerTopic: ReadonlyMap<string, number>, subscriptions: ReadonlyMap<string, Subscription>): Map<string, TopicPartitionRef[]> {
    const target = super.assign(partitionsPerTopic, subscriptions);
    const owner = new Map<string, string>();
    for (const [member, subscription] of subscriptions) for (const tp of subscription.ownedPartitions) owner.set(`${tp.topic}-${tp.partition}`, member);
    for (const [member, partitions] of target) {
      target.set(
        member,
        partitions.filter((tp) => {
          const current = owner.get(`${tp.topic}-${tp.partition}`);
          return current === undefined || current === member;
        }),
      );
    }
    return target;
  }
}

export interface GroupHarness {
  world: World;
  cluster: FakeCluster;
  group: FakeGroup;
  events: TraceEvent[];
  workloads: Map<string, GroupConsumerWorkload>;
  runTo(atMs: number): void;
  ops(f: string, process?: string): TraceEvent[];
  kinds(kind: string, process?: string): TraceEvent[];
}

export type WorkloadOptions = Partial<GroupConsumerWorkloadConfig> & { assignor?: () => ConsumerPartitionAssignor };

export function groupHarness(cluster: FakeCluster, consumers: Record<string, WorkloadOptions>, setup: (group: FakeGroup) => void = () => {}): GroupHarness {
  const world = new World(1);
  new Network(world, { latency: { dist: "constant", us: 1000 } });
  const events: TraceEvent[] = [];
  world.trace.observe((event) => events.push(event));
  const group = new FakeGroup("g", cluster.brokerIds[0]);
  setup(group);
  for (const id of cluster.brokerIds) world.addHost(`broker-${id}`, diskStub, (context) => new FakeGroupBroker(context, id, cluster, group)).start();
  const workloads = new Map<string, GroupConsumerWorkload>();
  for (const [id, options] of Object.entries(consumers)) {
    const { assignor, ...rest } = options;
    const config: GroupConsumerWorkloadConfig = {
      bootstrap: ["broker-1"],
      topics: [cluster.topic],
      groupId: "g",
      version: "3.x",
      processMs: 0,
      commit: "auto",
      ...rest,
      config: { "partition.assignment.strategy": ["range"], ...rest.config },
    };
    world
      .addHost(id, diskStub, (context) => {
        const workload = new GroupConsumerWorkload(context, config, () => (assignor ?? (() => new TestRangeAssignor()))());
        workloads.set(id, workload);
        return workload;
      })
      .start();
  }
  return {
    world,
    cluster,
    group,
    events,
    workloads,
    runTo(atMs) {
      const verdict = world.kernel.run({ untilUs: ms(atMs), maxEvents: 2_000_000 });
      if (verdict.reason === "model-error") throw verdict.error;
      expect(verdict.reason).to.be.oneOf(["time-limit", "quiescent"]);
    },
    ops(f, process) {
      return events.filter((e) => e.kind === "op" && e.f === f && (process === undefined || e.process === process));
    },
    kinds(kind, process) {
      return events.filter((e) => e.kind === kind && (process === undefined || e.process === process));
    },
  };
}
