/**
 * `double-assignment`, an online group checker: one partition owned by two members of one group with the same
 * generation. It models no Kafka component; it follows the members' ownership from their client trace events:
 * a member owns a partition from its `partitions-assigned` until its `partitions-revoked` / `partitions-lost`
 * naming it, or until its host goes down (crash, power loss, shutdown) or starts again. A member that keeps a
 * partition across a rebalance (cooperative, KIP-429: partitions-assigned names only additions) owns it with its
 * newest generation: each later `partitions-assigned` or `consumer-group-joined` of the member moves every
 * partition it still owns to that event's generation. Owners with different generations are not a violation:
 * that is the zombie Kafka allows (a member expelled by the coordinator learns it only at its next heartbeat or
 * commit; until then it believes it owns its partitions, and its commits get ILLEGAL_GENERATION). A consumer
 * instance (one `process`) holds one membership per group: a new member id replaces the old one, with whatever
 * the instance still owns. Each (group, partition, generation) is reported once.
 */

import type { TraceEvent } from "../sim/trace.ts";
import type { TracePoint } from "./groups-history.ts";
import type { Violation } from "./violation.ts";

/** The client trace kinds of group membership (groups.md's trace contract). */
export const MEMBERSHIP_KINDS: readonly string[] = ["partitions-assigned", "partitions-revoked", "partitions-lost", "consumer-group-joined"];

/** Host lifecycle kinds: a host that goes down or starts again owns nothing. */
const HOST_RESETS: ReadonlySet<string> = new Set(["host-crash", "host-power-loss", "host-machine-crash", "host-shutdown", "host-start"]);

interface Ownership {
  /** The partitions-assigned that gave it. */
  readonly assignedAt: TracePoint;
  /** The event that set the member's current generation on it. */
  generationAt: TracePoint;
}

interface Membership {
  readonly group: string;
  readonly process: string;
  readonly node: string;
  member: unknown;
  generation: unknown;
  protocol: unknown;
  readonly owned: Map<string, Ownership>;
}

export class DoubleAssignmentChecker {
  /** `${group}\u0000${process}` → the instance's membership. */
  private readonly memberships = new Map<string, Membership>();
  /** `${group}\u0000${topicPartition}` → the memberships owning it. */
  private readonly owners = new Map<string, Set<Membership>>();
  /** `${group}\u0000${topicPartition}\u0000${generation}` already reported. */
  private readonly reported = new Set<string>();

  /** Reads one trace event; returns the double assignments it reveals. */
  observe(event: TraceEvent): Violation[] {
    if (HOST_RESETS.has(event.kind)) {
      if (this.memberships.size > 0) this.hostReset(event.node);
      return [];
    }
    if (!MEMBERSHIP_KINDS.includes(event.kind) || typeof event.group !== "string") return [];
    const membership = this.membership(event, event.group);
    const at = { t: event.t, seq: event.seq };
    switch (event.kind) {
      case "partitions-revoked":
      case "partitions-lost":
        for (const topicPartition of partitionsOf(event) ?? [...membership.owned.keys()]) this.disown(membership, topicPartition);
        return [];
      case "partitions-assigned":
        this.join(membership, event, at);
        for (const topicPartition of partitionsOf(event) ?? []) {
          if (membership.owned.has(topicPartition)) continue;
          membership.owned.set(topicPartition, { assignedAt: at, generationAt: at });
          this.ownersOf(membership.group, topicPartition).add(membership);
        }
        return this.conflicts(membership, event.t);
      default:
        // consumer-group-joined
        this.join(membership, event, at);
        return this.conflicts(membership, event.t);
    }
  }

  private membership(event: TraceEvent, group: string): Membership {
    const process = typeof event.process === "string" ? event.process : event.node;
    const key = `${group}\u0000${process}`;
    let membership = this.memberships.get(key);
    if (membership === undefined) {
      membership = { group, process, node: event.node, member: event.member, generation: event.generation, protocol: event.protocol, owned: new Map() };
      this.memberships.set(key, membership);
    }
    return membership;
  }

  /** The member's id and generation from now on; every partition it keeps moves to that generation. */
  private join(membership: Membership, event: TraceEvent, at: TracePoint): void {
    membership.member = event.member;
    membership.protocol = event.protocol;
    if (membership.generation === event.generation) return;
    membership.generation = event.generation;
    for (const ownership of membership.owned.values()) ownership.generationAt = at;
  }

  private disown(membership: Membership, topicPartition: string): void {
    if (!membership.owned.delete(topicPartition)) return;
    this.owners.get(`${membership.group}\u0000${topicPartition}`)?.delete(membership);
  }

  private hostReset(node: string): void {
    for (const [key, membership] of this.memberships) {
      if (membership.node !== node) continue;
      for (const topicPartition of [...membership.owned.keys()]) this.disown(membership, topicPartition);
      this.memberships.delete(key);
    }
  }

  private ownersOf(group: string, topicPartition: string): Set<Membership> {
    const key = `${group}\u0000${topicPartition}`;
    let found = this.owners.get(key);
    if (found === undefined) {
      found = new Set();
      this.owners.set(key, found);
    }
    return found;
  }

  /** Every other owner, with the same generation, of a partition `membership` owns. */
  private conflicts(membership: Membership, time: number): Violation[] {
    if (typeof membership.generation !== "number") return [];
    const found: Violation[] = [];
    for (const [topicPartition, ownership] of membership.owned) {
      for (const other of this.owners.get(`${membership.group}\u0000${topicPartition}`) ?? []) {
        if (other === membership || other.generation !== membership.generation) continue;
        const key = `${membership.group}\u0000${topicPartition}\u0000${membership.generation}`;
        if (this.reported.has(key)) continue;
        this.reported.add(key);
        found.push({
          name: "double-assignment",
          time,
          nodes: [other.node, membership.node],
          evidence: {
            group: membership.group,
            topicPartition,
            generation: membership.generation,
            first: describe(other, other.owned.get(topicPartition)!),
            second: describe(membership, ownership),
          },
        });
      }
    }
    return found;
  }
}

function describe(membership: Membership, ownership: Ownership): Record<string, unknown> {
  return {
    member: membership.member,
    process: membership.process,
    generation: membership.generation,
    protocol: membership.protocol ?? null,
    assignedAt: ownership.assignedAt.t,
    generationAt: ownership.generationAt.t,
  };
}

/** The `partitions` of a partitions-* event ("t-0" names); null when it names none. */
function partitionsOf(event: TraceEvent): string[] | null {
  if (!Array.isArray(event.partitions)) return null;
  return (event.partitions as unknown[]).filter((name): name is string => typeof name === "string");
}
