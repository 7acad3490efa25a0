/**
 * Kafka's ControllerContext: what the active controller knows — live brokers with their broker epochs, the
 * brokers shutting down, every topic's replica assignment (with KIP-455 adding/removing replicas), each
 * partition's cached leader/ISR/zkVersion and its partition-state-machine state, reassignments and topic
 * deletions in progress. Simplification: no explicit replica-state map except for topic deletion (the replica
 * state machine's transitions are applied as actions), no offline log dirs.
 */

import { topicPartitionKey } from "../../protocol/kafka.ts";

export interface TP {
  readonly topic: string;
  readonly partition: number;
}

export function tpKey(tp: TP): string {
  return topicPartitionKey(tp.topic, tp.partition);
}

/** LeaderIsrAndControllerEpoch with the state znode's zkVersion (the partition epoch). */
export interface LeaderIsr {
  leader: number;
  leaderEpoch: number;
  isr: number[];
  controllerEpoch: number;
  zkVersion: number;
}

/** ReplicaAssignment: `replicas` is the full set (RS = ORS ∪ TRS during a reassignment). */
export interface ReplicaAssignment {
  replicas: number[];
  addingReplicas: number[];
  removingReplicas: number[];
}

export type PartitionState = "NewPartition" | "OnlinePartition" | "OfflinePartition" | "NonExistentPartition";
export type DeletionState = "ReplicaDeletionStarted" | "ReplicaDeletionSuccessful" | "ReplicaDeletionIneligible";

export interface LiveBroker {
  host: string;
  /** czxid of /brokers/ids/<id>. */
  epoch: number;
}

export class ControllerContext {
  epoch = 0;
  epochZkVersion = -1;
  readonly liveBrokers = new Map<number, LiveBroker>();
  readonly shuttingDownBrokerIds = new Set<number>();
  /** topic → partition → assignment (partitions in ascending order). */
  readonly assignments = new Map<string, Map<number, ReplicaAssignment>>();
  readonly leadership = new Map<string, LeaderIsr>();
  readonly partitionStates = new Map<string, PartitionState>();
  /** tp key → target replicas (TRS) of a reassignment in progress. */
  readonly reassignments = new Map<string, { tp: TP; target: number[] }>();
  readonly topicsToBeDeleted = new Set<string>();
  /** `${tpKey}:${replica}` → deletion state of that replica (TopicDeletionManager). */
  readonly deletionStates = new Map<string, DeletionState>();

  reset(): void {
    this.liveBrokers.clear();
    this.shuttingDownBrokerIds.clear();
    this.assignments.clear();
    this.leadership.clear();
    this.partitionStates.clear();
    this.reassignments.clear();
    this.topicsToBeDeleted.clear();
    this.deletionStates.clear();
  }

  /** Live brokers not shutting down (ControllerContext.liveBrokerIds). */
  liveBrokerIds(): number[] {
    return [...this.liveBrokers.keys()].filter((id) => !this.shuttingDownBrokerIds.has(id));
  }

  liveOrShuttingDownBrokerIds(): number[] {
    return [...this.liveBrokers.keys()];
  }

  isReplicaOnline(brokerId: number, includeShuttingDown = false): boolean {
    return this.liveBrokers.has(brokerId) && (includeShuttingDown || !this.shuttingDownBrokerIds.has(brokerId));
  }

  allPartitions(): TP[] {
    const result: TP[] = [];
    for (const [topic, partitions] of this.assignments) for (const partition of partitions.keys()) result.push({ topic, partition });
    return result;
  }

  partitionsOfTopic(topic: string): TP[] {
    return [...(this.assignments.get(topic)?.keys() ?? [])].map((partition) => ({ topic, partition }));
  }

  assignment(tp: TP): ReplicaAssignment | undefined {
    return this.assignments.get(tp.topic)?.get(tp.partition);
  }

  replicas(tp: TP): number[] {
    return this.assignment(tp)?.replicas ?? [];
  }

  setAssignment(tp: TP, assignment: ReplicaAssignment): void {
    let partitions = this.assignments.get(tp.topic);
    if (partitions === undefined) {
      partitions = new Map();
      this.assignments.set(tp.topic, partitions);
    }
    partitions.set(tp.partition, assignment);
  }

  partitionsOnBroker(brokerId: number): TP[] {
    return this.allPartitions().filter((tp) => this.replicas(tp).includes(brokerId));
  }

  partitionState(tp: TP): PartitionState {
    return this.partitionStates.get(tpKey(tp)) ?? "NonExistentPartition";
  }

  leaderIsr(tp: TP): LeaderIsr | undefined {
    return this.leadership.get(tpKey(tp));
  }

  removeTopic(topic: string): void {
    for (const tp of this.partitionsOfTopic(topic)) {
      const key = tpKey(tp);
      this.leadership.delete(key);
      this.partitionStates.delete(key);
      this.reassignments.delete(key);
      for (const replica of this.replicas(tp)) this.deletionStates.delete(`${key}:${replica}`);
    }
    this.assignments.delete(topic);
    this.topicsToBeDeleted.delete(topic);
  }

  isTopicQueuedUpForDeletion(topic: string): boolean {
    return this.topicsToBeDeleted.has(topic);
  }
}
