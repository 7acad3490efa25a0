/**
 * The online replication invariants, read only from the trace (Trace.observe): `divergent-log`, `hwm-regression`,
 * `two-leaders` and `two-controllers` (DESIGN.md). A passive observer: it mirrors every replica's log from the
 * log-level events and every broker's role from become-leader / become-follower / isr-* / hwm and host events,
 * and reports each violation once per partition (or once for the controller) and name.
 *
 * `hwm-regression` is defined in hwm-regression.ts; the committed log the history checkers read in committed-log.ts.
 */

import { brokerHost } from "../protocol/kafka.ts";
import { ControllerChecker } from "./controller.ts";
import { finalDivergence, StrongIsrTracker, type Divergence } from "./divergence.ts";
import { committedDataLost, leaderHwmDecreased, type ElectionInfo } from "./hwm-regression.ts";
import { PartitionView } from "./partition-view.ts";
import type { LogLoadedBatch } from "../sim/trace.ts";
import { committedLog, type CommittedLog } from "./committed-log.ts";
import { traceRecords, type TraceEvent, type TraceFields } from "../sim/trace.ts";
import type { Violation, ViolationName } from "./violation.ts";

interface LeaderAppend {
  node: string;
  time: number;
  offset: number;
  value: string | null;
}

interface PartitionState {
  view: PartitionView;
  strongIsr: StrongIsrTracker;
  /** leaderEpoch → the first broker that appended as leader at it. */
  leaderAppends: Map<number, LeaderAppend>;
  /** The controller's latest leader-elected for this partition (evidence for hwm-regression). */
  lastElection: ElectionInfo | null;
  /**
   * Something the StrongIsr check reads (a role, an ISR, a HW, a cut log) changed without a check since the
   * last one. While false, an append at or above the HW of the last check cannot reveal a divergence (the
   * check compares only offsets below the HW), so appends skip the check until then.
   */
  strongIsrPending: boolean;
  /** divergent-log was reported for this topic-partition (`reported` as a field: checked after every append). */
  divergenceReported: boolean;
}

/** The answer of an event that revealed nothing: one shared empty array, so the per-event path allocates none. */
const NONE: Violation[] = [];

/** The host events after which a broker has no role (the cases of `observe`'s first switch). */
const HOST_LIFECYCLE = ["host-crash", "host-power-loss", "host-machine-crash", "host-shutdown", "host-start"];

/** The trace kinds `observe` reads; every other event is ignored (Trace.observe's kind filter). */
export const REPLICATION_KINDS: readonly string[] = [
  ...HOST_LIFECYCLE,
  "controller-elected",
  "controller-write",
  "log-append",
  "log-truncate",
  "log-recovery",
  "log-loaded",
  "log-retention-delete",
  "log-delete",
  "leader-elected",
  "become-leader",
  "become-follower",
  "isr-shrink",
  "isr-expand",
  "hwm",
];

export type { CommittedLog };

export class ReplicationCheckers {
  readonly violations: Violation[] = [];
  private readonly partitions = new Map<string, PartitionState>();
  private readonly reported = new Set<string>();
  private readonly controller = new ControllerChecker();
  /** The violations the current event revealed: NONE (shared, never written) until one is reported. */
  private fresh: Violation[] = NONE;

  /** Called for every trace event; returns the violations this event revealed (callers only read it). */
  observe(event: TraceEvent): Violation[] {
    this.fresh = NONE;
    switch (event.kind) {
      case "log-append":
        return this.observeAppend(event, event.node, event.t);
      case "hwm":
        return this.observeHighWatermark(event, event.node, event.t);
      case "host-crash":
      case "host-power-loss":
      case "host-machine-crash":
      case "host-shutdown":
      case "host-start":
        this.onHostChange(event.node);
        return this.fresh;
      case "controller-elected":
      case "controller-write": {
        const found = this.controller.observe(event);
        if (found !== null) this.report("controller", found);
        return this.fresh;
      }
    }
    const topicPartition = event.topicPartition;
    if (typeof topicPartition !== "string") return this.fresh;
    switch (event.kind) {
      case "log-truncate":
        this.onTruncate(this.partition(topicPartition), event);
        break;
      case "log-recovery":
        this.onRecovery(this.partition(topicPartition), event);
        break;
      case "log-loaded":
        if (Array.isArray(event.batches)) this.onLoaded(this.partition(topicPartition), event);
        break;
      case "log-retention-delete": {
        const state = this.partition(topicPartition);
        state.view.replica(event.node).advanceLogStart(Number(event.logStartOffset));
        state.strongIsrPending = true;
        break;
      }
      case "log-delete":
        this.onDelete(topicPartition, event.node);
        break;
      case "leader-elected":
        this.partition(topicPartition).lastElection = {
          leaderEpoch: Number(event.leaderEpoch),
          unclean: event.unclean === true,
          reason: event.reason,
          time: event.t,
        };
        break;
      case "become-leader":
        this.onBecomeLeader(this.partition(topicPartition), event);
        break;
      case "become-follower": {
        const state = this.partition(topicPartition);
        state.view.becomeFollower(event.node, Number(event.leaderEpoch), Number(event.highWatermark), event.t);
        state.strongIsrPending = true;
        break;
      }
      case "isr-shrink":
      case "isr-expand":
        this.onIsrChange(this.partition(topicPartition), event);
        break;
    }
    return this.fresh;
  }

