/**
 * RoundRobinAssignor (clients/.../consumer/RoundRobinAssignor.java, Kafka 3.6): every partition of every
 * subscribed topic, topics in name order (a TreeSet), is dealt to the members in MemberInfo order on a
 * circular iterator, skipping members not subscribed to the partition's topic.
 */

import type { TopicPartitionRef } from "../../../protocol/kafka.ts";
import type { ConsumerPartitionAssignor, RebalanceProtocol, Subscription } from "./partition-assignor.ts";
import { compareMemberInfos, compareStrings, type MemberInfo } from "./java-order.ts";

export class RoundRobinAssignor implements ConsumerPartitionAssignor {
  readonly name = "roundrobin";
  readonly supportedProtocols: readonly RebalanceProtocol[] = ["EAGER"];

  subscriptionUserData(): unknown {
    return null;
  }

  onAssignment(): void {}

  assign(partitionsPerTopic: ReadonlyMap<string, number>, subscriptions: ReadonlyMap<string, Subscription>): Map<string, TopicPartitionRef[]> {
    const assignment = new Map<string, TopicPartitionRef[]>();
    const members: MemberInfo[] = [];
    for (const [memberId, subscription] of subscriptions) {
      assignment.set(memberId, []);
      members.push({ memberId, groupInstanceId: subscription.groupInstanceId });
    }
    members.sort(compareMemberInfos);

    const topics = [...new Set([...subscriptions.values()].flatMap((subscription) => subscription.topics))].sort(compareStrings);
    // CircularIterator: `next` is the index peek() would return.
    let next = 0;
    for (const topic of topics) {
      const numPartitions = partitionsPerTopic.get(topic);
      if (numPartitions === undefined) continue;
      for (let partition = 0; partition < numPartitions; partition++) {
        // Some member subscribes to every topic in `topics`, so this loop ends within one turn.
        while (!subscriptions.get(members[next].memberId)?.topics.includes(topic)) next = (next + 1) % members.length;
        assignment.get(members[next].memberId)?.push({ topic, partition });
        next = (next + 1) % members.length;
      }
    }
    return assignment;
  }
}
