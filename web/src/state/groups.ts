/**
 * Consumer groups as the trace tells them (docs/viewer.md, "Consumer groups"): the coordinator's view of each
 * group from `group-state` (state, generation, protocol, leader, members), where the group lives
 * (`group-coordinator-loading` / `-loaded` / `-unloaded`, the coordinator host going down), and the clients'
 * side — what each consumer owns from `partitions-assigned` / `-revoked` / `-lost` and `consumer-group-joined`.
 * `GroupStatusTracker` is the one reducer of the coordinator's side: the state timeline records its output per
 * event index, the drawing index per time (the group lanes), so both read the trace the same way.
 */

import type { TraceEvent } from "../../../src/sim/trace.ts";

/** Where the group's coordinator stands: serving it, loading it, gone (unloaded, or its host went down). */
export type CoordinatorStatus = "active" | "loading" | "unloaded" | "down";

export interface GroupMemberRef {
  memberId: string;
  instanceId: string | null;
}

/** The coordinator's view of one group after some event: immutable, a new object on every change. */
export interface GroupStatus {
  group: string;
  /** Empty, PreparingRebalance, CompletingRebalance, Stable, Dead (GroupState.scala). */
  state: string;
  previousState: string | null;
  generation: number;
  /** The chosen assignor (range, cooperative-sticky…), null before the first generation. */
  protocol: string | null;
  leader: string | null;
  members: readonly GroupMemberRef[];
  /** The group's __consumer_offsets partition (-1 until an event names it). */
  partition: number;
  /** The broker that last announced the group (null before any). */
  coordinator: string | null;
  coordinatorStatus: CoordinatorStatus;
  /** Index of the event that made this status. */
  seq: number;
}

/** The trace kinds the group views read (the contract of issue 15). */
export const GROUP_EVENT_KINDS: ReadonlySet<string> = new Set([
  "group-state",
  "group-member-removed",
  "group-offsets-committed",
  "group-coordinator-loading",
  "group-coordinator-loaded",
  "group-coordinator-unloaded",
  "offsets-topic-created",
  "partitions-assigned",
  "partitions-revoked",
  "partitions-lost",
  "consumer-group-joined",
  "consumer-poll-timeout",
]);

/**
 * What the coordinator put before a member id's UUID: the client id, or a static member's group.instance.id
 * (`c1-b38f8ad5-f330-79a0-488c-f55d7072445b` → `c1`); null for ids of another shape. The same rule as
 * src/cli/timeline-groups.ts (this module imports nothing from src/ but the trace types).
 */
export function memberIdPrefix(memberId: string): string | null {
  return /^(.+)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.exec(memberId)?.[1] ?? null;
}

/** The states of a rebalance in progress (shaded on the diagram). */
export function isRebalancing(state: string): boolean {
  return state === "PreparingRebalance" || state === "CompletingRebalance";
}

/**
 * Whether a group-state event starts a rebalance (a transition into PreparingRebalance), for the rebalance
 * counts: by the event's previousState, or, in traces without one, by the group's state before it.
 */
export function entersRebalance(e: TraceEvent, before: { readonly state: string } | null | undefined): boolean {
  if (e.kind !== "group-state" || e.state !== "PreparingRebalance") return false;
  return typeof e.previousState === "string" ? e.previousState !== "PreparingRebalance" : before?.state !== "PreparingRebalance";
}

const HOST_GONE = new Set(["host-crash", "host-power-loss", "host-machine-crash", "host-shutdown", "broker-halted"]);

function membersOf(value: unknown): GroupMemberRef[] {
  if (!Array.isArray(value)) return [];
  return value.map((m: unknown) => {
    if (typeof m === "string") return { memberId: m, instanceId: null };
    const o = (m ?? {}) as { memberId?: unknown; instanceId?: unknown };
    return { memberId: String(o.memberId ?? ""), instanceId: typeof o.instanceId === "string" ? o.instanceId : null };
  });
}

/**
 * Reduces the trace to each group's coordinator-side status. `apply` returns the statuses it changed (new
 * objects) — empty for events that do not touch a group.
 */
export class GroupStatusTracker {
  readonly current = new Map<string, GroupStatus>();
  /**
   * Static members replaced (KIP-345) and not yet seen under their new id, per group. The coordinator gives a
   * known group.instance.id a new member id without a transition (`replaceStaticMember`: no group-state), so
   * the new id is learnt from the member's consumer-group-joined (static member ids are `instanceId-UUID`).
   */
  private readonly replaced = new Map<string, { memberId: string; instanceId: string }[]>();

