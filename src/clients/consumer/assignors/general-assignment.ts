/**
 * AbstractStickyAssignor.GeneralAssignmentBuilder (Kafka 3.6), used when members subscribe to different
 * topics: keep every still-valid owned partition, give each unassigned partition (topics with the fewest
 * potential consumers first) to the least-loaded member that can take it, then move partitions towards
 * balance (back to a previous owner of an older generation first), swapping for partitions that moved the
 * other way so assignments stay sticky, and keep the result only if it is better balanced. Simplified: no
 * rack-aware steps (KIP-881). Two Kafka NullPointerExceptions on inputs Kafka never sees in practice (a
 * previous owner or a partition owner fixed out of the balancing scope) are skips here.
 */

import type { TopicPartitionRef } from "../../../protocol/kafka.ts";
import type { Subscription } from "./partition-assignor.ts";
import { compareStrings, sameTopicPartition, tpKey } from "./java-order.ts";
import { PartitionMovements } from "./partition-movements.ts";

export const DEFAULT_GENERATION = -1;

/** AbstractStickyAssignor.MemberData: what a member says it owned, and in which generation (null: unknown). */
export interface MemberData {
  readonly partitions: readonly TopicPartitionRef[];
  readonly generation: number | null;
}

interface ConsumerGenerationPair {
  readonly consumer: string;
  readonly generation: number;
}

export interface GeneralAssignmentInput {
  readonly partitionsPerTopic: ReadonlyMap<string, number>;
  /** The members in Kafka's HashMap iteration order, with their subscriptions. */
  readonly subscriptions: ReadonlyMap<string, Subscription>;
  /** Each member's previously owned, still-existing partitions (allSubscriptionsEqual's conflict rules applied). */
  readonly currentAssignment: Map<string, TopicPartitionRef[]>;
  readonly memberData: (subscription: Subscription) => MemberData;
  readonly maxGeneration: number;
}

export class GeneralAssignmentBuilder {
  readonly partitionMovements = new PartitionMovements();
  private readonly partitionsPerTopic: ReadonlyMap<string, number>;
  private readonly subscriptions: ReadonlyMap<string, Subscription>;
  private currentAssignment: Map<string, TopicPartitionRef[]>;
  private readonly topic2AllPotentialConsumers = new Map<string, string[]>();
  private readonly consumer2AllPotentialTopics = new Map<string, string[]>();
  private currentPartitionConsumer = new Map<string, string>();
  private sortedAllPartitions: TopicPartitionRef[];
  /** TreeSet<String> ordered by (assigned partition count, member id); kept sorted on every add. */
  private sortedCurrentSubscriptions: string[] = [];
  private revocationRequired = false;
  private readonly totalPartitionsCount: number;

  constructor(private readonly input: GeneralAssignmentInput) {
    this.partitionsPerTopic = input.partitionsPerTopic;
    this.subscriptions = input.subscriptions;
    this.currentAssignment = input.currentAssignment;
    this.totalPartitionsCount = [...this.partitionsPerTopic.values()].reduce((sum, count) => sum + count, 0);
    for (const topic of this.partitionsPerTopic.keys()) this.topic2AllPotentialConsumers.set(topic, []);
    for (const [consumer, subscription] of this.subscriptions) {
      const subscribedTopics = subscription.topics.filter((topic) => this.partitionsPerTopic.has(topic));
      this.consumer2AllPotentialTopics.set(consumer, subscribedTopics);
      for (const topic of subscribedTopics) this.topic2AllPotentialConsumers.get(topic)?.push(consumer);
      if (!this.currentAssignment.has(consumer)) this.currentAssignment.set(consumer, []);
    }
    for (const [consumer, partitions] of this.currentAssignment) for (const tp of partitions) this.currentPartitionConsumer.set(tpKey(tp), consumer);
    const sortedAllTopics = [...this.topic2AllPotentialConsumers.keys()].sort((a, b) => this.potentialConsumerCount(a) - this.potentialConsumerCount(b) || compareStrings(a, b));
    this.sortedAllPartitions = sortedAllTopics.flatMap((topic) => Array.from({ length: this.partitionsPerTopic.get(topic) ?? 0 }, (_, partition) => ({ topic, partition })));
  }

