/**
 * StickyAssignor (clients/.../consumer/StickyAssignor.java, Kafka 3.6): the eager sticky assignor. Each
 * member remembers its last assignment and generation (onAssignment) and sends them as its subscription's
 * user data (STICKY_ASSIGNOR_USER_DATA_V1: partitions grouped by topic, topics in HashMap order); the leader
 * reads ownership only from that user data. The user data is an object here, not bytes: anything not of its
 * shape is read as Kafka reads unparseable bytes (no partitions, generation -1).
 */

import type { TopicPartitionRef } from "../../../protocol/kafka.ts";
import type { RebalanceProtocol, Subscription } from "./partition-assignor.ts";
import { AbstractStickyAssignor, DEFAULT_GENERATION, type MemberData } from "./abstract-sticky.ts";
import { javaStringHashOrder } from "./java-order.ts";

/** STICKY_ASSIGNOR_USER_DATA_V1 (V0 had no generation: null). */
export interface StickyAssignorUserData {
  readonly previousAssignment: readonly TopicPartitionRef[];
  readonly generation: number | null;
}

/**
 * StickyAssignor.serializeTopicPartitionAssignment: the partitions grouped by topic
 * (CollectionUtils.groupPartitionsByTopic, a HashMap), which is the order the leader reads them back in.
 */
export function serializeTopicPartitionAssignment(partitions: readonly TopicPartitionRef[], generation: number | null): StickyAssignorUserData {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    const list = byTopic.get(topic) ?? [];
    list.push(partition);
    byTopic.set(topic, list);
  }
  const previousAssignment = javaStringHashOrder(byTopic.keys()).flatMap((topic) => (byTopic.get(topic) ?? []).map((partition) => ({ topic, partition })));
  return { previousAssignment, generation };
}

function isUserData(value: unknown): value is StickyAssignorUserData {
  if (typeof value !== "object" || value === null) return false;
  const { previousAssignment, generation } = value as { previousAssignment?: unknown; generation?: unknown };
  const validGeneration = generation === null || generation === undefined || Number.isInteger(generation);
  const validPartitions =
    Array.isArray(previousAssignment) &&
    previousAssignment.every((tp: unknown) => typeof tp === "object" && tp !== null && typeof (tp as TopicPartitionRef).topic === "string" && Number.isInteger((tp as TopicPartitionRef).partition));
  return validGeneration && validPartitions;
}

export class StickyAssignor extends AbstractStickyAssignor {
  readonly name = "sticky";
  readonly supportedProtocols: readonly RebalanceProtocol[] = ["EAGER"];
  private memberAssignment: readonly TopicPartitionRef[] | null = null;
  private generation = DEFAULT_GENERATION;

  onAssignment(assignment: readonly TopicPartitionRef[], generationId: number): void {
    this.memberAssignment = [...assignment];
    this.generation = generationId;
  }

  subscriptionUserData(): StickyAssignorUserData | null {
    if (this.memberAssignment === null) return null;
    return serializeTopicPartitionAssignment(this.memberAssignment, this.generation);
  }

  /** Always from the user data: an eager member has revoked everything before it joins. */
  memberData(subscription: Subscription): MemberData {
    const userData = subscription.userData;
    if (userData === null || userData === undefined) return { partitions: [], generation: null };
    if (!isUserData(userData)) return { partitions: [], generation: DEFAULT_GENERATION };
    return { partitions: userData.previousAssignment, generation: userData.generation ?? null };
  }
}
