/**
 * The producer's view of the cluster (Kafka's ProducerMetadata / Metadata): brokers, and for each topic the
 * producer sends to, its partitions with leader and leader epoch. An update is due when requested (unknown
 * leaders, stale-metadata errors, disconnects, new topics) or when metadata.max.age.ms has passed, and never
 * sooner than retry.backoff.ms after the previous attempt. A partition whose response carries an older leader
 * epoch than the cached one keeps the cached leader (KIP-320). Simplification: a constant refresh backoff
 * (no retry.backoff.max.ms), and topics are never expired (metadata.max.idle.ms).
 */

import type { MetadataResponse } from "../../protocol/kafka.ts";
import { ms, type Micros } from "../../sim/time.ts";

export interface PartitionInfo {
  readonly partition: number;
  /** The leader's broker id, -1 when the partition has no leader. */
  readonly leader: number;
  readonly leaderEpoch: number;
}

export class ProducerMetadata {
  private readonly brokers = new Map<number, string>();
  private readonly topics = new Map<string, PartitionInfo[]>();
  /** Derived from `brokers`, `topics` and `interest`, rebuilt lazily after add() or update() changed them. */
  private brokerHostsCache: string[] | null = null;
  private readonly partitionIndex = new Map<string, Map<number, PartitionInfo>>();
  private readonly partitionsForHostCache = new Map<string, { topic: string; partition: number; topicPartition: string }[]>();
  /** Topics the producer sends to, in the order it first did. */
  readonly interest: string[] = [];
  /**
   * Bumped whenever add() or update() may have changed what leaderHost answers: the accumulator keeps each
   * deque's leader host and asks again only after a change (a simulator device, not Kafka's Metadata.updateVersion).
   */
  version = 0;
  /** The topic partitionCount was last asked about and its partitions (a send asks three times in a row). */
  private lastCountTopic: string | null = null;
  private lastCountPartitions: PartitionInfo[] | undefined = undefined;
  private updateRequested = true;
  private lastRefreshUs = Number.NEGATIVE_INFINITY;
  private lastSuccessfulRefreshUs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly maxAgeMs: number,
    private readonly refreshBackoffMs: number,
  ) {}

  /** ProducerMetadata.add: a new topic of interest needs an update, at once (requestUpdateForNewTopics). */
  add(topic: string): void {
    if (this.interest.includes(topic)) return;
    this.interest.push(topic);
    this.version++;
    this.partitionsForHostCache.clear();
    this.updateRequested = true;
    this.lastRefreshUs = Number.NEGATIVE_INFINITY;
  }

  requestUpdate(): void {
    this.updateRequested = true;
  }

  get updateIsRequested(): boolean {
    return this.updateRequested;
  }

  /** Metadata.timeToNextUpdate: 0 when an update is due now. */
  timeToNextUpdateUs(nowUs: Micros): Micros {
    const timeToExpire = this.updateRequested ? 0 : Math.max(this.lastSuccessfulRefreshUs + ms(this.maxAgeMs) - nowUs, 0);
    const timeToAllowUpdate = this.lastRefreshUs + ms(this.refreshBackoffMs) - nowUs;
    return Math.max(timeToExpire, timeToAllowUpdate, 0);
  }

  /** A metadata request failed or went unanswered: back off before the next one. */
  failedUpdate(nowUs: Micros): void {
    this.lastRefreshUs = nowUs;
  }

  update(response: MetadataResponse, nowUs: Micros): void {
    this.lastRefreshUs = nowUs;
    this.lastSuccessfulRefreshUs = nowUs;
    this.updateRequested = false;
    this.version++;
    this.lastCountTopic = null;
    this.brokerHostsCache = null;
    this.partitionIndex.clear();
    this.partitionsForHostCache.clear();
    if (response.brokers.length > 0) {
      this.brokers.clear();
      for (const broker of response.brokers) this.brokers.set(broker.nodeId, broker.host);
    }
    for (const topic of response.topics) {
      if (topic.error !== "NONE" || topic.partitions.length === 0) {
        // UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE (auto-creation under way): not usable yet; ask again.
        this.topics.delete(topic.name);
        if (this.interest.includes(topic.name)) this.updateRequested = true;
        continue;
      }
      const cached = this.topics.get(topic.name) ?? [];
      const partitions = topic.partitions
        .map((p): PartitionInfo => {
          const old = cached.find((c) => c.partition === p.partition);
          if (old !== undefined && old.leaderEpoch >= 0 && p.leaderEpoch >= 0 && p.leaderEpoch < old.leaderEpoch) return old;
          return { partition: p.partition, leader: p.leader, leaderEpoch: p.leaderEpoch };
        })
        .sort((a, b) => a.partition - b.partition);
      this.topics.set(topic.name, partitions);
    }
    // A topic added while the request was in flight was not asked for: fetch it at once (ProducerMetadata's newTopics).
    if (this.interest.some((topic) => !response.topics.some((t) => t.name === topic))) {
      this.updateRequested = true;
      this.lastRefreshUs = Number.NEGATIVE_INFINITY;
    }
  }

  partitions(topic: string): readonly PartitionInfo[] | undefined {
    return this.topics.get(topic);
  }

  partitionCount(topic: string): number | null {
    let partitions = this.lastCountPartitions;
    if (topic !== this.lastCountTopic) {
      partitions = this.topics.get(topic);
      this.lastCountTopic = topic;
      this.lastCountPartitions = partitions;
    }
    return partitions === undefined ? null : partitions.length;
  }

  private info(topic: string, partition: number): PartitionInfo | undefined {
    let index = this.partitionIndex.get(topic);
    if (index === undefined) {
      const partitions = this.topics.get(topic);
      if (partitions === undefined) return undefined;
      index = new Map();
      // The first entry per partition, as a find() over the list would return.
      for (const p of partitions) if (!index.has(p.partition)) index.set(p.partition, p);
      this.partitionIndex.set(topic, index);
    }
    return index.get(partition);
  }

  /** The host of the partition's leader, or null when unknown (no leader, or a broker not in the metadata). */
  leaderHost(topic: string, partition: number): string | null {
    const info = this.info(topic, partition);
    if (info === undefined || info.leader < 0) return null;
    return this.brokers.get(info.leader) ?? null;
  }

  leaderEpoch(topic: string, partition: number): number {
    return this.info(topic, partition)?.leaderEpoch ?? -1;
  }

  /** Cluster.availablePartitionsForTopic: partitions with a known leader. */
  availablePartitions(topic: string): number[] {
    return (this.topics.get(topic) ?? []).filter((p) => this.leaderHost(topic, p.partition) !== null).map((p) => p.partition);
  }

  /** Cluster.partitionsForNode: the partitions of the topics of interest led by `host`. */
  partitionsForHost(host: string): readonly { topic: string; partition: number; topicPartition: string }[] {
    let result = this.partitionsForHostCache.get(host);
    if (result !== undefined) return result;
    result = [];
    for (const topic of this.interest) {
      for (const p of this.topics.get(topic) ?? []) if (this.leaderHost(topic, p.partition) === host) result.push({ topic, partition: p.partition, topicPartition: `${topic}-${p.partition}` });
    }
    this.partitionsForHostCache.set(host, result);
    return result;
  }

  /** Known broker hosts in broker id order (for the least-loaded node). */
  brokerHosts(): readonly string[] {
    this.brokerHostsCache ??= [...this.brokers.entries()].sort((a, b) => a[0] - b[0]).map(([, host]) => host);
    return this.brokerHostsCache;
  }
}