  build(): Map<string, TopicPartitionRef[]> {
    const prevAssignment = new Map<string, ConsumerGenerationPair>();
    this.prepopulateCurrentAssignments(prevAssignment);
    const assignedPartitions = this.assignOwnedPartitions();
    const unassignedPartitions = this.getUnassignedPartitions(assignedPartitions);
    for (const consumer of this.currentAssignment.keys()) this.addSorted(consumer);
    this.balance(prevAssignment, unassignedPartitions);
    return this.currentAssignment;
  }

  private potentialConsumerCount(topic: string): number {
    return this.topic2AllPotentialConsumers.get(topic)?.length ?? 0;
  }

  private size(consumer: string): number {
    return this.currentAssignment.get(consumer)?.length ?? 0;
  }

  private compareSubscriptions(a: string, b: string): number {
    return this.size(a) - this.size(b) || compareStrings(a, b);
  }

  private addSorted(consumer: string): void {
    if (this.sortedCurrentSubscriptions.includes(consumer)) return;
    let low = 0;
    let high = this.sortedCurrentSubscriptions.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.compareSubscriptions(this.sortedCurrentSubscriptions[mid], consumer) < 0) low = mid + 1;
      else high = mid;
    }
    this.sortedCurrentSubscriptions.splice(low, 0, consumer);
  }

  private removeSorted(consumer: string): void {
    const index = this.sortedCurrentSubscriptions.indexOf(consumer);
    if (index >= 0) this.sortedCurrentSubscriptions.splice(index, 1);
  }

  private assignOwnedPartitions(): TopicPartitionRef[] {
    const assignedPartitions: TopicPartitionRef[] = [];
    for (const [consumer, partitions] of [...this.currentAssignment]) {
      const subscription = this.subscriptions.get(consumer);
      if (subscription === undefined) {
        for (const tp of partitions) this.currentPartitionConsumer.delete(tpKey(tp));
        this.currentAssignment.delete(consumer);
        continue;
      }
      const kept: TopicPartitionRef[] = [];
      for (const partition of partitions) {
        if (!this.topic2AllPotentialConsumers.has(partition.topic)) {
          this.currentPartitionConsumer.delete(tpKey(partition));
        } else if (!subscription.topics.includes(partition.topic)) {
          this.revocationRequired = true;
        } else {
          kept.push(partition);
          assignedPartitions.push(partition);
        }
      }
      partitions.splice(0, partitions.length, ...kept);
    }
    return assignedPartitions;
  }

  /** sortedAllPartitions minus the assigned ones (the very same list when nothing is assigned, as in Kafka). */
  private getUnassignedPartitions(assignedPartitions: readonly TopicPartitionRef[]): TopicPartitionRef[] {
    if (assignedPartitions.length === 0) return this.sortedAllPartitions;
    const assigned = new Set(assignedPartitions.map(tpKey));
    return this.sortedAllPartitions.filter((tp) => !assigned.has(tpKey(tp)));
  }

  private updatePrevAssignment(prevAssignment: Map<string, ConsumerGenerationPair>, partitions: readonly TopicPartitionRef[], consumer: string, generation: number): void {
    for (const partition of partitions) {
      const existing = prevAssignment.get(tpKey(partition));
      if (existing === undefined || generation > existing.generation) prevAssignment.set(tpKey(partition), { consumer, generation });
    }
  }

  /** Partitions members owned in generations older than the newest: where a partition may move back to. */
  private prepopulateCurrentAssignments(prevAssignment: Map<string, ConsumerGenerationPair>): void {
    for (const [consumer, subscription] of this.subscriptions) {
      const memberData = this.input.memberData(subscription);
      if (memberData.generation !== null && memberData.generation < this.input.maxGeneration) {
        this.updatePrevAssignment(prevAssignment, memberData.partitions, consumer, memberData.generation);
      } else if (memberData.generation === null && this.input.maxGeneration > DEFAULT_GENERATION) {
        this.updatePrevAssignment(prevAssignment, memberData.partitions, consumer, DEFAULT_GENERATION);
      }
    }
  }

  private getMaxAssignmentSize(allSubscribedTopics: readonly string[]): number {
    if (allSubscribedTopics.length === this.partitionsPerTopic.size) return this.totalPartitionsCount;
    return allSubscribedTopics.reduce((sum, topic) => sum + (this.partitionsPerTopic.get(topic) ?? 0), 0);
  }

  private isBalanced(): boolean {
    const sorted = this.sortedCurrentSubscriptions;
    const min = this.size(sorted[0]);
    const max = this.size(sorted[sorted.length - 1]);
    if (min >= max - 1) return true;
    const allPartitions = new Map<string, string>();
    for (const [consumer, partitions] of this.currentAssignment) for (const tp of partitions) allPartitions.set(tpKey(tp), consumer);
    for (const consumer of sorted) {
      const consumerPartitions = this.currentAssignment.get(consumer) ?? [];
      const allSubscribedTopics = this.consumer2AllPotentialTopics.get(consumer) ?? [];
      if (consumerPartitions.length === this.getMaxAssignmentSize(allSubscribedTopics)) continue;
      const own = new Set(consumerPartitions.map(tpKey));
      for (const topic of allSubscribedTopics) {
        for (let partition = 0; partition < (this.partitionsPerTopic.get(topic) ?? 0); partition++) {
          const key = tpKey({ topic, partition });
          if (own.has(key)) continue;
          const otherConsumer = allPartitions.get(key);
          if (otherConsumer !== undefined && consumerPartitions.length + 1 < this.size(otherConsumer)) return false;
        }
      }
    }
    return true;
  }

  /** The sum over all member pairs of the difference in assigned partition counts (0: perfectly balanced). */
  private static getBalanceScore(assignment: ReadonlyMap<string, readonly TopicPartitionRef[]>): number {
    const sizes = [...assignment.values()].map((partitions) => partitions.length);
    let score = 0;
    for (let i = 0; i < sizes.length; i++) for (let j = i + 1; j < sizes.length; j++) score += Math.abs(sizes[i] - sizes[j]);
    return score;
  }

  private maybeAssignPartition(partition: TopicPartitionRef): void {
    for (const consumer of this.sortedCurrentSubscriptions) {
      if (this.consumer2AllPotentialTopics.get(consumer)?.includes(partition.topic)) {
        this.removeSorted(consumer);
        this.currentAssignment.get(consumer)?.push(partition);
        this.currentPartitionConsumer.set(tpKey(partition), consumer);
        this.addSorted(consumer);
        return;
      }
    }
  }

  private canTopicParticipateInReassignment(topic: string): boolean {
    return this.potentialConsumerCount(topic) >= 2;
  }

  private canConsumerParticipateInReassignment(consumer: string): boolean {
    const currentPartitions = this.currentAssignment.get(consumer) ?? [];
    if (currentPartitions.length < this.getMaxAssignmentSize(this.consumer2AllPotentialTopics.get(consumer) ?? [])) return true;
    return currentPartitions.some((tp) => this.canTopicParticipateInReassignment(tp.topic));
  }

  private balance(prevAssignment: ReadonlyMap<string, ConsumerGenerationPair>, unassignedPartitions: TopicPartitionRef[]): void {
    const sorted = this.sortedCurrentSubscriptions;
    const initializing = this.size(sorted[sorted.length - 1]) === 0;
    for (const partition of unassignedPartitions) {
      if (this.potentialConsumerCount(partition.topic) === 0) continue;
      this.maybeAssignPartition(partition);
    }

    // Narrow the scope to the partitions and members that can actually move.
    const fixedTopics = new Set([...this.topic2AllPotentialConsumers.keys()].filter((topic) => !this.canTopicParticipateInReassignment(topic)));
    const isMovable = (tp: TopicPartitionRef): boolean => !fixedTopics.has(tp.topic);
    const aliased = unassignedPartitions === this.sortedAllPartitions;
    this.sortedAllPartitions = this.sortedAllPartitions.filter(isMovable);
    const reassignableUnassigned = aliased ? this.sortedAllPartitions : unassignedPartitions.filter(isMovable);
    const fixedAssignments = new Map<string, TopicPartitionRef[]>();
    for (const consumer of this.consumer2AllPotentialTopics.keys()) {
      if (!this.canConsumerParticipateInReassignment(consumer)) {
        this.removeSorted(consumer);
        fixedAssignments.set(consumer, this.currentAssignment.get(consumer) ?? []);
        this.currentAssignment.delete(consumer);
      }
    }

    const preBalanceAssignment = deepCopy(this.currentAssignment);
    const preBalancePartitionConsumers = new Map(this.currentPartitionConsumer);
    // Without revocations forced by subscription changes, first try moving only the newly added partitions.
    if (!this.revocationRequired) this.performReassignments(reassignableUnassigned, prevAssignment);
    const reassignmentPerformed = this.performReassignments(this.sortedAllPartitions, prevAssignment);
    if (!initializing && reassignmentPerformed && GeneralAssignmentBuilder.getBalanceScore(this.currentAssignment) >= GeneralAssignmentBuilder.getBalanceScore(preBalanceAssignment)) {
      this.currentAssignment = deepCopy(preBalanceAssignment);
      this.currentPartitionConsumer = preBalancePartitionConsumers;
    }
    for (const [consumer, partitions] of fixedAssignments) {
      this.currentAssignment.set(consumer, partitions);
      this.addSorted(consumer);
    }
  }

  private performReassignments(reassignablePartitions: readonly TopicPartitionRef[], prevAssignment: ReadonlyMap<string, ConsumerGenerationPair>): boolean {
    let reassignmentPerformed = false;
    let modified: boolean;
    do {
      modified = false;
      for (const partition of reassignablePartitions) {
        if (this.isBalanced()) break;
        const consumer = this.currentPartitionConsumer.get(tpKey(partition));
        if (consumer === undefined) throw new Error(`GeneralAssignmentBuilder: ${tpKey(partition)} has no consumer`);
        const previous = prevAssignment.get(tpKey(partition));
        if (previous !== undefined && this.currentAssignment.has(previous.consumer) && this.size(consumer) > this.size(previous.consumer) + 1) {
          this.reassignPartition(partition, previous.consumer);
          reassignmentPerformed = modified = true;
          continue;
        }
        for (const otherConsumer of this.topic2AllPotentialConsumers.get(partition.topic) ?? []) {
          if (this.size(consumer) > this.size(otherConsumer) + 1) {
            this.reassignPartition(partition, this.leastLoadedConsumerOf(partition.topic));
            reassignmentPerformed = modified = true;
            break;
          }
        }
      }
    } while (modified);
    return reassignmentPerformed;
  }

  private leastLoadedConsumerOf(topic: string): string {
    const consumer = this.sortedCurrentSubscriptions.find((candidate) => this.consumer2AllPotentialTopics.get(candidate)?.includes(topic));
    if (consumer === undefined) throw new Error(`GeneralAssignmentBuilder: no consumer for topic ${topic}`);
    return consumer;
  }

  private reassignPartition(partition: TopicPartitionRef, newConsumer: string): void {
    const consumer = this.currentPartitionConsumer.get(tpKey(partition)) as string;
    const partitionToBeMoved = this.partitionMovements.getTheActualPartitionToBeMoved(partition, consumer, newConsumer);
    this.processPartitionMovement(partitionToBeMoved, newConsumer);
  }

  private processPartitionMovement(partition: TopicPartitionRef, newConsumer: string): void {
    const oldConsumer = this.currentPartitionConsumer.get(tpKey(partition)) as string;
    this.removeSorted(oldConsumer);
    this.removeSorted(newConsumer);
    this.partitionMovements.movePartition(partition, oldConsumer, newConsumer);
    const oldPartitions = this.currentAssignment.get(oldConsumer) ?? [];
    const index = oldPartitions.findIndex((tp) => sameTopicPartition(tp, partition));
    if (index >= 0) oldPartitions.splice(index, 1);
    this.currentAssignment.get(newConsumer)?.push(partition);
    this.currentPartitionConsumer.set(tpKey(partition), newConsumer);
    this.addSorted(newConsumer);
    this.addSorted(oldConsumer);
  }
}

function deepCopy(assignment: ReadonlyMap<string, readonly TopicPartitionRef[]>): Map<string, TopicPartitionRef[]> {
  return new Map([...assignment].map(([consumer, partitions]) => [consumer, [...partitions]]));
}
