/** Shared fixtures for the assignor tests, after Kafka's AbstractStickyAssignorTest / RangeAssignorTest helpers. */

import { expect } from "chai";
import type { TopicPartitionRef } from "../../../../src/protocol/kafka.ts";
import type { Subscription } from "../../../../src/clients/consumer/assignors/partition-assignor.ts";
import type { AbstractStickyAssignor } from "../../../../src/clients/consumer/assignors/abstract-sticky.ts";
import { serializeTopicPartitionAssignment } from "../../../../src/clients/consumer/assignors/sticky.ts";

export const DEFAULT_GENERATION = -1;

export function tp(topic: string, partition: number): TopicPartitionRef {
  return { topic, partition };
}

export function perTopic(counts: Record<string, number>): Map<string, number> {
  return new Map(Object.entries(counts));
}

/** Kafka's `subscription(topics, consumerIndex)`: no user data, no owned partitions, no generation. */
export function subscription(topics: readonly string[], groupInstanceId: string | null = null): Subscription {
  return { topics, userData: null, ownedPartitions: [], generationId: DEFAULT_GENERATION, groupInstanceId };
}

/** StickyAssignorTest.buildSubscriptionV2Above: the user data and the v2 fields both carry the ownership. */
export function stickySubscriptionV2(topics: readonly string[], partitions: readonly TopicPartitionRef[], generation: number): Subscription {
  return { topics, userData: serializeTopicPartitionAssignment(partitions, generation), ownedPartitions: partitions, generationId: generation, groupInstanceId: null };
}

/** CooperativeStickyAssignorTest.buildSubscriptionV2Above (the assignor's own user data: its generation). */
export function cooperativeSubscriptionV2(assignor: AbstractStickyAssignor, topics: readonly string[], partitions: readonly TopicPartitionRef[], generation: number): Subscription {
  return { topics, userData: assignor.subscriptionUserData(topics), ownedPartitions: partitions, generationId: generation, groupInstanceId: null };
}

export function isFullyBalanced(assignment: ReadonlyMap<string, readonly TopicPartitionRef[]>): boolean {
  const sizes = [...assignment.values()].map((partitions) => partitions.length);
  return Math.max(...sizes) - Math.min(...sizes) <= 1;
}

const key = (p: TopicPartitionRef): string => `${p.topic}-${p.partition}`;

/** AbstractStickyAssignorTest.verifyValidityAndBalance, ported as is. */
export function verifyValidityAndBalance(subscriptions: ReadonlyMap<string, Subscription>, assignments: ReadonlyMap<string, readonly TopicPartitionRef[]>): void {
  expect(assignments.size).to.equal(subscriptions.size);
  const consumers = [...assignments.keys()].sort();
  for (let i = 0; i < consumers.length; i++) {
    const partitions = assignments.get(consumers[i]) ?? [];
    for (const partition of partitions) expect(subscriptions.get(consumers[i])?.topics, `${key(partition)} assigned to ${consumers[i]}`).to.include(partition.topic);
    for (let j = i + 1; j < consumers.length; j++) {
      const otherPartitions = assignments.get(consumers[j]) ?? [];
      const other = new Set(otherPartitions.map(key));
      expect(partitions.filter((p) => other.has(key(p))).map(key), `common partitions of ${consumers[i]} and ${consumers[j]}`).to.deep.equal([]);
      if (Math.abs(partitions.length - otherPartitions.length) <= 1) continue;
      const otherTopics = new Set(otherPartitions.map((p) => p.topic));
      for (const partition of partitions) expect(otherTopics.has(partition.topic), `${partition.topic} could move between ${consumers[i]} and ${consumers[j]}`).to.equal(false);
    }
  }
}

/**
 * CooperativeStickyAssignorTest.verifyValidityAndBalance: no partition is revoked and assigned in the same
 * rebalance; while partitions are revoked, run the follow-up rebalance (at most 4), then check the result.
 * Returns the final subscriptions and assignment.
 */
export function verifyCooperative(
  assignor: AbstractStickyAssignor,
  partitionsPerTopic: ReadonlyMap<string, number>,
  subscriptions: Map<string, Subscription>,
  assignments: Map<string, TopicPartitionRef[]>,
  generation = 1,
): Map<string, TopicPartitionRef[]> {
  let rebalances = 0;
  while (revokesPartitions(subscriptions, assignments)) {
    for (const [consumer, partitions] of assignments) {
      const old = subscriptions.get(consumer) as Subscription;
      subscriptions.set(consumer, cooperativeSubscriptionV2(assignor, old.topics, partitions, generation));
    }
    assignments = assignor.assign(partitionsPerTopic, subscriptions);
    rebalances++;
    expect(rebalances).to.be.at.most(4);
  }
  verifyValidityAndBalance(subscriptions, assignments);
  return assignments;
}

function revokesPartitions(subscriptions: ReadonlyMap<string, Subscription>, assignments: ReadonlyMap<string, readonly TopicPartitionRef[]>): boolean {
  const added = new Set<string>();
  const revoked = new Set<string>();
  for (const [consumer, assigned] of assignments) {
    const owned = (subscriptions.get(consumer)?.ownedPartitions ?? []).map(key);
    const assignedKeys = assigned.map(key);
    for (const partition of owned) if (!assignedKeys.includes(partition)) revoked.add(partition);
    for (const partition of assignedKeys) if (!owned.includes(partition)) added.add(partition);
  }
  expect([...added].filter((partition) => revoked.has(partition)), "partitions revoked and assigned in one rebalance").to.deep.equal([]);
  return revoked.size > 0;
}
