/**
 * The consumer groups' history as the group checkers read it: the group consumers' "op" events (f "poll",
 * "process", "commit", "offset-fetch", each naming its group, member and generation; groups.md's trace
 * contract), parsed from the trace. It models no Kafka component. Ops without a `group` (the no-group consumer's
 * polls, the producers' sends) are ignored on the first test, so a run without groups stores nothing. Events are
 * ordered by their trace `seq` (virtual time alone does not order events of one instant). A consumer numbers its
 * ops from 1 again after its host restarts (a crash or power loss loses the process's memory), so an op is named
 * by its process, the host's incarnation (`hostStarted`) and its `opId`.
 */

import type { TraceEvent } from "../sim/trace.ts";

/** A point of the trace: virtual µs and the event's sequence number (the order). */
export interface TracePoint {
  readonly t: number;
  readonly seq: number;
}

/** One OffsetCommit of a member, from its invoke to its outcome. */
export interface CommitAttempt {
  readonly process: string;
  readonly opId: unknown;
  readonly group: string;
  readonly member: unknown;
  readonly generation: unknown;
  readonly mode: unknown;
  /** topic-partition → committed offset. */
  readonly offsets: Map<string, number>;
  /** The invoke, or the first op seen when the history has no invoke. */
  readonly invokedAt: TracePoint;
  outcome: "ok" | "fail" | "info" | null;
  completedAt: TracePoint | null;
  error: unknown;
}

/** One `offset-fetch` op's answer for one partition. */
export interface OffsetFetch {
  readonly process: string;
  readonly group: string;
  readonly member: unknown;
  readonly generation: unknown;
  readonly topicPartition: string;
  /** The committed offset the member got (-1: none). */
  readonly offset: number;
  /** The ok. */
  readonly at: TracePoint;
  /** The fetch's invoke when the history records one (it bounds which commits the coordinator could have seen). */
  readonly invokedAt: TracePoint | null;
}

/** What one group did with one partition. */
export interface GroupPartition {
  readonly group: string;
  readonly topicPartition: string;
  /** Commits naming this partition, in invoke order. */
  readonly commits: CommitAttempt[];
  /** Per offset some member of the group polled, its last poll: by which host, at which poll() (the in-flight exemption). */
  readonly polled: Map<number, { readonly node: string; readonly seq: number }>;
  /** The lowest offset polled (Infinity: none). */
  lowestPolled: number;
  /** Offsets some member of the group processed (a `process` op names them). */
  readonly processed: Set<number>;
  /** Offsets processed more than once (at-least-once duplicates). */
  readonly processedTwice: Set<number>;
}

const COMMIT_OUTCOMES: ReadonlySet<string> = new Set(["ok", "fail", "info"]);

export function topicPartitionName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** The history of every group; feed it the "op" events (others are ignored). */
export class GroupHistory {
  /** `${group}\u0000${topicPartition}` → what the group did with it, in first-seen order. */
  readonly partitions = new Map<string, GroupPartition>();
  readonly fetches: OffsetFetch[] = [];
  /** Per host, the seq of its latest poll() (one poll() writes one op per partition at one instant). */
  readonly lastPollSeqByNode = new Map<string, number>();
  private readonly commits = new Map<string, CommitAttempt>();
  private readonly fetchInvokes = new Map<string, TracePoint>();
  /** Per host, the instant of its latest poll op while no other op of it followed (the same poll() goes on). */
  private readonly openPollTimeByNode = new Map<string, number>();
  /** Per host, how many times it started (its incarnation; ops of one incarnation share the opId counter). */
  private readonly incarnationByNode = new Map<string, number>();

  /** True once any group op was seen. */
  active = false;

  observe(event: TraceEvent): void {
    if (event.kind !== "op" || typeof event.group !== "string") return;
    this.active = true;
    const process = typeof event.process === "string" ? event.process : event.node;
    if (event.f !== "poll") this.openPollTimeByNode.delete(event.node);
    switch (event.f) {
      case "poll":
        if (event.type === "ok") this.poll(event, event.group);
        return;
      case "process":
        if (event.type === "ok") this.process(event, event.group);
        return;
      case "commit":
        this.commit(event, event.group, process);
        return;
      case "offset-fetch":
        this.offsetFetch(event, event.group, process);
        return;
    }
  }

  /** A host started (again): its process numbers its ops from the start, in a new name space. */
  hostStarted(node: string): void {
    this.incarnationByNode.set(node, (this.incarnationByNode.get(node) ?? 0) + 1);
  }