  /** A log-append event's fields, emitted at `t` on `node` (the checkers' path: no event object). */
  observeAppend(fields: TraceFields, node: string, t: number): Violation[] {
    this.fresh = NONE;
    const topicPartition = fields.topicPartition;
    if (typeof topicPartition === "string") this.onAppend(this.partition(topicPartition), fields, node, t);
    return this.fresh;
  }

  /** An hwm event's fields, emitted at `t` on `node` (the checkers' path: no event object). */
  observeHighWatermark(fields: TraceFields, node: string, t: number): Violation[] {
    this.fresh = NONE;
    const topicPartition = fields.topicPartition;
    if (typeof topicPartition === "string") this.onHighWatermark(this.partition(topicPartition), fields, node, t);
    return this.fresh;
  }

  /** End-of-run checks: replicas that disagree below the leader's HW. Returns the new violations. */
  finish(now: number): Violation[] {
    this.fresh = NONE;
    for (const [topicPartition, state] of this.partitions) {
      const divergence = finalDivergence(state.view);
      if (divergence !== null) this.reportDivergence(topicPartition, divergence, now, "final");
    }
    return this.fresh;
  }

  topicPartitions(): string[] {
    return [...this.partitions.keys()];
  }

  /** The partition's view (tests, the viewer). */
  view(topicPartition: string): PartitionView | null {
    return this.partitions.get(topicPartition)?.view ?? null;
  }

  /** The partition's committed log now (see committed-log.ts), or null for a partition never seen. */
  committedLog(topicPartition: string): CommittedLog | null {
    const state = this.partitions.get(topicPartition);
    return state === undefined ? null : committedLog(state.view);
  }

  // ---- Events ----

  private partition(topicPartition: string): PartitionState {
    let state = this.partitions.get(topicPartition);
    if (state === undefined) {
      state = {
        view: new PartitionView(topicPartition),
        strongIsr: new StrongIsrTracker(),
        leaderAppends: new Map(),
        lastElection: null,
        strongIsrPending: true,
        // A re-created topic's partition keeps the report of the deleted one (one per topic-partition and name).
        divergenceReported: this.reported.has(`divergent-log|${topicPartition}`),
      };
      this.partitions.set(topicPartition, state);
    }
    return state;
  }

  private onHostChange(node: string): void {
    // Down: its role is stale (the disk, and so the mirror, keeps the log). Started: no role until told one.
    for (const state of this.partitions.values()) {
      state.view.dropRole(node);
      state.strongIsrPending = true;
    }
  }

  /**
   * A replica appended records: read from the batch itself when the emit site put it under TRACE_RECORDS (every
   * run of the model: no arrays built for the checkers), else from the event's `offsets` and `values` (a trace
   * read back from its lines).
   */
  private onAppend(state: PartitionState, fields: TraceFields, node: string, t: number): void {
    const records = traceRecords(fields);
    const offsets = records === undefined ? (fields.offsets as number[]) : null;
    const values = records === undefined ? (fields.values as (string | null)[]) : null;
    const count = records !== undefined ? records.recordCount : offsets!.length;
    const mirror = state.view.replica(node);
    if (count === 0) {
      if (state.strongIsrPending) this.checkStrongIsr(state, t);
      return;
    }
    const firstOffset = records !== undefined ? records.baseOffset + records.offsetDeltaAt(0) : offsets![0];
    const epoch = Number(fields.partitionLeaderEpoch);
    if (firstOffset < mirror.logEndOffset) this.cut(state, node, firstOffset);
    if (records !== undefined) mirror.appendRecords(records, epoch, t);
    else mirror.append(offsets!, values!, epoch, t);
    if (fields.asLeader === true && epoch >= 0) this.checkTwoLeaders(state, node, t, epoch, firstOffset, (records !== undefined ? records.valueAt(0) : values![0]) ?? null);
    // Records at or above the HW are not compared (a leader's appends always are): check only when it can find something.
    if (state.strongIsrPending || firstOffset < state.strongIsr.checkedHighWatermark) this.checkStrongIsr(state, t);
  }

  private onTruncate(state: PartitionState, event: TraceEvent): void {
    const offset = Number(event.offset);
    const mirror = state.view.replica(event.node);
    if (event.fully === true) mirror.startAt(offset);
    else mirror.truncateTo(offset);
    this.cut(state, event.node, offset);
    state.strongIsrPending = true;
  }

  private onRecovery(state: PartitionState, event: TraceEvent): void {
    const logEndOffset = Number(event.logEndOffset);
    const mirror = state.view.replica(event.node);
    mirror.truncateTo(logEndOffset);
    if (typeof event.logStartOffset === "number") mirror.advanceLogStart(event.logStartOffset);
    this.cut(state, event.node, logEndOffset);
    state.strongIsrPending = true;
  }

