/**
 * Kafka's PartitionLeaderElectionAlgorithms and the leader-and-ISR each election strategy of
 * PartitionStateMachine produces (leaderForOffline, leaderForReassign, leaderForPreferredReplica,
 * leaderForControlledShutdown). Pure functions of the assignment, the ISR and the live replicas.
 */

export type ElectionReason = "new-partition" | "offline" | "preferred" | "controlled-shutdown" | "reassign";

export interface ElectionResult {
  leader: number;
  isr: number[];
  unclean: boolean;
}

/** First live ISR member in assignment order; else, when unclean election is on, the first live replica. */
export function offlinePartitionLeaderElection(
  assignment: readonly number[],
  isr: readonly number[],
  liveReplicas: ReadonlySet<number>,
  uncleanLeaderElectionEnabled: boolean,
): ElectionResult | null {
  const clean = assignment.find((id) => liveReplicas.has(id) && isr.includes(id));
  if (clean !== undefined) return { leader: clean, isr: isr.filter((id) => liveReplicas.has(id)), unclean: false };
  if (!uncleanLeaderElectionEnabled) return null;
  const unclean = assignment.find((id) => liveReplicas.has(id));
  return unclean === undefined ? null : { leader: unclean, isr: [unclean], unclean: true };
}

/** First replica of the target assignment that is live and in the ISR; the ISR is kept. */
export function reassignPartitionLeaderElection(
  reassignment: readonly number[],
  isr: readonly number[],
  liveReplicas: ReadonlySet<number>,
): ElectionResult | null {
  const leader = reassignment.find((id) => liveReplicas.has(id) && isr.includes(id));
  return leader === undefined ? null : { leader, isr: [...isr], unclean: false };
}

/** The preferred (first assigned) replica, if live and in the ISR; the ISR is kept. */
export function preferredReplicaPartitionLeaderElection(
  assignment: readonly number[],
  isr: readonly number[],
  liveReplicas: ReadonlySet<number>,
): ElectionResult | null {
  const preferred = assignment[0];
  if (preferred === undefined || !liveReplicas.has(preferred) || !isr.includes(preferred)) return null;
  return { leader: preferred, isr: [...isr], unclean: false };
}

/** First live ISR member not shutting down; the shutting-down brokers leave the ISR. */
export function controlledShutdownPartitionLeaderElection(
  assignment: readonly number[],
  isr: readonly number[],
  liveReplicas: ReadonlySet<number>,
  shuttingDownBrokers: ReadonlySet<number>,
): ElectionResult | null {
  const leader = assignment.find((id) => liveReplicas.has(id) && isr.includes(id) && !shuttingDownBrokers.has(id));
  if (leader === undefined) return null;
  return { leader, isr: isr.filter((id) => !shuttingDownBrokers.has(id)), unclean: false };
}
