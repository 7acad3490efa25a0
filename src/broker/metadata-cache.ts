/**
 * The broker's MetadataCache (ZkMetadataCache): live brokers, the controller id and each partition's leader,
 * leader epoch, ISR and replicas, as the controller last told this broker through UpdateMetadata (and
 * LeaderAndIsr for the partitions it hosts). It answers Metadata requests, so clients see what the broker
 * believes — stale during a controller change, as in Kafka. Simplification: no listeners or racks.
 */

import {
  NO_LEADER,
  type MetadataResponse,
  type MetadataTopic,
  type UpdateMetadataPartitionState,
  type UpdateMetadataRequest,
} from "../protocol/kafka.ts";

export interface CachedPartition {
  leader: number;
  leaderEpoch: number;
  isr: number[];
  replicas: number[];
  offlineReplicas: number[];
  zkVersion: number;
  controllerEpoch: number;
}

export class MetadataCache {
  /** Live brokers by id → host, as of the last UpdateMetadata. */
  readonly aliveBrokers = new Map<number, string>();
  /** topic → partition → state. */
  private readonly topics = new Map<string, Map<number, CachedPartition>>();
  controllerId = -1;
  /** The controller epoch of the last accepted UpdateMetadata (older ones are rejected). */
  controllerEpoch = 0;

  /** Applies an UpdateMetadata the broker accepted (controller epoch already checked). */
  update(request: UpdateMetadataRequest): void {
    this.controllerId = request.controllerId;
    this.controllerEpoch = Math.max(this.controllerEpoch, request.controllerEpoch);
    this.aliveBrokers.clear();
    for (const broker of [...request.liveBrokers].sort((a, b) => a.id - b.id)) this.aliveBrokers.set(broker.id, broker.host);
    for (const topic of request.deletedTopics ?? []) this.topics.delete(topic);
    for (const state of request.partitionStates) this.updatePartition(state);
  }

  updatePartition(state: UpdateMetadataPartitionState): void {
    let partitions = this.topics.get(state.topic);
    if (partitions === undefined) {
      partitions = new Map();
      this.topics.set(state.topic, partitions);
    }
    partitions.set(state.partition, {
      leader: state.leader,
      leaderEpoch: state.leaderEpoch,
      isr: [...state.isr],
      replicas: [...state.replicas],
      offlineReplicas: [...state.offlineReplicas],
      zkVersion: state.zkVersion,
      controllerEpoch: state.controllerEpoch,
    });
  }

  partition(topic: string, partition: number): CachedPartition | undefined {
    return this.topics.get(topic)?.get(partition);
  }

  partitionCount(topic: string): number {
    return this.topics.get(topic)?.size ?? 0;
  }

  topicNames(): string[] {
    return [...this.topics.keys()];
  }

  /** The Metadata response for `topics` (null: all), correlation id filled by the caller. */
  describe(topics: readonly string[] | null, correlationId: number): MetadataResponse {
    const names = topics ?? this.topicNames();
    const described: MetadataTopic[] = names.map((name) => {
      const partitions = this.topics.get(name);
      if (partitions === undefined) return { name, error: "UNKNOWN_TOPIC_OR_PARTITION", partitions: [] };
      return {
        name,
        error: "NONE",
        partitions: [...partitions]
          .sort((a, b) => a[0] - b[0])
          .map(([partition, state]) => ({
            partition,
            error: state.leader === NO_LEADER || !this.aliveBrokers.has(state.leader) ? "LEADER_NOT_AVAILABLE" : "NONE",
            leader: this.aliveBrokers.has(state.leader) ? state.leader : NO_LEADER,
            leaderEpoch: state.leaderEpoch,
            replicas: [...state.replicas],
            isr: [...state.isr],
            offlineReplicas: [...state.offlineReplicas],
          })),
      };
    });
    return {
      type: "MetadataResponse",
      correlationId,
      sizeBytes: 64 + 48 * described.reduce((n, t) => n + t.partitions.length, 0),
      brokers: [...this.aliveBrokers].map(([nodeId, host]) => ({ nodeId, host })),
      controllerId: this.controllerId,
      topics: described,
    };
  }
}
