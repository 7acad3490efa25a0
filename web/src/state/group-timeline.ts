/**
 * The consumer groups part of the state timeline: per group a Series of the coordinator's status (from
 * GroupStatusTracker), per partition a Series of the last committed offset the brokers announced, per
 * consumer a Series of what it owns and of its last sampled lag. `groupsAt(index)` reads them by binary
 * search, as the rest of the timeline does. See docs/viewer.md ("Consumer groups") for the events and limits.
 */

import type { TraceEvent } from "../../../src/sim/trace.ts";
import { compareTopicPartitions, entersRebalance, GroupStatusTracker, memberIdPrefix, nextAssignment, type ClientAssignment, type GroupStatus } from "./groups.ts";
import { Series } from "./series.ts";
import type { CommittedOffsetView, GroupMemberView, GroupView } from "./types.ts";
import { compare } from "./zk-track.ts";

const CONSUMER_FETCH = "kafka.consumer:type=consumer-fetch-manager-metrics,client-id=";
const CLIENT_GONE = new Set(["host-crash", "host-power-loss", "host-machine-crash", "host-shutdown"]);

interface LagSample {
  lagMax: number | null;
  lag: { topicPartition: string; lag: number }[];
}

interface GroupTrack {
  status: Series<GroupStatus | null>;
  rebalances: Series<number>;
  /** topicPartition → last committed offset. */
  committed: Map<string, Series<CommittedOffsetView | null>>;
  /** Clients that ever named this group, by name. */
  clients: Set<string>;
}

export class GroupTimeline {
  private readonly tracker = new GroupStatusTracker();
  private readonly groups = new Map<string, GroupTrack>();
  /** `${client}|${group}` → what the client owns. */
  private readonly assignments = new Map<string, Series<ClientAssignment | null>>();
  /** Member id → the client that ran it (member ids are unique, so this holds for the whole trace). */
  private readonly memberClient = new Map<string, string>();
  private readonly lag = new Map<string, Series<LagSample | null>>();

  get size(): number {
    return this.groups.size;
  }

  /** Feeds one event (every event: host events move coordinators and empty crashed consumers). */
  observe(i: number, e: TraceEvent): void {
    for (const status of this.tracker.apply(i, e)) {
      const track = this.group(status.group);
      const before = track.status.last;
      track.status.set(i, status);
      if (entersRebalance(e, before)) track.rebalances.set(i, track.rebalances.last + 1);
    }
    switch (e.kind) {
      case "group-offsets-committed":
        this.committed(i, String(e.group), e.offsets, typeof e.member === "string" ? e.member : null, typeof e.generation === "number" ? e.generation : -1);
        break;
      case "group-coordinator-loaded":
        // A coordinator that lists what it loaded replaces the announced values (else they stand as announced).
        if (Array.isArray(e.offsets)) {
          const byGroup = new Map<string, unknown[]>();
          for (const o of e.offsets as { group?: unknown }[]) {
            const list = byGroup.get(String(o.group)) ?? [];
            list.push(o);
            byGroup.set(String(o.group), list);
          }
          for (const [group, offsets] of byGroup) this.committed(i, group, offsets, null, -1);
        }
        break;
      case "partitions-assigned":
      case "partitions-revoked":
      case "partitions-lost":
      case "consumer-group-joined": {
        const client = typeof e.process === "string" ? e.process : e.node;
        const group = String(e.group);
        this.group(group).clients.add(client);
        if (typeof e.member === "string" && e.member !== "") this.memberClient.set(e.member, client);
        const series = this.assignment(client, group);
        const next = nextAssignment(series.last ?? undefined, client, e);
        if (next !== null) series.set(i, next);
        break;
      }
      case "metrics":
        this.metrics(i, e);
        break;
      default:
        if (CLIENT_GONE.has(e.kind)) {
          // A crashed consumer owns nothing (its member stays in the group until its session times out).
          for (const [key, series] of this.assignments) {
            const last = series.last;
            if (last !== null && last.client === e.node && last.partitions.length > 0 && key.startsWith(`${e.node}|`)) series.set(i, { ...last, partitions: [] });
          }
          this.lag.get(e.node)?.set(i, null);
        }
    }
  }

  private committed(i: number, group: string, offsets: unknown, member: string | null, generation: number): void {
    if (!Array.isArray(offsets)) return;
    const track = this.group(group);
    for (const o of offsets as { topic?: unknown; partition?: unknown; offset?: unknown }[]) {
      if (typeof o.offset !== "number") continue;
      const topicPartition = `${String(o.topic)}-${String(o.partition)}`;
      let series = track.committed.get(topicPartition);
      if (series === undefined) {
        series = new Series<CommittedOffsetView | null>(null);
        track.committed.set(topicPartition, series);
      }
      series.set(i, { topicPartition, offset: o.offset, member, generation, seq: i });
    }
  }

