/**
 * The replication checkers (src/check/replication.ts) as they were before issue 18 round 3, on the old partition
 * view and StrongIsr tracker (replication-reference-view.ts); the model test compares the optimised checkers with it.
 * The unchanged parts (mirrors, hwm-regression, the controller checker, the final divergence) are the sources'.
 */

import { brokerHost } from "../../src/protocol/kafka.ts";
import { ControllerChecker } from "../../src/check/controller.ts";
import { finalDivergence, type Divergence } from "../../src/check/divergence.ts";
import { committedDataLost, leaderHwmDecreased, type ElectionInfo } from "../../src/check/hwm-regression.ts";
import type { LogLoadedBatch, TraceEvent } from "../../src/sim/trace.ts";
import type { PartitionView } from "../../src/check/partition-view.ts";
import { committedLog, type CommittedLog } from "../../src/check/committed-log.ts";
import type { Violation, ViolationName } from "../../src/check/violation.ts";
import { ReferencePartitionView, ReferenceStrongIsrTracker } from "./replication-reference-view.ts";

interface LeaderAppend {
  node: string;
  time: number;
  offset: number;
  value: string | null;
}

interface PartitionState {
  view: ReferencePartitionView;
  strongIsr: ReferenceStrongIsrTracker;
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




export class ReferenceReplicationCheckers {
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
      case "hwm":
        break;
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
      case "log-append":
        this.onAppend(this.partition(topicPartition), event);
        break;
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
      case "hwm":
        this.onHighWatermark(this.partition(topicPartition), event);
        break;
    }
    return this.fresh;
  }

  /** End-of-run checks: replicas that disagree below the leader's HW. Returns the new violations. */
  finish(now: number): Violation[] {
    this.fresh = NONE;
    for (const [topicPartition, state] of this.partitions) {
      const divergence = finalDivergence(state.view as unknown as PartitionView);
      if (divergence !== null) this.reportDivergence(topicPartition, divergence, now, "final");
    }
    return this.fresh;
  }

  topicPartitions(): string[] {
    return [...this.partitions.keys()];
  }

  /** The partition's view (tests, the viewer). */
  view(topicPartition: string): ReferencePartitionView | null {
    return this.partitions.get(topicPartition)?.view ?? null;
  }

  /** The partition's committed log now (see committed-log.ts), or null for a partition never seen. */
  committedLog(topicPartition: string): CommittedLog | null {
    const state = this.partitions.get(topicPartition);
    return state === undefined ? null : committedLog(state.view as unknown as PartitionView);
  }

  // ---- Events ----

  private partition(topicPartition: string): PartitionState {
    let state = this.partitions.get(topicPartition);
    if (state === undefined) {
      state = {
        view: new ReferencePartitionView(topicPartition),
        strongIsr: new ReferenceStrongIsrTracker(),
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
      state.view.roles.delete(node);
      state.strongIsrPending = true;
    }
  }

  private onAppend(state: PartitionState, event: TraceEvent): void {
    const offsets = event.offsets as number[];
    const values = event.values as (string | null)[];
    const epoch = Number(event.partitionLeaderEpoch);
    const mirror = state.view.replica(event.node);
    if (offsets.length > 0 && offsets[0] < mirror.logEndOffset) this.cut(state, event.node, offsets[0]);
    mirror.append(offsets, values, epoch, event.t);
    if (event.asLeader === true && epoch >= 0 && offsets.length > 0) this.checkTwoLeaders(state, event, epoch, offsets[0], values[0] ?? null);
    // Records at or above the HW are not compared (a leader's appends always are): check only when it can find something.
    if (state.strongIsrPending || (offsets.length > 0 && offsets[0] < state.strongIsr.checkedHighWatermark)) this.checkStrongIsr(state, event.t);
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
    state.view.replicas.delete(node);
    state.view.roles.delete(node);
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
    const lost = committedDataLost(view as unknown as PartitionView, { node: event.node, time: event.t, leaderEpoch, logEndOffset }, election);
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

  private onHighWatermark(state: PartitionState, event: TraceEvent): void {
    const view = state.view;
    const role = view.roles.get(event.node);
    const highWatermark = Number(event.highWatermark);
    if (role === undefined || role.leaderEpoch !== Number(event.leaderEpoch)) return;
    if (role.role === "follower" || event.role !== "leader") {
      role.highWatermark = highWatermark;
      state.strongIsrPending = true;
      return;
    }
    const decreased = leaderHwmDecreased(view as unknown as PartitionView, event.node, role, highWatermark, event.t);
    if (decreased !== null) this.report(view.topicPartition, decreased);
    role.highWatermark = highWatermark;
    role.maxHighWatermark = Math.max(role.maxHighWatermark, highWatermark);
    const acting = view.actingLeader();
    if (acting !== null && acting.node === event.node && (view.committed === null || highWatermark > view.committed.offset)) {
      view.committed = { offset: highWatermark, node: event.node, leaderEpoch: role.leaderEpoch, time: event.t };
    }
    this.checkStrongIsr(state, event.t);
  }

  // ---- Checks ----

  private checkTwoLeaders(state: PartitionState, event: TraceEvent, leaderEpoch: number, offset: number, value: string | null): void {
    const append: LeaderAppend = { node: event.node, time: event.t, offset, value };
    const first = state.leaderAppends.get(leaderEpoch);
    if (first === undefined) {
      state.leaderAppends.set(leaderEpoch, append);
      return;
    }
    if (first.node === event.node) return;
    this.report(state.view.topicPartition, {
      name: "two-leaders",
      time: event.t,
      nodes: [first.node, event.node],
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
