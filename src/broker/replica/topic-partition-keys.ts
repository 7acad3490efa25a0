/**
 * The "topic-partition" key strings (topicPartitionKey) of a fetch session, each made once: the session's map
 * lookups on every fetch then use a string that already carries its hash, and build none. Not a Kafka class
 * (Kafka's maps key on TopicPartition objects, whose hash is cached the same way). The set of partitions a session
 * sees is small and stable, so nothing here churns.
 */

import { topicPartitionKey } from "../../protocol/kafka.ts";

export class TopicPartitionKeys {
  /** Per topic, the key strings by partition number (undefined: not made yet). */
  private readonly byTopic = new Map<string, (string | undefined)[]>();

  /** topicPartitionKey(topic, partition), the same string object on every call. */
  key(topic: string, partition: number): string {
    let keys = this.byTopic.get(topic);
    if (keys === undefined) {
      keys = [];
      this.byTopic.set(topic, keys);
    }
    // Grown by pushes, so the array stays dense even for a high partition number.
    while (keys.length <= partition) keys.push(undefined);
    let key = keys[partition];
    if (key === undefined) {
      key = topicPartitionKey(topic, partition);
      keys[partition] = key;
    }
    return key;
  }
}
