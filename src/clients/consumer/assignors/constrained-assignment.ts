/**
 * AbstractStickyAssignor.ConstrainedAssignmentBuilder (Kafka 3.6), used when every member subscribes to the
 * same topics: each member first keeps up to its quota (minQuota = ⌊partitions / members⌋, maxQuota = ⌈…⌉,
 * and only `partitions % members` members may reach maxQuota) of the partitions it owned, in the order it
 * listed them and with members visited in Kafka's HashMap order; the rest, sorted by topic then partition,
 * are dealt round-robin to the unfilled members (sorted by member id). Partitions revoked from one member
 * and given to another are recorded in `partitionsTransferringOwnership` for the cooperative assignor.
 * Simplified: no rack-aware round-robin step (KIP-881).
 */

import type { TopicPartitionRef } from "../../../protocol/kafka.ts";
import { compareStrings, tpKey } from "./java-order.ts";

export interface TransferringPartition {
  readonly partition: TopicPartitionRef;
  readonly consumer: string;
}

export function constrainedAssign(
  partitionsPerTopic: ReadonlyMap<string, number>,
  currentAssignment: ReadonlyMap<string, readonly TopicPartitionRef[]>,
  partitionsWithMultiplePreviousOwners: ReadonlySet<string>,
  partitionsTransferringOwnership: Map<string, TransferringPartition>,
): Map<string, TopicPartitionRef[]> {
  const totalPartitionsCount = [...partitionsPerTopic.values()].reduce((sum, count) => sum + count, 0);
  const numberOfConsumers = currentAssignment.size;
  const minQuota = Math.floor(totalPartitionsCount / numberOfConsumers);
  const maxQuota = Math.ceil(totalPartitionsCount / numberOfConsumers);
  const expectedNumMembersWithOverMinQuotaPartitions = totalPartitionsCount % numberOfConsumers;
  let currentNumMembersWithOverMinQuotaPartitions = 0;

  const allRevokedPartitions = new Set<string>();
  const unfilledMembersWithUnderMinQuotaPartitions: string[] = [];
  let unfilledMembersWithExactlyMinQuotaPartitions: string[] = [];
  const assignment = new Map<string, TopicPartitionRef[]>();
  for (const consumer of currentAssignment.keys()) assignment.set(consumer, []);
  const assignedPartitions = new Set<string>();
  const assignmentOf = (consumer: string): TopicPartitionRef[] => {
    const partitions = assignment.get(consumer);
    if (partitions === undefined) throw new Error(`constrainedAssign: unknown consumer ${consumer}`);
    return partitions;
  };

  // 1. Reassign previously owned partitions, up to the expected number of partitions per consumer.
  for (const [consumer, owned] of currentAssignment) {
    const ownedPartitions = owned.filter((tp) => !partitionsWithMultiplePreviousOwners.has(tpKey(tp)));
    const consumerAssignment = assignmentOf(consumer);
    const keep = (count: number): void => {
      for (const tp of ownedPartitions.slice(0, count)) {
        consumerAssignment.push(tp);
        assignedPartitions.add(tpKey(tp));
      }
      for (const tp of ownedPartitions.slice(count)) allRevokedPartitions.add(tpKey(tp));
    };
    if (ownedPartitions.length < minQuota) {
      keep(ownedPartitions.length);
      unfilledMembersWithUnderMinQuotaPartitions.push(consumer);
    } else if (ownedPartitions.length >= maxQuota && currentNumMembersWithOverMinQuotaPartitions < expectedNumMembersWithOverMinQuotaPartitions) {
      currentNumMembersWithOverMinQuotaPartitions++;
      if (currentNumMembersWithOverMinQuotaPartitions === expectedNumMembersWithOverMinQuotaPartitions) unfilledMembersWithExactlyMinQuotaPartitions = [];
      keep(maxQuota);
    } else {
      keep(minQuota);
      if (currentNumMembersWithOverMinQuotaPartitions < expectedNumMembersWithOverMinQuotaPartitions) unfilledMembersWithExactlyMinQuotaPartitions.push(consumer);
    }
  }

  // Every partition not kept, topics sorted by name, partitions by number.
  const unassignedPartitions: TopicPartitionRef[] = [];
  for (const topic of [...partitionsPerTopic.keys()].sort(compareStrings)) {
    for (let partition = 0; partition < (partitionsPerTopic.get(topic) ?? 0); partition++) {
      if (!assignedPartitions.has(tpKey({ topic, partition }))) unassignedPartitions.push({ topic, partition });
    }
  }
  unfilledMembersWithUnderMinQuotaPartitions.sort(compareStrings);
  unfilledMembersWithExactlyMinQuotaPartitions.sort(compareStrings);

  const assignNewPartition = (partition: TopicPartitionRef, consumer: string): number => {
    const consumerAssignment = assignmentOf(consumer);
    consumerAssignment.push(partition);
    const key = tpKey(partition);
    if (allRevokedPartitions.has(key) || partitionsWithMultiplePreviousOwners.has(key)) partitionsTransferringOwnership.set(key, { partition, consumer });
    return consumerAssignment.length;
  };

  // 3. Round-robin the rest to the members under minQuota, then to those at minQuota (up to maxQuota).
  let iteratorIndex = 0; // the Iterator over unfilledMembersWithUnderMinQuotaPartitions
  for (const unassignedPartition of unassignedPartitions) {
    let consumer: string;
    if (iteratorIndex < unfilledMembersWithUnderMinQuotaPartitions.length) {
      consumer = unfilledMembersWithUnderMinQuotaPartitions[iteratorIndex++];
    } else if (unfilledMembersWithUnderMinQuotaPartitions.length === 0 && unfilledMembersWithExactlyMinQuotaPartitions.length === 0) {
      throw new Error("constrainedAssign: no more unfilled consumers to be assigned");
    } else if (unfilledMembersWithUnderMinQuotaPartitions.length === 0) {
      consumer = unfilledMembersWithExactlyMinQuotaPartitions.shift() as string;
    } else {
      iteratorIndex = 0;
      consumer = unfilledMembersWithUnderMinQuotaPartitions[iteratorIndex++];
    }
    const currentAssignedCount = assignNewPartition(unassignedPartition, consumer);
    if (currentAssignedCount === minQuota) {
      unfilledMembersWithUnderMinQuotaPartitions.splice(--iteratorIndex, 1);
      unfilledMembersWithExactlyMinQuotaPartitions.push(consumer);
    } else if (currentAssignedCount === maxQuota) {
      currentNumMembersWithOverMinQuotaPartitions++;
    }
  }

  // verifyUnfilledMembers
  if (unfilledMembersWithUnderMinQuotaPartitions.length > 0) {
    if (currentNumMembersWithOverMinQuotaPartitions !== expectedNumMembersWithOverMinQuotaPartitions) {
      throw new Error("constrainedAssign: the expected number of members with more than minQuota partitions was not reached");
    }
    for (const member of unfilledMembersWithUnderMinQuotaPartitions) {
      if (assignmentOf(member).length !== minQuota) throw new Error(`constrainedAssign: ${member} does not reach minQuota partitions`);
    }
  }
  const seen = new Set<string>();
  for (const partitions of assignment.values()) {
    for (const tp of partitions) {
      if (seen.has(tpKey(tp))) throw new Error(`constrainedAssign: ${tpKey(tp)} assigned twice`);
      seen.add(tpKey(tp));
    }
  }
  return assignment;
}