  apply(i: number, e: TraceEvent): GroupStatus[] {
    switch (e.kind) {
      case "group-member-removed": {
        if (e.reason === "static-member-replaced" && typeof e.instanceId === "string" && typeof e.member === "string") {
          const group = String(e.group);
          this.replaced.set(group, [...(this.replaced.get(group) ?? []), { memberId: e.member, instanceId: e.instanceId }]);
        }
        return [];
      }
      case "consumer-group-joined":
        return this.replaceStatic(i, e);
      case "group-state": {
        const group = String(e.group);
        const before = this.current.get(group);
        const status: GroupStatus = {
          group,
          state: String(e.state),
          previousState: typeof e.previousState === "string" ? e.previousState : null,
          generation: typeof e.generation === "number" ? e.generation : (before?.generation ?? 0),
          protocol: typeof e.protocol === "string" && e.protocol !== "" ? e.protocol : null,
          leader: typeof e.leader === "string" && e.leader !== "" ? e.leader : null,
          members: membersOf(e.members),
          partition: typeof e.partition === "number" ? e.partition : (before?.partition ?? -1),
          coordinator: e.node,
          coordinatorStatus: "active",
          seq: i,
        };
        this.current.set(group, status);
        return [status];
      }
      case "group-coordinator-loading":
        return this.move(i, e, "loading", (s) => s.coordinator !== e.node || s.coordinatorStatus !== "active");
      case "group-coordinator-loaded":
        return this.move(i, e, "active", (s) => s.coordinator !== e.node || s.coordinatorStatus !== "active");
      case "group-coordinator-unloaded":
        return this.move(i, e, "unloaded", (s) => s.coordinator === e.node);
      default:
        if (HOST_GONE.has(e.kind)) {
          const changed: GroupStatus[] = [];
          for (const s of this.current.values()) {
            if (s.coordinator === e.node && s.coordinatorStatus !== "down" && s.coordinatorStatus !== "unloaded") changed.push(this.set({ ...s, coordinatorStatus: "down", seq: i }));
          }
          return changed;
        }
        return [];
    }
  }

  /** A replaced static member's new id, from its consumer-group-joined: the old id becomes the new in the list. */
  private replaceStatic(i: number, e: TraceEvent): GroupStatus[] {
    const group = String(e.group);
    const pending = this.replaced.get(group);
    const status = this.current.get(group);
    if (pending === undefined || typeof e.member !== "string") return [];
    const newId = e.member;
    const k = pending.findIndex((p) => newId.startsWith(`${p.instanceId}-`) && newId !== p.memberId);
    if (k < 0) return [];
    const { memberId: oldId, instanceId } = pending[k];
    pending.splice(k, 1);
    if (pending.length === 0) this.replaced.delete(group);
    // A group-state since then may already list the new id.
    if (status === undefined || !status.members.some((m) => m.memberId === oldId)) return [];
    const members = status.members.map((m) => (m.memberId === oldId ? { memberId: newId, instanceId } : m));
    return [this.set({ ...status, members, leader: status.leader === oldId ? newId : status.leader, seq: i })];
  }

  /** The groups an emigration / immigration event names: its `groups` list, else those on its partition. */
  private move(i: number, e: TraceEvent, status: CoordinatorStatus, applies: (s: GroupStatus) => boolean): GroupStatus[] {
    const named = Array.isArray(e.groups) ? new Set((e.groups as unknown[]).map(String)) : null;
    const changed: GroupStatus[] = [];
    for (const s of this.current.values()) {
      const ours = named !== null ? named.has(s.group) : s.partition >= 0 && s.partition === e.partition;
      if (!ours || !applies(s)) continue;
      changed.push(this.set({ ...s, coordinator: e.node, coordinatorStatus: status, seq: i }));
    }
    return changed;
  }

  private set(status: GroupStatus): GroupStatus {
    this.current.set(status.group, status);
    return status;
  }
}

/** What one consumer owns in one group, from its own events. Immutable. */
export interface ClientAssignment {
  client: string;
  group: string;
  memberId: string | null;
  generation: number;
  protocol: string | null;
  /** "t-0" …, sorted. */
  partitions: readonly string[];
}

/** "t-10" after "t-9": by topic, then partition number. */
export function compareTopicPartitions(a: string, b: string): number {
  const da = a.lastIndexOf("-");
  const db = b.lastIndexOf("-");
  const ta = a.slice(0, da);
  const tb = b.slice(0, db);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return Number(a.slice(da + 1)) - Number(b.slice(db + 1));
}

/**
 * The next ClientAssignment after a client event (partitions-assigned / -revoked / -lost,
 * consumer-group-joined), or null when the event changes nothing. EAGER's onPartitionsAssigned hands the whole
 * new assignment; COOPERATIVE's only the added partitions (ConsumerCoordinator.onJoinComplete).
 */
export function nextAssignment(before: ClientAssignment | undefined, client: string, e: TraceEvent): ClientAssignment | null {
  const group = String(e.group);
  const base: ClientAssignment = before ?? { client, group, memberId: null, generation: -1, protocol: null, partitions: [] };
  const memberId = typeof e.member === "string" && e.member !== "" ? e.member : base.memberId;
  const generation = typeof e.generation === "number" ? e.generation : base.generation;
  // consumer-group-joined names the assignor in `protocol` and EAGER / COOPERATIVE in `rebalanceProtocol`.
  // (Traces written before rebalanceProtocol existed put EAGER / COOPERATIVE in `protocol`.)
  const rebalanceProtocol = e.kind === "consumer-group-joined" && typeof e.rebalanceProtocol === "string" ? e.rebalanceProtocol : e.kind === "consumer-group-joined" && e.protocol !== "EAGER" && e.protocol !== "COOPERATIVE" ? undefined : e.protocol;
  const protocol = typeof rebalanceProtocol === "string" ? rebalanceProtocol : base.protocol;
  const listed = Array.isArray(e.partitions) ? (e.partitions as unknown[]).map(String) : [];
  let partitions = base.partitions;
  switch (e.kind) {
    case "partitions-assigned":
      partitions = protocol === "EAGER" ? [...new Set(listed)] : [...new Set([...base.partitions, ...listed])];
      break;
    case "partitions-revoked":
    case "partitions-lost": {
      const gone = new Set(listed);
      partitions = base.partitions.filter((p) => !gone.has(p));
      break;
    }
    case "consumer-group-joined":
      break;
    default:
      return null;
  }
  return { client, group, memberId, generation, protocol, partitions: [...partitions].sort(compareTopicPartitions) };
}