  partition(group: string, topicPartition: string): GroupPartition {
    const key = `${group}\u0000${topicPartition}`;
    let found = this.partitions.get(key);
    if (found === undefined) {
      found = { group, topicPartition, commits: [], polled: new Map(), lowestPolled: Infinity, processed: new Set(), processedTwice: new Set() };
      this.partitions.set(key, found);
    }
    return found;
  }

  private poll(event: TraceEvent, group: string): void {
    const offsets = recordOffsets(event);
    if (offsets === null) return;
    // The ops of one poll() (one per partition, same host, same instant, nothing in between) share its first seq.
    if (this.openPollTimeByNode.get(event.node) !== event.t) {
      this.openPollTimeByNode.set(event.node, event.t);
      this.lastPollSeqByNode.set(event.node, event.seq);
    }
    const poll = { node: event.node, seq: this.lastPollSeqByNode.get(event.node)! };
    const partition = this.partition(group, topicPartitionName(event.topic as string, event.partition as number));
    for (const offset of offsets) {
      partition.polled.set(offset, poll);
      if (offset < partition.lowestPolled) partition.lowestPolled = offset;
    }
  }

  private process(event: TraceEvent, group: string): void {
    const offsets = recordOffsets(event);
    if (offsets === null) return;
    const partition = this.partition(group, topicPartitionName(event.topic as string, event.partition as number));
    for (const offset of offsets) {
      if (partition.processed.has(offset)) partition.processedTwice.add(offset);
      else partition.processed.add(offset);
    }
  }

  /** The name of an op of `process` on the host of `event`: its incarnation and opId. */
  private opKey(event: TraceEvent, process: string): string {
    return `${process}\u0000${this.incarnationByNode.get(event.node) ?? 0}\u0000${String(event.opId)}`;
  }

  private commit(event: TraceEvent, group: string, process: string): void {
    const key = this.opKey(event, process);
    let attempt = this.commits.get(key);
    if (attempt === undefined) {
      attempt = {
        process,
        opId: event.opId,
        group,
        member: event.member,
        generation: event.generation,
        mode: event.mode,
        offsets: new Map(),
        invokedAt: { t: event.t, seq: event.seq },
        outcome: null,
        completedAt: null,
        error: undefined,
      };
      this.commits.set(key, attempt);
    }
    if (attempt.offsets.size === 0) {
      for (const { topicPartition, offset } of offsetList(event.offsets)) {
        attempt.offsets.set(topicPartition, offset);
        this.partition(group, topicPartition).commits.push(attempt);
      }
    }
    if (typeof event.type === "string" && COMMIT_OUTCOMES.has(event.type) && attempt.outcome === null) {
      attempt.outcome = event.type as "ok" | "fail" | "info";
      attempt.completedAt = { t: event.t, seq: event.seq };
      attempt.error = event.error;
    }
  }

  private offsetFetch(event: TraceEvent, group: string, process: string): void {
    const key = this.opKey(event, process);
    if (event.type === "invoke") {
      if (event.opId !== undefined) this.fetchInvokes.set(key, { t: event.t, seq: event.seq });
      return;
    }
    if (event.type !== "ok") return;
    const invokedAt = event.opId === undefined ? null : (this.fetchInvokes.get(key) ?? null);
    for (const { topicPartition, offset } of offsetList(event.offsets)) {
      this.fetches.push({ process, group, member: event.member, generation: event.generation, topicPartition, offset, at: { t: event.t, seq: event.seq }, invokedAt });
    }
  }
}

/** The `offsets` of a poll or process op, when it names a topic and partition. */
function recordOffsets(event: TraceEvent): readonly number[] | null {
  if (typeof event.topic !== "string" || typeof event.partition !== "number" || !Array.isArray(event.offsets)) return null;
  return (event.offsets as unknown[]).filter((offset): offset is number => typeof offset === "number");
}

/** `[{topic, partition, offset}]` of a commit or offset-fetch op. */
function offsetList(value: unknown): { topicPartition: string; offset: number }[] {
  if (!Array.isArray(value)) return [];
  const found: { topicPartition: string; offset: number }[] = [];
  for (const entry of value as unknown[]) {
    if (typeof entry !== "object" || entry === null) continue;
    const { topic, partition, offset } = entry as Record<string, unknown>;
    if (typeof topic === "string" && typeof partition === "number" && typeof offset === "number") found.push({ topicPartition: topicPartitionName(topic, partition), offset });
  }
  return found;
}
