/**
 * PLACEHOLDER on the g-consumer branch only: helper A's branch provides the real index.ts (the four assignors
 * behind `assignorFor` and `ASSIGNOR_NAMES`); on merge, take A's file. Until then no assignor resolves, so a
 * group consumer must be given its assignors explicitly (the tests do).
 */

import type { ConsumerPartitionAssignor } from "./partition-assignor.ts";

export const ASSIGNOR_NAMES: readonly string[] = ["range", "roundrobin", "sticky", "cooperative-sticky"];

/** A new assignor instance for a partition.assignment.strategy entry (short name or Kafka class name), or null. */
export function assignorFor(nameOrClass: string): ConsumerPartitionAssignor | null {
  void nameOrClass;
  return null;
}
