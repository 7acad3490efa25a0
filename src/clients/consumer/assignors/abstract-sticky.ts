/**
 * AbstractStickyAssignor (clients/.../consumer/internals/AbstractStickyAssignor.java, Kafka 3.6): the
 * sticky assignment shared by StickyAssignor and CooperativeStickyAssignor. Each member's claimed ownership
 * (MemberData, from the user data or from ownedPartitions + generationId) is cleaned by Kafka's conflict
 * rules — of two members claiming one partition the higher generation keeps it, equal generations both lose
 * it — and then the constrained builder (every member subscribes to the same topics) or the general one
 * builds an assignment as balanced as possible that moves as few partitions as possible. Members are
 * visited in the order Kafka's HashMap<String, Subscription> yields them (see java-order.ts).
 * Simplified: no rack awareness (KIP-881).
 */

import type { TopicPartitionRef } from "../../../protocol/kafka.ts";
import type { ConsumerPartitionAssignor, RebalanceProtocol, Subscription } from "./partition-assignor.ts";
import { constrainedAssign, type TransferringPartition } from "./constrained-assignment.ts";
import { DEFAULT_GENERATION, GeneralAssignmentBuilder, type MemberData } from "./general-assignment.ts";
import { javaStringHashOrder, tpKey } from "./java-order.ts";
import type { PartitionMovements } from "./partition-movements.ts";

export { DEFAULT_GENERATION, type MemberData };

export abstract class AbstractStickyAssignor implements ConsumerPartitionAssignor {
  abstract readonly name: string;
  abstract readonly supportedProtocols: readonly RebalanceProtocol[];

  /** The highest generation seen in any member's data; as in Kafka it is kept across assign() calls. */
  maxGeneration = DEFAULT_GENERATION;
  /**
   * Partitions the constrained builder revoked from one member and gave to another, keyed "topic-partition";
   * null after a general assignment (the cooperative assignor then computes them from the owned partitions).
   */
  partitionsTransferringOwnership: Map<string, TransferringPartition> | null = new Map();
  private partitionMovements: PartitionMovements | null = null;

  abstract subscriptionUserData(topics: readonly string[]): unknown;
  abstract onAssignment(assignment: readonly TopicPartitionRef[], generationId: number): void;
  /** What this member claims to own, and in which generation. */
  abstract memberData(subscription: Subscription): MemberData;

  assign(partitionsPerTopic: ReadonlyMap<string, number>, subscriptions: ReadonlyMap<string, Subscription>): Map<string, TopicPartitionRef[]> {
    const ordered = new Map(javaStringHashOrder(subscriptions.keys()).map((memberId) => [memberId, subscriptions.get(memberId) as Subscription]));
    const consumerToOwnedPartitions = new Map<string, TopicPartitionRef[]>();
    const partitionsWithMultiplePreviousOwners = new Set<string>();
    const allSubscriptionsEqual = this.allSubscriptionsEqual(new Set(partitionsPerTopic.keys()), ordered, consumerToOwnedPartitions, partitionsWithMultiplePreviousOwners);
    let assignment: Map<string, TopicPartitionRef[]>;
    if (allSubscriptionsEqual) {
      this.partitionsTransferringOwnership = new Map();
      assignment = constrainedAssign(partitionsPerTopic, consumerToOwnedPartitions, partitionsWithMultiplePreviousOwners, this.partitionsTransferringOwnership);
    } else {
      this.partitionsTransferringOwnership = null;
      const builder = new GeneralAssignmentBuilder({
        partitionsPerTopic,
        subscriptions: ordered,
        currentAssignment: consumerToOwnedPartitions,
        memberData: (subscription) => this.memberData(subscription),
        maxGeneration: this.maxGeneration,
      });
      assignment = builder.build();
      this.partitionMovements = builder.partitionMovements;
    }
    // Hand the result back keyed in the caller's member order.
    return new Map([...subscriptions.keys()].map((memberId) => [memberId, assignment.get(memberId) ?? []]));
  }

  /** After a general assignment: no topic's partitions moved both ways between two members. */
  isSticky(): boolean {
    return this.partitionMovements?.isSticky() ?? true;
  }

  /**
   * True iff every member subscribes to the same topics. Fills `consumerToOwnedPartitions` with each
   * member's previously owned partitions of existing topics after the conflict rules, and
   * `partitionsWithMultiplePreviousOwners` with partitions claimed by two members of one generation.
   */
  private allSubscriptionsEqual(
    allTopics: ReadonlySet<string>,
    subscriptions: ReadonlyMap<string, Subscription>,
    consumerToOwnedPartitions: Map<string, TopicPartitionRef[]>,
    partitionsWithMultiplePreviousOwners: Set<string>,
  ): boolean {
    let isAllSubscriptionsEqual = true;
    const subscribedTopics = new Set<string>();
    const allPreviousPartitionsToOwner = new Map<string, string>();
    for (const [consumer, subscription] of subscriptions) {
      if (subscribedTopics.size === 0) {
        for (const topic of subscription.topics) subscribedTopics.add(topic);
      } else if (isAllSubscriptionsEqual && !(subscription.topics.length === subscribedTopics.size && subscription.topics.every((topic) => subscribedTopics.has(topic)))) {
        isAllSubscriptionsEqual = false;
      }
      const memberData = this.memberData(subscription);
      const memberGeneration = memberData.generation ?? DEFAULT_GENERATION;
      this.maxGeneration = Math.max(this.maxGeneration, memberGeneration);
      const ownedPartitions: TopicPartitionRef[] = [];
      consumerToOwnedPartitions.set(consumer, ownedPartitions);
      for (const tp of memberData.partitions) {
        if (!allTopics.has(tp.topic)) continue;
        const key = tpKey(tp);
        const otherConsumer = allPreviousPartitionsToOwner.get(key);
        if (otherConsumer === undefined) {
          ownedPartitions.push(tp);
          allPreviousPartitionsToOwner.set(key, consumer);
          continue;
        }
        // Kafka compares with the other member's Subscription.generationId, not its MemberData's.
        const otherMemberGeneration = generationOf(subscriptions.get(otherConsumer));
        if (memberGeneration === otherMemberGeneration) {
          // Two members of one generation claim it: neither keeps it.
          partitionsWithMultiplePreviousOwners.add(key);
          removePartition(consumerToOwnedPartitions.get(otherConsumer), key);
          allPreviousPartitionsToOwner.set(key, consumer);
        } else if (memberGeneration > otherMemberGeneration) {
          ownedPartitions.push(tp);
          removePartition(consumerToOwnedPartitions.get(otherConsumer), key);
          allPreviousPartitionsToOwner.set(key, consumer);
        }
        // else: the other member's newer claim stands.
      }
    }
    return isAllSubscriptionsEqual;
  }
}

/** Subscription.generationId: negative means absent (Optional.empty), read as DEFAULT_GENERATION. */
export function generationOf(subscription: Subscription | undefined): number {
  const generation = subscription?.generationId ?? DEFAULT_GENERATION;
  return generation < 0 ? DEFAULT_GENERATION : generation;
}

function removePartition(partitions: TopicPartitionRef[] | undefined, key: string): void {
  if (partitions === undefined) return;
  const index = partitions.findIndex((tp) => tpKey(tp) === key);
  if (index >= 0) partitions.splice(index, 1);
}
