/**
 * The partition.assignment.strategy entries Kafka's consumer accepts: the four assignors it ships, by their
 * protocol name or their class name. A new instance per call, since the sticky assignors remember the
 * member's last assignment and generation.
 */

import type { ConsumerPartitionAssignor } from "./partition-assignor.ts";
import { CooperativeStickyAssignor } from "./cooperative-sticky.ts";
import { RangeAssignor } from "./range.ts";
import { RoundRobinAssignor } from "./round-robin.ts";
import { StickyAssignor } from "./sticky.ts";

/** The protocol names, in the order `kafkasim assign --all` shows them. */
export const ASSIGNOR_NAMES = ["range", "roundrobin", "sticky", "cooperative-sticky"] as const;
export type AssignorName = (typeof ASSIGNOR_NAMES)[number];

const FACTORIES: ReadonlyMap<string, () => ConsumerPartitionAssignor> = new Map<string, () => ConsumerPartitionAssignor>([
  ["range", () => new RangeAssignor()],
  ["org.apache.kafka.clients.consumer.RangeAssignor", () => new RangeAssignor()],
  ["roundrobin", () => new RoundRobinAssignor()],
  ["org.apache.kafka.clients.consumer.RoundRobinAssignor", () => new RoundRobinAssignor()],
  ["sticky", () => new StickyAssignor()],
  ["org.apache.kafka.clients.consumer.StickyAssignor", () => new StickyAssignor()],
  ["cooperative-sticky", () => new CooperativeStickyAssignor()],
  ["org.apache.kafka.clients.consumer.CooperativeStickyAssignor", () => new CooperativeStickyAssignor()],
]);

/** A new assignor for a short name ("range") or Kafka class name; null if unknown. */
export function assignorFor(nameOrClass: string): ConsumerPartitionAssignor | null {
  return FACTORIES.get(nameOrClass.trim())?.() ?? null;
}

export { CooperativeStickyAssignor, RangeAssignor, RoundRobinAssignor, StickyAssignor };
export type { ConsumerPartitionAssignor, RebalanceProtocol, Subscription } from "./partition-assignor.ts";
