/**
 * The orders Kafka's assignors depend on, made explicit: MemberInfo.compareTo (static members first, by
 * group.instance.id, then dynamic ones by member id), Java's String.compareTo, TopicPartition.hashCode, and
 * the iteration order of a java.util.HashMap / HashSet. Where Kafka's result depends on which member or
 * partition a HashMap yields first (ConstrainedAssignmentBuilder.assignOwnedPartitions, the
 * PartitionMovements sets, StickyAssignor's user data), the assignors iterate in the order Java would:
 * bucket index `(h ^ (h >>> 16)) & (capacity - 1)` ascending, insertion order within a bucket, the capacity
 * being what `new HashMap<>()` grows to for that many entries. Simplified: no treeified buckets (8+
 * colliding keys) and no copy-constructor sizing.
 */

import type { TopicPartitionRef } from "../../../protocol/kafka.ts";
import { javaStringHashCode } from "../../../protocol/group.ts";

/** Java's String.compareTo (UTF-16 code units), which JavaScript's `<` on strings also is. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Comparator.comparing(TopicPartition::topic).thenComparing(TopicPartition::partition). */
export function compareTopicPartitions(a: TopicPartitionRef, b: TopicPartitionRef): number {
  return compareStrings(a.topic, b.topic) || a.partition - b.partition;
}

/** AbstractPartitionAssignor.MemberInfo, as the assignors sort members. */
export interface MemberInfo {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

/** MemberInfo.compareTo: static members (by group.instance.id) before dynamic ones (by member id). */
export function compareMemberInfos(a: MemberInfo, b: MemberInfo): number {
  if (a.groupInstanceId !== null && b.groupInstanceId !== null) return compareStrings(a.groupInstanceId, b.groupInstanceId);
  if (a.groupInstanceId !== null) return -1;
  if (b.groupInstanceId !== null) return 1;
  return compareStrings(a.memberId, b.memberId);
}

/** TopicPartition.hashCode: 31 * (31 + partition) + topic.hashCode(), in int arithmetic. */
export function topicPartitionHashCode(tp: TopicPartitionRef): number {
  return (Math.imul(31, 31 + tp.partition) + javaStringHashCode(tp.topic)) | 0;
}

/** The table size `new HashMap<>()` has after `size` puts (16, doubled whenever size exceeds 0.75 of it). */
export function javaHashMapCapacity(size: number): number {
  let capacity = 16;
  while (size > capacity * 0.75) capacity *= 2;
  return capacity;
}

/** HashMap.hash(key) & (capacity - 1): the bucket a key with this hashCode lands in. */
export function javaBucketIndex(hashCode: number, capacity: number): number {
  return ((hashCode ^ (hashCode >>> 16)) & (capacity - 1)) >>> 0;
}

/**
 * The order a java.util.HashMap built by putting `keys` in this order (into a `new HashMap<>()`) iterates
 * them. `capacity` defaults to the one the map grows to for that many keys.
 */
export function javaHashOrder<K>(keys: readonly K[], hashCode: (key: K) => number, capacity = javaHashMapCapacity(keys.length)): K[] {
  const decorated = keys.map((key, index) => ({ key, index, bucket: javaBucketIndex(hashCode(key), capacity) }));
  decorated.sort((a, b) => a.bucket - b.bucket || a.index - b.index);
  return decorated.map((entry) => entry.key);
}

/** Member ids (or topics) in HashMap<String, …> iteration order. */
export function javaStringHashOrder(keys: Iterable<string>): string[] {
  return javaHashOrder([...keys], javaStringHashCode);
}

export function tpKey(tp: TopicPartitionRef): string {
  return `${tp.topic}-${tp.partition}`;
}

export function sameTopicPartition(a: TopicPartitionRef, b: TopicPartitionRef): boolean {
  return a.topic === b.topic && a.partition === b.partition;
}

/**
 * A java.util.HashSet<TopicPartition> whose first element is the one Java's iterator would yield first
 * (PartitionMovements.getTheActualPartitionToBeMoved takes `iterator().next()`). The table never shrinks, as
 * in Java: its capacity follows the largest size the set has had.
 */
export class JavaTopicPartitionSet {
  private readonly entries = new Map<string, { tp: TopicPartitionRef; sequence: number }>();
  private sequence = 0;
  private capacity = 16;

  get size(): number {
    return this.entries.size;
  }

  add(tp: TopicPartitionRef): void {
    const key = tpKey(tp);
    if (this.entries.has(key)) return;
    this.entries.set(key, { tp, sequence: this.sequence++ });
    this.capacity = Math.max(this.capacity, javaHashMapCapacity(this.entries.size));
  }

  delete(tp: TopicPartitionRef): boolean {
    return this.entries.delete(tpKey(tp));
  }

  /** The element Java's iterator returns first. */
  first(): TopicPartitionRef {
    let best: { tp: TopicPartitionRef; sequence: number; bucket: number } | null = null;
    for (const entry of this.entries.values()) {
      const bucket = javaBucketIndex(topicPartitionHashCode(entry.tp), this.capacity);
      if (best === null || bucket < best.bucket || (bucket === best.bucket && entry.sequence < best.sequence)) best = { ...entry, bucket };
    }
    if (best === null) throw new Error("JavaTopicPartitionSet.first on an empty set");
    return best.tp;
  }
}
