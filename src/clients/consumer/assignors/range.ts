/**
 * RangeAssignor (clients/.../consumer/RangeAssignor.java, Kafka 3.6): per topic, the partitions in numeric
 * order are split into contiguous ranges over the topic's subscribers in MemberInfo order (static members by
 * group.instance.id first); the first `partitions % consumers` subscribers get one extra. Topics are visited
 * in the order Kafka's HashMap of topics yields them, so each member's list is in Kafka's order too.
 * Simplified: no rack-aware matching (KIP-881).
 */

import type { TopicPartitionRef } from "../../../protocol/kafka.ts";
import type { ConsumerPartitionAssignor, RebalanceProtocol, Subscription } from "./partition-assignor.ts";
import { compareMemberInfos, javaStringHashOrder, type MemberInfo } from "./java-order.ts";

export class RangeAssignor implements ConsumerPartitionAssignor {
  readonly name = "range";
  readonly supportedProtocols: readonly RebalanceProtocol[] = ["EAGER"];

  subscriptionUserData(): unknown {
    return null;
  }

  onAssignment(): void {}

  assign(partitionsPerTopic: ReadonlyMap<string, number>, subscriptions: ReadonlyMap<string, Subscription>): Map<string, TopicPartitionRef[]> {
    const consumersPerTopic = new Map<string, MemberInfo[]>();
    for (const [memberId, subscription] of subscriptions) {
      for (const topic of subscription.topics) {
        const members = consumersPerTopic.get(topic) ?? [];
        members.push({ memberId, groupInstanceId: subscription.groupInstanceId });
        consumersPerTopic.set(topic, members);
      }
    }
    const assignment = new Map<string, TopicPartitionRef[]>();
    for (const memberId of subscriptions.keys()) assignment.set(memberId, []);

    for (const topic of javaStringHashOrder(partitionsPerTopic.keys())) {
      const numPartitions = partitionsPerTopic.get(topic) ?? 0;
      if (numPartitions === 0) continue;
      const consumers = [...(consumersPerTopic.get(topic) ?? [])].sort(compareMemberInfos);
      if (consumers.length === 0) continue;
      const numPartitionsPerConsumer = Math.floor(numPartitions / consumers.length);
      const consumersWithExtraPartition = numPartitions % consumers.length;
      let next = 0;
      consumers.forEach((consumer, index) => {
        const count = numPartitionsPerConsumer + (index < consumersWithExtraPartition ? 1 : 0);
        const partitions = assignment.get(consumer.memberId) ?? [];
        for (let i = 0; i < count; i++) partitions.push({ topic, partition: next++ });
      });
      if (next !== numPartitions) throw new Error(`RangeAssignor: assigned ${next} of ${numPartitions} partitions of ${topic}`);
    }
    return assignment;
  }
}
