/**
 * ConsumerPartitionAssignor (KIP-429 shape): what the group leader's consumer runs to turn every member's
 * subscription into an assignment, and what each member tells the assignor about itself. The four assignors
 * Kafka ships implement it (range, roundrobin, sticky, cooperative-sticky); `assignorFor` resolves a
 * `partition.assignment.strategy` entry (short name or Kafka's class name). Simplification: no rack ids.
 */

import type { TopicPartitionRef } from "../../../protocol/kafka.ts";

/** RebalanceProtocol: EAGER revokes everything before a rebalance, COOPERATIVE only what moves (KIP-429). */
export type RebalanceProtocol = "EAGER" | "COOPERATIVE";

/** ConsumerPartitionAssignor.Subscription, as the leader sees each member's. */
export interface Subscription {
  readonly topics: readonly string[];
  /** The assignor's user data from subscriptionUserData (StickyAssignor: previous assignment + generation). */
  readonly userData: unknown;
  readonly ownedPartitions: readonly TopicPartitionRef[];
  /** The generation ownedPartitions belong to (-1: unknown). */
  readonly generationId: number;
  /** group.instance.id of a static member (KIP-345), or null. */
  readonly groupInstanceId: string | null;
}

export interface ConsumerPartitionAssignor {
  /** The protocol name sent in JoinGroup ("range", "roundrobin", "sticky", "cooperative-sticky"). */
  readonly name: string;
  /** Supported protocols, most preferred first; the consumer uses the first common to all its assignors. */
  readonly supportedProtocols: readonly RebalanceProtocol[];
  /** The user data for this member's next subscription (null for assignors without any). */
  subscriptionUserData(topics: readonly string[]): unknown;
  /**
   * The assignment for every member id in `subscriptions` (every member gets an entry, possibly empty).
   * `partitionsPerTopic` has the partition count of every subscribed topic that exists.
   */
  assign(partitionsPerTopic: ReadonlyMap<string, number>, subscriptions: ReadonlyMap<string, Subscription>): Map<string, TopicPartitionRef[]>;
  /** Called on every member after a successful SyncGroup (StickyAssignor remembers its assignment). */
  onAssignment(assignment: readonly TopicPartitionRef[], generationId: number): void;
}
