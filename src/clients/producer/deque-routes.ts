/**
 * Where the RecordAccumulator's partition deques drain to: per deque (by its index), its partition's leader host
 * and its position in that host's partitionsForHost list (Cluster.partitionsForNode), the order drain walks it
 * in. Kafka asks its Cluster on every ready() and drain; here each answer is kept until ProducerMetadata changes
 * (its version, and a new partitionsForHost list), so a wake-up looks nothing up in a Map. Not a Kafka component:
 * a cache of what ProducerMetadata answers, which it always equals.
 */

import type { ProducerMetadata } from "./metadata.ts";

export class DequeRoutes {
  /** Per deque, its leader host as the metadata answered at version leaderVersions[i] (-1: never asked). */
  private readonly leaders: (string | null)[] = [];
  private readonly leaderVersions: number[] = [];
  /** Per deque, its position in the partitionsForHost list positionLists[i] (null: not looked up yet). */
  private readonly positionLists: (readonly unknown[] | null)[] = [];
  private readonly positions: number[] = [];
  /** Per host, the partitionsForHost list last seen and each partition's position in it. */
  private readonly hostPositions = new Map<string, { parts: readonly { topicPartition: string }[]; positionOf: Map<string, number> }>();

  constructor(private readonly metadata: ProducerMetadata) {}

  /** A new deque, the next index. */
  addDeque(): void {
    this.leaders.push(null);
    this.leaderVersions.push(-1);
    this.positionLists.push(null);
    this.positions.push(-1);
  }

  /** The leader host of deque `index`'s partition, asked anew after a metadata change. */
  leaderOf(index: number, topic: string, partition: number): string | null {
    const version = this.metadata.version;
    if (this.leaderVersions[index] !== version) {
      this.leaders[index] = this.metadata.leaderHost(topic, partition);
      this.leaderVersions[index] = version;
    }
    return this.leaders[index];
  }

  /** Deque `index`'s partition (key `topicPartition`) position in `parts`, `host`'s partitionsForHost list; -1 if absent. */
  positionIn(index: number, topicPartition: string, host: string, parts: readonly { topicPartition: string }[]): number {
    if (this.positionLists[index] !== parts) {
      this.positionLists[index] = parts;
      this.positions[index] = this.positionsFor(host, parts).get(topicPartition) ?? -1;
    }
    return this.positions[index];
  }

  /** Each partition's position in the host's partitionsForHost list, rebuilt when the metadata's list changes. */
  private positionsFor(host: string, parts: readonly { topicPartition: string }[]): Map<string, number> {
    const cached = this.hostPositions.get(host);
    if (cached !== undefined && cached.parts === parts) return cached.positionOf;
    const positionOf = new Map<string, number>();
    for (let i = 0; i < parts.length; i++) positionOf.set(parts[i].topicPartition, i);
    this.hostPositions.set(host, { parts, positionOf });
    return positionOf;
  }
}
