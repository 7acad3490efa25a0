/**
 * CooperativeStickyAssignor (clients/.../consumer/CooperativeStickyAssignor.java, Kafka 3.6): the sticky
 * assignment for the COOPERATIVE protocol (KIP-429). Ownership comes from the subscription's
 * ownedPartitions and generationId (ConsumerProtocolSubscription v2), or, for older subscriptions, the
 * generation in its user data. A partition moving from one member to another is left out of this
 * assignment (adjustAssignment): its owner revokes it first, and the follow-up rebalance hands it over.
 */

import type { TopicPartitionRef } from "../../../protocol/kafka.ts";
import type { RebalanceProtocol, Subscription } from "./partition-assignor.ts";
import { AbstractStickyAssignor, DEFAULT_GENERATION, type MemberData } from "./abstract-sticky.ts";
import type { TransferringPartition } from "./constrained-assignment.ts";
import { sameTopicPartition, tpKey } from "./java-order.ts";

/** COOPERATIVE_STICKY_ASSIGNOR_USER_DATA_V0. */
export interface CooperativeStickyAssignorUserData {
  readonly generation: number;
}

export class CooperativeStickyAssignor extends AbstractStickyAssignor {
  readonly name = "cooperative-sticky";
  readonly supportedProtocols: readonly RebalanceProtocol[] = ["COOPERATIVE", "EAGER"];
  private generation = DEFAULT_GENERATION;

  onAssignment(_assignment: readonly TopicPartitionRef[], generationId: number): void {
    this.generation = generationId;
  }

  subscriptionUserData(): CooperativeStickyAssignorUserData {
    return { generation: this.generation };
  }

  memberData(subscription: Subscription): MemberData {
    // ConsumerProtocolSubscription v2+: the generation is a field of its own (negative: absent).
    if (subscription.generationId >= 0) return { partitions: subscription.ownedPartitions, generation: subscription.generationId };
    const userData = subscription.userData;
    if (userData === null || userData === undefined) return { partitions: subscription.ownedPartitions, generation: null };
    const generation = (userData as { generation?: unknown }).generation;
    return { partitions: subscription.ownedPartitions, generation: typeof userData === "object" && Number.isInteger(generation) ? (generation as number) : DEFAULT_GENERATION };
  }

  override assign(partitionsPerTopic: ReadonlyMap<string, number>, subscriptions: ReadonlyMap<string, Subscription>): Map<string, TopicPartitionRef[]> {
    const assignments = super.assign(partitionsPerTopic, subscriptions);
    const transferring = this.partitionsTransferringOwnership ?? computePartitionsTransferringOwnership(subscriptions, assignments);
    adjustAssignment(assignments, transferring);
    return assignments;
  }
}

/** Leave out every partition that is being revoked from one member and given to another. */
function adjustAssignment(assignments: Map<string, TopicPartitionRef[]>, partitionsTransferringOwnership: ReadonlyMap<string, TransferringPartition>): void {
  for (const { partition, consumer } of partitionsTransferringOwnership.values()) {
    const partitions = assignments.get(consumer);
    const index = partitions?.findIndex((tp) => sameTopicPartition(tp, partition)) ?? -1;
    if (partitions !== undefined && index >= 0) partitions.splice(index, 1);
  }
}

/** After a general assignment: the partitions added to one member that another member owned. */
function computePartitionsTransferringOwnership(subscriptions: ReadonlyMap<string, Subscription>, assignments: ReadonlyMap<string, readonly TopicPartitionRef[]>): Map<string, TransferringPartition> {
  const allAddedPartitions = new Map<string, TransferringPartition>();
  const allRevokedPartitions = new Set<string>();
  for (const [consumer, assignedPartitions] of assignments) {
    const ownedPartitions = subscriptions.get(consumer)?.ownedPartitions ?? [];
    const owned = new Set(ownedPartitions.map(tpKey));
    const assigned = new Set(assignedPartitions.map(tpKey));
    for (const tp of assignedPartitions) if (!owned.has(tpKey(tp))) allAddedPartitions.set(tpKey(tp), { partition: tp, consumer });
    for (const tp of ownedPartitions) if (!assigned.has(tpKey(tp))) allRevokedPartitions.add(tpKey(tp));
  }
  for (const key of [...allAddedPartitions.keys()]) if (!allRevokedPartitions.has(key)) allAddedPartitions.delete(key);
  return allAddedPartitions;
}
