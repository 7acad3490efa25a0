/**
 * The consumer's cluster metadata (Kafka's Metadata / ConsumerMetadata): live brokers, and per topic its
 * partitions' leader and leader epoch, refreshed by Metadata requests when an update is requested (errors,
 * unknown leaders) or metadata.max.age.ms has passed, at most once per retry.backoff.ms. KIP-320: a partition
 * whose answered leader epoch is older than the last one seen keeps its cached entry (the answering broker is
 * behind) and another update is requested. Simplifications: no topic ids, no exponential backoff (KIP-580).
 */

import { brokerHost, type KafkaError, type MetadataResponse } from "../../protocol/kafka.ts";
import type { LeaderAndEpoch } from "./subscription-state.ts";

interface TopicMetadata {
  error: KafkaError;
  /** partition → leader and epoch. */
  readonly partitions: Map<number, LeaderAndEpoch>;
}

const NO_LEADER: LeaderAndEpoch = { leader: -1, epoch: -1 };

export class ConsumerMetadata {
  private readonly brokers = new Map<number, string>();
  private readonly topics = new Map<string, TopicMetadata>();
  private readonly lastSeenLeaderEpochs = new Map<string, number>();
  /** Topics to ask about, in the order they were added. */
  readonly interest: string[] = [];
  needUpdate = true;
  /** µs of the last refresh attempt (success or failure); -Infinity before the first. */
  lastRefreshAttemptUs = -Infinity;
  /** µs of the last successful refresh. */
  lastSuccessfulRefreshUs = -Infinity;

  addTopics(topics: readonly string[]): void {
    for (const topic of topics) {
      if (this.interest.includes(topic)) continue;
      this.interest.push(topic);
      this.needUpdate = true;
    }
  }

  requestUpdate(): void {
    this.needUpdate = true;
  }

  /** When the next Metadata request may go out (µs): now when due, else later; Infinity: not needed. */
  nextUpdateUs(backoffUs: number, maxAgeUs: number): number {
    const allowed = this.lastRefreshAttemptUs + backoffUs;
    if (this.needUpdate) return allowed;
    return Math.max(allowed, this.lastSuccessfulRefreshUs + maxAgeUs);
  }

  failedAttempt(nowUs: number): void {
    this.lastRefreshAttemptUs = nowUs;
  }

  update(response: MetadataResponse, nowUs: number): void {
    this.lastRefreshAttemptUs = nowUs;
    this.lastSuccessfulRefreshUs = nowUs;
    this.needUpdate = false;
    if (response.brokers.length > 0) {
      this.brokers.clear();
      for (const broker of response.brokers) this.brokers.set(broker.nodeId, broker.host);
    }
    for (const answer of response.topics) {
      if (!this.interest.includes(answer.name)) continue;
      const cached = this.topics.get(answer.name);
      const partitions = new Map<number, LeaderAndEpoch>();
      if (answer.error !== "NONE" || answer.partitions.length === 0) {
        // The topic is unknown (not created yet, or deleted): forget its partitions and ask again later.
        this.topics.set(answer.name, { error: answer.error === "NONE" ? "UNKNOWN_TOPIC_OR_PARTITION" : answer.error, partitions });
        this.needUpdate = true;
        continue;
      }
      const sorted = [...answer.partitions].sort((a, b) => a.partition - b.partition);
      for (const p of sorted) {
        const key = `${answer.name}-${p.partition}`;
        const lastSeen = this.lastSeenLeaderEpochs.get(key) ?? -1;
        const old = cached?.partitions.get(p.partition);
        if (p.leaderEpoch >= 0 && p.leaderEpoch < lastSeen && old !== undefined) {
          // A stale broker answered: keep what we knew and ask again (Metadata.updateLatestMetadata).
          partitions.set(p.partition, old);
          this.needUpdate = true;
          continue;
        }
        if (p.leaderEpoch > lastSeen) this.lastSeenLeaderEpochs.set(key, p.leaderEpoch);
        const leader = p.error === "NONE" || p.error === "REPLICA_NOT_AVAILABLE" ? p.leader : -1;
        partitions.set(p.partition, { leader, epoch: p.leaderEpoch });
        if (leader < 0) this.needUpdate = true;
      }
      this.topics.set(answer.name, { error: "NONE", partitions });
    }
  }

  /** A newer epoch learned elsewhere (ListOffsets): Metadata.updateLastSeenEpochIfNewer. */
  updateLastSeenEpochIfNewer(topicPartition: string, epoch: number): void {
    if (epoch > (this.lastSeenLeaderEpochs.get(topicPartition) ?? -1)) this.lastSeenLeaderEpochs.set(topicPartition, epoch);
  }

  /** The number of partitions of a topic (0: unknown). */
  partitionCount(topic: string): number {
    return this.topics.get(topic)?.partitions.size ?? 0;
  }

  currentLeader(topic: string, partition: number): LeaderAndEpoch {
    return this.topics.get(topic)?.partitions.get(partition) ?? NO_LEADER;
  }

  /** A broker's host name (the network address). */
  host(brokerId: number): string {
    return this.brokers.get(brokerId) ?? brokerHost(brokerId);
  }

  /** Brokers to ask for metadata: the live ones known, in id order of the last answer. */
  knownHosts(): string[] {
    return [...this.brokers.values()];
  }
}