  private metrics(i: number, e: TraceEvent): void {
    const mbeans = e.mbeans as Record<string, Record<string, unknown> | null> | undefined;
    if (typeof mbeans !== "object" || mbeans === null) return;
    let sample: LagSample | null = null;
    for (const [name, attributes] of Object.entries(mbeans)) {
      if (!name.startsWith(CONSUMER_FETCH) || attributes === null) continue;
      sample ??= { lagMax: null, lag: [] };
      const tp = /,topic=([^,]+),partition=(\d+)/.exec(name);
      if (tp === null) {
        if (typeof attributes["records-lag-max"] === "number") sample.lagMax = attributes["records-lag-max"];
      } else if (typeof attributes["records-lag"] === "number") {
        sample.lag.push({ topicPartition: `${tp[1]}-${tp[2]}`, lag: attributes["records-lag"] });
      }
    }
    if (sample === null) return;
    sample.lag.sort((a, b) => compareTopicPartitions(a.topicPartition, b.topicPartition));
    let series = this.lag.get(e.node);
    if (series === undefined) {
      series = new Series<LagSample | null>(null);
      this.lag.set(e.node, series);
    }
    series.set(i, sample);
  }

  private group(group: string): GroupTrack {
    let track = this.groups.get(group);
    if (track === undefined) {
      track = { status: new Series<GroupStatus | null>(null), rebalances: new Series<number>(0), committed: new Map(), clients: new Set() };
      this.groups.set(group, track);
    }
    return track;
  }

  private assignment(client: string, group: string): Series<ClientAssignment | null> {
    const key = `${client}|${group}`;
    let series = this.assignments.get(key);
    if (series === undefined) {
      series = new Series<ClientAssignment | null>(null);
      this.assignments.set(key, series);
    }
    return series;
  }

  /** Every group known at events[0..index] (announced by a coordinator or named by a client), by id. */
  groupsAt(i: number): GroupView[] {
    const views: GroupView[] = [];
    for (const [group, track] of this.groups) {
      const status = track.status.at(i);
      const owned = [...track.clients].sort(compare).map((client) => this.assignments.get(`${client}|${group}`)!.at(i)).filter((a): a is ClientAssignment => a !== null);
      if (status === null && owned.length === 0 && committedAt(track, i).length === 0) continue;
      const members: GroupMemberView[] = [];
      const listed = new Set<string>();
      for (const m of status?.members ?? []) {
        listed.add(m.memberId);
        const client = this.memberClient.get(m.memberId) ?? clientByPrefix(m.memberId, track.clients);
        const mine = client === null ? null : (this.assignments.get(`${client}|${group}`)?.at(i) ?? null);
        members.push(this.member(i, m.memberId, m.instanceId, client, true, status?.leader === m.memberId, mine !== null && mine.memberId === m.memberId ? mine : null));
      }
      // Consumers that still believe they own partitions without being in the coordinator's list.
      for (const a of owned) {
        if (a.partitions.length === 0 || (a.memberId !== null && listed.has(a.memberId))) continue;
        members.push(this.member(i, a.memberId ?? "", null, a.client, false, false, a));
      }
      views.push({
        group,
        coordinator: status?.coordinator ?? null,
        coordinatorStatus: status?.coordinatorStatus ?? "unloaded",
        state: status?.state ?? "Unknown",
        previousState: status?.previousState ?? null,
        generation: status?.generation ?? -1,
        protocol: status?.protocol ?? null,
        leader: status?.leader ?? null,
        partition: status?.partition ?? -1,
        members,
        committed: committedAt(track, i),
        rebalances: track.rebalances.at(i),
        since: status?.seq ?? -1,
      });
    }
    return views.sort((a, b) => compare(a.group, b.group));
  }

  private member(i: number, memberId: string, instanceId: string | null, client: string | null, inGroup: boolean, leader: boolean, a: ClientAssignment | null): GroupMemberView {
    const sample = client === null ? null : (this.lag.get(client)?.at(i) ?? null);
    return {
      memberId,
      instanceId,
      client,
      inGroup,
      leader,
      assignment: a === null ? [] : [...a.partitions],
      assignmentGeneration: a === null ? -1 : a.generation,
      lag: sample === null ? [] : sample.lag.map((l) => ({ ...l })),
      lagMax: sample === null ? null : sample.lagMax,
    };
  }
}

/**
 * A member no client event names (it never completed a join: its coordinator crashed first, say): the client
 * whose id the coordinator put before the UUID (`clientId-UUID`), when that client named the group; else null.
 */
function clientByPrefix(memberId: string, clients: ReadonlySet<string>): string | null {
  const prefix = memberIdPrefix(memberId);
  return prefix !== null && clients.has(prefix) ? prefix : null;
}

function committedAt(track: GroupTrack, i: number): CommittedOffsetView[] {
  const out: CommittedOffsetView[] = [];
  for (const series of track.committed.values()) {
    const value = series.at(i);
    if (value !== null) out.push({ ...value });
  }
  return out.sort((a, b) => compareTopicPartitions(a.topicPartition, b.topicPartition));
}
