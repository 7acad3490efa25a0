/**
 * AbstractStickyAssignor.PartitionMovements (Kafka 3.6): during the general sticky assignment, which
 * partitions have moved between which pair of consumers, per topic, so that a partition about to move back
 * along a pair is swapped for one that moved the other way (keeping assignments sticky), and so the tests
 * can check that no topic's partitions moved both ways between two consumers (isSticky).
 */

import type { TopicPartitionRef } from "../../../protocol/kafka.ts";
import { JavaTopicPartitionSet, tpKey } from "./java-order.ts";

/** ConsumerPair: a partition moved from srcMemberId to dstMemberId. */
interface ConsumerPair {
  readonly srcMemberId: string;
  readonly dstMemberId: string;
}

const pairKey = (src: string, dst: string): string => JSON.stringify([src, dst]);

export class PartitionMovements {
  private readonly partitionMovementsByTopic = new Map<string, Map<string, { pair: ConsumerPair; partitions: JavaTopicPartitionSet }>>();
  private readonly partitionMovements = new Map<string, ConsumerPair>();

  private removeMovementRecordOfPartition(partition: TopicPartitionRef): ConsumerPair {
    const key = tpKey(partition);
    const pair = this.partitionMovements.get(key);
    if (pair === undefined) throw new Error(`PartitionMovements: no movement recorded for ${key}`);
    this.partitionMovements.delete(key);
    const forTopic = this.partitionMovementsByTopic.get(partition.topic);
    const entry = forTopic?.get(pairKey(pair.srcMemberId, pair.dstMemberId));
    if (forTopic === undefined || entry === undefined) throw new Error(`PartitionMovements: no movement of topic ${partition.topic} recorded`);
    entry.partitions.delete(partition);
    if (entry.partitions.size === 0) forTopic.delete(pairKey(pair.srcMemberId, pair.dstMemberId));
    if (forTopic.size === 0) this.partitionMovementsByTopic.delete(partition.topic);
    return pair;
  }

  private addPartitionMovementRecord(partition: TopicPartitionRef, pair: ConsumerPair): void {
    this.partitionMovements.set(tpKey(partition), pair);
    let forTopic = this.partitionMovementsByTopic.get(partition.topic);
    if (forTopic === undefined) {
      forTopic = new Map();
      this.partitionMovementsByTopic.set(partition.topic, forTopic);
    }
    const key = pairKey(pair.srcMemberId, pair.dstMemberId);
    let entry = forTopic.get(key);
    if (entry === undefined) {
      entry = { pair, partitions: new JavaTopicPartitionSet() };
      forTopic.set(key, entry);
    }
    entry.partitions.add(partition);
  }

  movePartition(partition: TopicPartitionRef, oldConsumer: string, newConsumer: string): void {
    if (this.partitionMovements.has(tpKey(partition))) {
      // This partition has moved before: record one movement from its original owner, or none if it returns.
      const existingPair = this.removeMovementRecordOfPartition(partition);
      if (existingPair.dstMemberId !== oldConsumer) throw new Error(`PartitionMovements: ${tpKey(partition)} is not at ${oldConsumer}`);
      if (existingPair.srcMemberId !== newConsumer) this.addPartitionMovementRecord(partition, { srcMemberId: existingPair.srcMemberId, dstMemberId: newConsumer });
    } else {
      this.addPartitionMovementRecord(partition, { srcMemberId: oldConsumer, dstMemberId: newConsumer });
    }
  }

  /** The partition to move instead of `partition`: one of its topic that moved the other way, if any. */
  getTheActualPartitionToBeMoved(partition: TopicPartitionRef, oldConsumer: string, newConsumer: string): TopicPartitionRef {
    const forTopic = this.partitionMovementsByTopic.get(partition.topic);
    if (forTopic === undefined) return partition;
    const previous = this.partitionMovements.get(tpKey(partition));
    const from = previous !== undefined ? previous.srcMemberId : oldConsumer;
    const reverse = forTopic.get(pairKey(newConsumer, from));
    return reverse === undefined ? partition : reverse.partitions.first();
  }

  /** No topic's partitions moved in both directions between two consumers (a cycle of length 2). */
  isSticky(): boolean {
    for (const forTopic of this.partitionMovementsByTopic.values()) {
      if (hasCycles([...forTopic.values()].map((entry) => entry.pair))) return false;
    }
    return true;
  }
}

function isLinked(src: string, dst: string, pairs: ConsumerPair[], currentPath: string[]): boolean {
  if (src === dst || pairs.length === 0) return false;
  if (pairs.some((pair) => pair.srcMemberId === src && pair.dstMemberId === dst)) {
    currentPath.push(src, dst);
    return true;
  }
  const pair = pairs.find((candidate) => candidate.srcMemberId === src);
  if (pair === undefined) return false;
  currentPath.push(pair.srcMemberId);
  return isLinked(
    pair.dstMemberId,
    dst,
    pairs.filter((other) => other !== pair),
    currentPath,
  );
}

function hasCycles(pairs: ConsumerPair[]): boolean {
  const cycles: string[][] = [];
  for (const pair of pairs) {
    const path = [pair.srcMemberId];
    const reduced = pairs.filter((other) => other !== pair);
    if (isLinked(pair.dstMemberId, pair.srcMemberId, reduced, path) && !inCycles(path, cycles)) cycles.push(path);
  }
  // Kafka only treats cycles of length 2 (a path of 3 names) as a stickiness violation.
  return cycles.some((cycle) => cycle.length === 3);
}

function inCycles(cycle: string[], cycles: string[][]): boolean {
  const superCycle = [...cycle.slice(0, -1), ...cycle];
  return cycles.some((found) => found.length === cycle.length && indexOfSubList(superCycle, found) !== -1);
}

function indexOfSubList(list: string[], sub: string[]): number {
  for (let i = 0; i + sub.length <= list.length; i++) if (sub.every((value, j) => list[i + j] === value)) return i;
  return -1;
}