  /**
   * After an unclean shutdown the broker traces the content it loaded: the mirror becomes exactly that (a power
   * loss may have brought back records truncated before it, which log-recovery's log end alone cannot say).
   */
  private onLoaded(state: PartitionState, event: TraceEvent): void {
    const mirror = state.view.replica(event.node);
    const batches = event.batches as LogLoadedBatch[];
    const changed = mirror.reload(Number(event.logStartOffset), Number(event.logEndOffset), batches, event.t);
    if (changed >= 0) this.cut(state, event.node, changed);
    state.strongIsrPending = true;
  }

  private onDelete(topicPartition: string, node: string): void {
    const state = this.partition(topicPartition);
    state.view.dropReplica(node);
    state.view.dropRole(node);
    state.strongIsr.onDelete(node);
    state.strongIsrPending = true;
    // Every replica gone (topic deletion): a re-created topic starts afresh at leader epoch 0.
    if (state.view.isEmpty()) this.partitions.delete(topicPartition);
  }

  private cut(state: PartitionState, node: string, offset: number): void {
    state.strongIsr.onTruncate(node, offset, state.view.actingLeader()?.node ?? null);
  }

  private onBecomeLeader(state: PartitionState, event: TraceEvent): void {
    const view = state.view;
    const leaderEpoch = Number(event.leaderEpoch);
    const logEndOffset = typeof event.logEndOffset === "number" ? event.logEndOffset : view.replica(event.node).logEndOffset;
    const election = state.lastElection !== null && state.lastElection.leaderEpoch === leaderEpoch ? state.lastElection : null;
    const lost = committedDataLost(view, { node: event.node, time: event.t, leaderEpoch, logEndOffset }, election);
    if (lost !== null) this.report(view.topicPartition, lost);
    view.becomeLeader(event.node, leaderEpoch, (event.isr as number[] | undefined) ?? [], Number(event.highWatermark), event.t);
    this.checkStrongIsr(state, event.t);
  }

  private onIsrChange(state: PartitionState, event: TraceEvent): void {
    const leaderEpoch = Number(event.leaderEpoch);
    const own = state.view.roles.get(event.node);
    const leader = own !== undefined && own.role === "leader" && own.leaderEpoch === leaderEpoch ? own : state.view.leaderAt(leaderEpoch)?.role;
    if (leader === undefined) return;
    leader.isr = (event.isr as number[]).map(brokerHost);
    this.checkStrongIsr(state, event.t);
  }

  private onHighWatermark(state: PartitionState, fields: TraceFields, node: string, t: number): void {
    const view = state.view;
    const role = view.roles.get(node);
    const highWatermark = Number(fields.highWatermark);
    if (role === undefined || role.leaderEpoch !== Number(fields.leaderEpoch)) return;
    if (role.role === "follower" || fields.role !== "leader") {
      role.highWatermark = highWatermark;
      state.strongIsrPending = true;
      return;
    }
    const decreased = leaderHwmDecreased(view, node, role, highWatermark, t);
    if (decreased !== null) this.report(view.topicPartition, decreased);
    role.highWatermark = highWatermark;
    role.maxHighWatermark = Math.max(role.maxHighWatermark, highWatermark);
    const acting = view.actingLeader();
    if (acting !== null && acting.node === node && (view.committed === null || highWatermark > view.committed.offset)) {
      view.committed = { offset: highWatermark, node: node, leaderEpoch: role.leaderEpoch, time: t };
    }
    this.checkStrongIsr(state, t);
  }

  // ---- Checks ----

  private checkTwoLeaders(state: PartitionState, node: string, time: number, leaderEpoch: number, offset: number, value: string | null): void {
    const append: LeaderAppend = { node, time, offset, value };
    const first = state.leaderAppends.get(leaderEpoch);
    if (first === undefined) {
      state.leaderAppends.set(leaderEpoch, append);
      return;
    }
    if (first.node === node) return;
    this.report(state.view.topicPartition, {
      name: "two-leaders",
      time,
      nodes: [first.node, node],
      evidence: { topicPartition: state.view.topicPartition, leaderEpoch, first, second: append },
    });
  }

  private checkStrongIsr(state: PartitionState, time: number): void {
    if (state.divergenceReported) return;
    const divergence = state.strongIsr.check(state.view);
    state.strongIsrPending = false;
    if (divergence !== null) this.reportDivergence(state.view.topicPartition, divergence, time, "online");
  }

  private reportDivergence(topicPartition: string, divergence: Divergence, time: number, phase: "online" | "final"): void {
    this.report(topicPartition, {
      name: "divergent-log",
      time,
      nodes: [divergence.reference, divergence.other],
      evidence: { phase, topicPartition, ...divergence },
    });
  }

  private report(scope: string, violation: Violation): void {
    const key = `${violation.name satisfies ViolationName}|${scope}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.violations.push(violation);
    if (this.fresh === NONE) this.fresh = [];
    this.fresh.push(violation);
    if (violation.name === "divergent-log") {
      const state = this.partitions.get(scope);
      if (state !== undefined) state.divergenceReported = true;
    }
  }
}
