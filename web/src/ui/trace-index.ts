/**
 * What the viewer draws, derived from a trace in one pass (pure: no DOM, so Node tests run it):
 * lanes grouped by role, messages as send → deliver/drop pairs in typed arrays sorted by send time, fault and
 * host-state bands, role spans (ZooKeeper leader, controller), key events with the glyphs and labels of
 * `kafkasim timeline`, violations, fault notes for the narrative, and metric series from `metrics` events.
 * The per-partition state at a moment (logs, HW, ISR, ZooKeeper's tree) comes from web/src/state/.
 */

import { classify, type Category } from "../../../src/cli/timeline.ts";
import { describeGroupEvent, shortMemberId } from "../../../src/cli/timeline-groups.ts";
import type { TraceEvent, TraceHeader } from "../../../src/sim/trace.ts";
import { entersRebalance, GroupStatusTracker, isRebalancing, type CoordinatorStatus } from "../state/groups.ts";
import { TxnStatusTracker } from "../state/transactions.ts";

/**
 * "group": a consumer group's lane (its state over time from `group-state`), not a node; "txn": a
 * transactional.id's lane (its coordinator's state over time from `txn-state`).
 */
export type LaneGroup = "zookeeper" | "broker" | "admin" | "client" | "group" | "txn" | "other";

export interface Lane {
  name: string;
  group: LaneGroup;
  index: number;
}

/** Messages in send order; index i describes one message. A message never delivered has recvT NaN. */
export interface Messages {
  count: number;
  sendT: Float64Array;
  /** Delivery time, or the drop time for a dropped message, NaN when neither is in the trace. */
  endT: Float64Array;
  from: Int16Array;
  to: Int16Array;
  /** Index into `types`. */
  type: Int16Array;
  /** 0 delivered (or in flight at the end), 1 dropped. */
  dropped: Uint8Array;
  sendSeq: Int32Array;
  endSeq: Int32Array;
  types: string[];
  /** Largest end − send over all messages: a window query looks back this far. */
  maxSpanUs: number;
  /**
   * Labels richer than the type, by message index, for the transaction requests the trace describes:
   * `EndTxn commit`, `WriteTxnMarkers ABORT a-1,b-0` (from the producer-txn-request / txn-markers-sent before
   * the send).
   */
  labels: Map<number, string>;
}

export type BandKind = "down" | "power-loss" | "shutdown" | "paused" | "partition" | "network" | "disk" | "clock";

export interface Band {
  kind: BandKind;
  /** Lanes it covers. */
  lanes: number[];
  fromT: number;
  /** End time (the trace's end when it never ends). */
  toT: number;
  label: string;
  seq: number;
}

export interface RoleSpan {
  lane: number;
  role: "zk-leader" | "controller";
  fromT: number;
  toT: number;
  label: string;
}

export interface KeyMark {
  t: number;
  seq: number;
  lane: number;
  category: Category | "group" | "txn";
  glyph: string;
  label: string;
}

export interface ViolationMark {
  t: number;
  seq: number;
  lane: number;
  name: string;
  evidence: Record<string, unknown>;
  nodes: string[];
}

export interface NarrativeItem {
  t: number;
  seq: number;
  label: string;
  note?: string;
}

/** One chart line: a host's attribute of one mbean over time. */
export interface MetricSeries {
  node: string;
  mbean: string;
  attribute: string;
  t: number[];
  v: number[];
}

/** A transactional.id's coordinator-side state on its lane, from one status change to the next. */
export interface TxnSpan {
  lane: number;
  transactionalId: string;
  /** Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, Dead, PrepareEpochFence. */
  state: string;
  producerId: number;
  producerEpoch: number;
  partitions: readonly string[];
  coordinatorEpoch: number;
  coordinator: string | null;
  coordinatorStatus: CoordinatorStatus;
  fromT: number;
  toT: number;
  seq: number;
}

/** A consumer group's state on its lane, from one status change to the next. */
export interface GroupSpan {
  lane: number;
  group: string;
  /** Empty, PreparingRebalance, CompletingRebalance, Stable, Dead. */
  state: string;
  generation: number;
  protocol: string | null;
  leader: string | null;
  members: number;
  coordinator: string | null;
  coordinatorStatus: CoordinatorStatus;
  fromT: number;
  toT: number;
  seq: number;
}

export interface TraceIndex {
  header: TraceHeader;
  events: TraceEvent[];
  lanes: Lane[];
  laneOf: Map<string, number>;
  messages: Messages;
  bands: Band[];
  roles: RoleSpan[];
  marks: KeyMark[];
  violations: ViolationMark[];
  narrative: NarrativeItem[];
  /** Keyed `${mbean}|${attribute}`, one series per node. */
  metrics: Map<string, MetricSeries[]>;
  /** Consumer groups' lanes (lane index by group id) and their state spans in time order. */
  groupLanes: Map<string, number>;
  groupSpans: GroupSpan[];
  /**
   * Rebalances per group derived from `group-state` (transitions into PreparingRebalance), cumulative, as steps:
   * one series per group (node = the group id), ending at the trace's end.
   */
  groupRebalances: MetricSeries[];
  /** Transactional ids' lanes (lane index by id) and their coordinator-side state spans in time order. */
  txnLanes: Map<string, number>;
  txnSpans: TxnSpan[];
  /**
   * Derived from `txn-state`: per coordinator broker (node), the transactions it holds in Ongoing or a
   * PrepareX state, as steps ending at the trace's end.
   */
  txnOngoing: MetricSeries[];
  /** Indexes of key events (marks, violations), in order: shift+step jumps between them. */
  keyIndexes: Int32Array;
  endT: number;
}

const HOST_DOWN: Record<string, BandKind> = { "host-crash": "down", "host-power-loss": "power-loss", "host-machine-crash": "power-loss", "host-shutdown": "shutdown", "broker-halted": "down", "zk-fatal": "down" };
const NETWORK_FAULTS = new Set(["partition", "loss", "delay", "bandwidth", "slow"]);
const DISK_FAULTS = new Set(["disk-error", "disk-full", "disk-slow", "corrupt"]);

export function laneGroup(name: string): LaneGroup {
  if (name.startsWith("zk-")) return "zookeeper";
  if (name.startsWith("broker-")) return "broker";
  if (name === "admin") return "admin";
  if (name === "nemesis" || name === "sim" || name === "checker") return "other";
  return "client";
}

const GROUP_ORDER: LaneGroup[] = ["zookeeper", "broker", "admin", "client", "group", "txn", "other"];

/** A consumer group's lane name (a space: no node is named so). */
export function groupLaneName(group: string): string {
  return `group ${group}`;
}

/** A transactional.id's lane name (a space: no node is named so). */
export function txnLaneName(transactionalId: string): string {
  return `txn ${transactionalId}`;
}

/** The transaction requests (src/protocol/transaction.ts) and their responses. */
export const TXN_MESSAGES: ReadonlySet<string> = new Set(["AddPartitionsToTxn", "AddOffsetsToTxn", "EndTxn", "TxnOffsetCommit", "WriteTxnMarkers"]);

export function isTxnMessage(type: string): boolean {
  return TXN_MESSAGES.has(type.endsWith("Response") ? type.slice(0, -"Response".length) : type);
}

export function indexTrace(header: TraceHeader, events: TraceEvent[]): TraceIndex {
  const names = [...header.nodes];
  // Consumer groups get lanes after the clients: the groups any coordinator announced, by id.
  const groupIds = new Set<string>();
  for (const e of events) if (e.kind === "group-state") groupIds.add(String(e.group));
  const groupNames = [...groupIds].sort().map(groupLaneName);
  // Transactional ids get lanes after the groups: the ids any coordinator announced.
  const txnIds = new Set<string>();
  for (const e of events) if (e.kind === "txn-state") txnIds.add(String(e.transactionalId));
  const txnNames = [...txnIds].sort().map(txnLaneName);
  const sorted = GROUP_ORDER.flatMap((group) => (group === "group" ? groupNames : group === "txn" ? txnNames : names.filter((name) => laneGroup(name) === group)));
  const lanes: Lane[] = sorted.map((name, index) => ({
    name,
    group: names.includes(name) ? laneGroup(name) : groupNames.includes(name) ? "group" : txnNames.includes(name) ? "txn" : laneGroup(name),
    index,
  }));
  const laneOf = new Map(lanes.filter((lane) => lane.group !== "group" && lane.group !== "txn").map((lane) => [lane.name, lane.index]));
  const groupLanes = new Map([...groupIds].map((id) => [id, lanes.findIndex((lane) => lane.group === "group" && lane.name === groupLaneName(id))]));
  const txnLanes = new Map([...txnIds].map((id) => [id, lanes.findIndex((lane) => lane.group === "txn" && lane.name === txnLaneName(id))]));
  const txnTracker = new TxnStatusTracker();
  const txnSpans: TxnSpan[] = [];
  const openTxnSpan = new Map<string, TxnSpan>();
  const ongoingSeries = new Map<string, MetricSeries>();
  /** Per coordinator, the ids it holds in Ongoing / PrepareX. */
  const ongoingIds = new Map<string, Set<string>>();
  /** The last producer-txn-request per client and txn-markers-sent per coordinator (the labels of their sends). */
  const lastTxnRequest = new Map<string, TraceEvent>();
  const groupTracker = new GroupStatusTracker();
  const groupSpans: GroupSpan[] = [];
  const openGroupSpan = new Map<string, GroupSpan>();
  const rebalanceSeries = new Map<string, MetricSeries>();
  const endT = events.length > 0 ? events[events.length - 1].t : 0;

  const builder = new MessageBuilder();
  const bands: Band[] = [];
  const roles: RoleSpan[] = [];
  const marks: KeyMark[] = [];
  const violations: ViolationMark[] = [];
  const narrative: NarrativeItem[] = [];
  const metrics = new Map<string, MetricSeries[]>();
  const keyIndexes: number[] = [];

  const hostBand = new Map<number, Band>();
  const openFaults: Band[] = [];
  const openRole = new Map<string, RoleSpan>();
  const closeRole = (key: string, t: number) => {
    const span = openRole.get(key);
    if (span !== undefined) {
      span.toT = t;
      openRole.delete(key);
    }
  };
  /** A new role span for `key` (ending the host's previous one of that role). */
  const openRoleSpan = (key: string, span: RoleSpan) => {
    closeRole(key, span.fromT);
    openRole.set(key, span);
    roles.push(span);
  };
  const metricSeries = new Map<string, MetricSeries>();

  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    const lane = laneOf.get(e.node) ?? -1;
    if (e.kind !== "send" && e.kind !== "deliver" && e.kind !== "drop" && e.kind !== "fetch") {
      for (const status of txnTracker.apply(i, e)) {
        const before = openTxnSpan.get(status.transactionalId);
        if (before !== undefined) before.toT = e.t;
        const txnLane = txnLanes.get(status.transactionalId);
        if (txnLane !== undefined) {
          const span: TxnSpan = {
            lane: txnLane,
            transactionalId: status.transactionalId,
            state: status.state,
            producerId: status.producerId,
            producerEpoch: status.producerEpoch,
            partitions: status.partitions,
            coordinatorEpoch: status.coordinatorEpoch,
            coordinator: status.coordinator,
            coordinatorStatus: status.coordinatorStatus,
            fromT: e.t,
            toT: endT,
            seq: e.seq,
          };
          openTxnSpan.set(status.transactionalId, span);
          txnSpans.push(span);
        }
        if (e.kind === "txn-state") ongoing(ongoingIds, ongoingSeries, e.node, status.transactionalId, isOpenTxnState(status.state), e.t);
      }
      if (e.kind === "producer-txn-request" || e.kind === "txn-markers-sent") lastTxnRequest.set(e.node, e);
      for (const status of groupTracker.apply(i, e)) {
        const before = openGroupSpan.get(status.group);
        if (before !== undefined) before.toT = e.t;
        const groupLane = groupLanes.get(status.group);
        if (groupLane === undefined) continue;
        const span: GroupSpan = {
          lane: groupLane,
          group: status.group,
          state: status.state,
          generation: status.generation,
          protocol: status.protocol,
          leader: status.leader,
          members: status.members.length,
          coordinator: status.coordinator,
          coordinatorStatus: status.coordinatorStatus,
          fromT: e.t,
          toT: endT,
          seq: e.seq,
        };
        openGroupSpan.set(status.group, span);
        groupSpans.push(span);
        if (entersRebalance(e, before)) {
          let series = rebalanceSeries.get(status.group);
          if (series === undefined) rebalanceSeries.set(status.group, (series = { node: status.group, mbean: "derived:group-state", attribute: "rebalances", t: [0], v: [0] }));
          const count = series.v[series.v.length - 1];
          series.t.push(e.t, e.t);
          series.v.push(count, count + 1);
        }
      }
    }
    switch (e.kind) {
      case "send": {
        builder.send(e, lane, laneOf.get(String(e.to)) ?? -1);
        const label = txnMessageLabel(e, lastTxnRequest.get(e.node));
        if (label !== null) builder.label(label);
        continue;
      }
      case "deliver":
        builder.end(e, false);
        continue;
      case "drop":
        // A drop at send time (a cut or loss) has no send line after it; its send came just before.
        builder.end(e, true);
        continue;
      case "metrics":
        addMetrics(e, metricSeries, metrics);
        continue;
      case "host-crash":
      case "host-power-loss":
      case "host-machine-crash":
      case "host-shutdown":
      case "broker-halted":
      case "zk-fatal": {
        if (lane >= 0 && !hostBand.has(lane)) {
          const band: Band = { kind: HOST_DOWN[e.kind], lanes: [lane], fromT: e.t, toT: endT, label: e.kind.replace("host-", ""), seq: e.seq };
          hostBand.set(lane, band);
          bands.push(band);
        }
        closeRole(`zk:${e.node}`, e.t);
        closeRole(`controller:${e.node}`, e.t);
        break;
      }
      case "host-start":
      case "host-resume": {
        const band = hostBand.get(lane);
        if (band !== undefined) {
          band.toT = e.t;
          hostBand.delete(lane);
        }
        break;
      }
      case "host-pause":
        if (lane >= 0) {
          const band: Band = { kind: "paused", lanes: [lane], fromT: e.t, toT: endT, label: "paused", seq: e.seq };
          hostBand.set(lane, band);
          bands.push(band);
        }
        break;
      case "fault":
      case "fault-end":
      case "settle":
        faultBand(e, laneOf, openFaults, bands, endT);
        break;
      case "zk-serving":
        if (e.role === "LEADING") openRoleSpan(`zk:${e.node}`, { lane, role: "zk-leader", fromT: e.t, toT: endT, label: `ZK leader (epoch ${String(e.epoch)})` });
        break;
      case "zk-not-serving":
        closeRole(`zk:${e.node}`, e.t);
        break;
      case "controller-elected":
        openRoleSpan(`controller:${e.node}`, { lane, role: "controller", fromT: e.t, toT: endT, label: `controller (epoch ${String(e.controllerEpoch)})` });
        break;
      case "controller-resigned":
        closeRole(`controller:${e.node}`, e.t);
        break;
      case "violation":
        violations.push({
          t: e.t,
          seq: e.seq,
          lane,
          name: String(e.name),
          evidence: (e.evidence ?? {}) as Record<string, unknown>,
          nodes: [e.node],
        });
        keyIndexes.push(i);
        continue;
      default:
        break;
    }
    if (e.kind === "fault" || e.kind === "settle") {
      narrative.push({ t: e.t, seq: e.seq, label: faultLabel(e), ...(typeof e.note === "string" ? { note: e.note } : {}) });
    }
    // Group and transaction events first: their lanes here include the group's or id's own (classify knows only nodes).
    const row = groupRow(e, groupLanes) ?? txnRow(e) ?? classify(e);
    if (row !== null && row.category !== "violation") {
      const rowLanes = row.lanes.length > 0 ? row.lanes : [e.node];
      for (const name of rowLanes) {
        const l = laneOf.get(name) ?? (name.startsWith("group ") ? groupLanes.get(name.slice(6)) : name.startsWith("txn ") ? txnLanes.get(name.slice(4)) : undefined);
        if (l !== undefined && l >= 0) marks.push({ t: e.t, seq: e.seq, lane: l, category: row.category, glyph: row.glyph, label: row.label });
      }
      keyIndexes.push(i);
    }
  }
  for (const series of [...rebalanceSeries.values(), ...ongoingSeries.values()]) {
    series.t.push(endT);
    series.v.push(series.v[series.v.length - 1]);
  }
  return {
    header,
    events,
    lanes,
    laneOf,
    messages: builder.finish(),
    bands,
    roles,
    marks,
    violations,
    narrative,
    metrics,
    groupLanes,
    groupSpans,
    groupRebalances: [...rebalanceSeries.values()].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0)),
    txnLanes,
    txnSpans,
    txnOngoing: [...ongoingSeries.values()].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0)),
    keyIndexes: Int32Array.from(keyIndexes),
    endT,
  };
}


/**
 * The consumer-group key events (issue 15's trace contract), with the glyphs and labels of `kafkasim timeline`
 * (src/cli/timeline-groups.ts): the clients' partitions-assigned / -revoked / -lost, consumer-group-joined and
 * consumer-poll-timeout on the client's lane; group-member-removed on the coordinator's lane and the group's;
 * the coordinator's loading, loaded and unloaded of a __consumer_offsets partition on the broker's lane. Group
 * state changes are key events too (shift+→ stops at them) but draw no glyph: the group's lane shows them.
 */
export function groupRow(e: TraceEvent, groupLanes: Map<string, number>): { category: "group"; glyph: string; label: string; lanes: string[] } | null {
  const own = (glyph: string, label: string, lanes: string[] = [e.node]) => ({ category: "group" as const, glyph, label, lanes });
  switch (e.kind) {
    case "consumer-group-joined": {
      const gen = typeof e.generation === "number" ? `gen ${e.generation}` : "no generation";
      return own("⇥", `group ${String(e.group)} joined as ${shortMemberId(String(e.member))} (${gen}${e.leader === true ? ", leader" : ""})`);
    }
    case "group-coordinator-loading":
      return own("◔", `coordinator loading __consumer_offsets-${String(e.partition)} (epoch ${String(e.epoch)})`);
    case "group-member-removed": {
      const lanes = [e.node];
      if (groupLanes.has(String(e.group))) lanes.push(groupLaneName(String(e.group)));
      return own("⏏", describeGroupEvent(e)!.label, lanes);
    }
    case "group-state":
      return { category: "group", glyph: "", label: describeGroupEvent(e)!.label, lanes: [groupLaneName(String(e.group))] };
    default: {
      const described = describeGroupEvent(e);
      return described !== null ? own(described.glyph, described.label) : null;
    }
  }
}

/** The coordinator states of a transaction not yet complete (counted as ongoing on the dashboard). */
export function isOpenTxnState(state: string): boolean {
  return state === "Ongoing" || state === "PrepareCommit" || state === "PrepareAbort" || state === "PrepareEpochFence";
}

/** Moves `id` in or out of `node`'s open transactions, adding a step to its series when the count changes. */
function ongoing(ids: Map<string, Set<string>>, byNode: Map<string, MetricSeries>, node: string, id: string, open: boolean, t: number): void {
  // A coordinator that takes an id over: the previous one no longer holds it.
  for (const [other, set] of ids) if (other !== node && set.delete(id)) step(byNode, other, set.size, t);
  let set = ids.get(node);
  if (set === undefined) ids.set(node, (set = new Set()));
  const had = set.has(id);
  if (open === had) return;
  if (open) set.add(id);
  else set.delete(id);
  step(byNode, node, set.size, t);
}

function step(byNode: Map<string, MetricSeries>, node: string, value: number, t: number): void {
  let series = byNode.get(node);
  if (series === undefined) byNode.set(node, (series = { node, mbean: "derived:txn-state", attribute: "ongoing", t: [0], v: [0] }));
  series.t.push(t, t);
  series.v.push(series.v[series.v.length - 1], value);
}

/**
 * A transaction request's label on the diagram: EndTxn with the outcome the producer asked for (its
 * producer-txn-request names the state, COMMITTING_ / ABORTING_TRANSACTION), WriteTxnMarkers with the marker
 * type and partitions (the coordinator's txn-markers-sent just before, for that broker). Null: the type will do.
 */
function txnMessageLabel(e: TraceEvent, before: TraceEvent | undefined): string | null {
  if (before === undefined || before.t !== e.t) return null;
  if (e.type === "EndTxn" && before.kind === "producer-txn-request" && before.type === "EndTxn") {
    return before.state === "ABORTING_TRANSACTION" ? "EndTxn abort" : before.state === "COMMITTING_TRANSACTION" ? "EndTxn commit" : null;
  }
  if (e.type === "WriteTxnMarkers" && before.kind === "txn-markers-sent" && `broker-${String(before.brokerId)}` === e.to) {
    const partitions = Array.isArray(before.partitions) ? (before.partitions as unknown[]).map(String).join(",") : "";
    return `WriteTxnMarkers ${String(before.result)} ${partitions}`.trim();
  }
  return null;
}

/**
 * The transaction key events (issue 16's trace contract): a `txn` op's outcome on the producer's lane (✓
 * committed, ✗ aborted, ⚠ failed, ? unknown); a marker written on the partition leader's lane (✓ / ✗ with the
 * partition and offset); the coordinator's loading / loaded / unloaded of a __transaction_state partition and
 * its timeout aborts on the broker's lane (the aborted id's lane too). Coordinator state changes are key events
 * too (shift+→ stops at them) but draw no glyph: the id's lane shows them.
 */
export function txnRow(e: TraceEvent): { category: "txn"; glyph: string; label: string; lanes: string[] } | null {
  const own = (glyph: string, label: string, lanes: string[] = [e.node]) => ({ category: "txn" as const, glyph, label, lanes });
  switch (e.kind) {
    case "op": {
      if (e.f !== "txn" || e.type === "invoke") return null;
      const lane = typeof e.process === "string" ? e.process : e.node;
      const records = Array.isArray(e.sends) ? `, ${e.sends.length} records` : "";
      const who = `txn ${String(e.transactionalId)} (pid ${String(e.producerId)}/${String(e.producerEpoch)}${records})`;
      if (e.type === "ok") return e.result === "abort" ? own("✗", `${who} aborted`, [lane]) : own("✓", `${who} committed`, [lane]);
      if (e.type === "fail") return own("⚠", `${who} ${String(e.result)} failed${typeof e.error === "string" ? `: ${e.error}` : ""}`, [lane]);
      return own("?", `${who} ${String(e.result)}: outcome unknown${typeof e.error === "string" ? ` (${e.error})` : ""}`, [lane]);
    }
    case "txn-state":
      return { category: "txn", glyph: "", label: `txn ${String(e.transactionalId)} ${String(e.previousState)} → ${String(e.state)} (pid ${String(e.producerId)}/${String(e.producerEpoch)}, coordinatorEpoch ${String(e.coordinatorEpoch)})`, lanes: [txnLaneName(String(e.transactionalId))] };
    case "txn-marker-written":
      return own(e.result === "ABORT" ? "✗" : "✓", `${String(e.result)} marker ${String(e.topic)}-${String(e.partition)}@${String(e.offset)} (pid ${String(e.producerId)}/${String(e.producerEpoch)}, coordinatorEpoch ${String(e.coordinatorEpoch)})`);
    case "txn-coordinator-loading":
      return own("◔", `txn coordinator loading __transaction_state-${String(e.partition)} (coordinatorEpoch ${String(e.coordinatorEpoch)})`);
    case "txn-coordinator-loaded":
      return own("●", `txn coordinator loaded __transaction_state-${String(e.partition)} (${String(e.transactionalIds)} ids)`);
    case "txn-coordinator-unloaded":
      return own("○", `txn coordinator unloaded __transaction_state-${String(e.partition)}`);
    case "txn-timeout-abort": {
      const lanes = [e.node];
      if (typeof e.transactionalId === "string") lanes.push(txnLaneName(e.transactionalId));
      return own("⏱", `txn ${String(e.transactionalId)} timed out: aborted by the coordinator`, lanes);
    }
    case "transaction-state-topic-created":
      return own("◇", `__transaction_state created (${String(e.partitions)} partitions)`);
    default:
      return null;
  }
}

/** A transaction span's one-line description (the lane's hover). */
export function describeTxnSpan(span: TxnSpan): string {
  const where = span.coordinatorStatus === "active" ? `coordinator ${span.coordinator ?? "?"}` : `coordinator ${span.coordinator ?? "?"} ${span.coordinatorStatus}`;
  return `txn ${span.transactionalId}: ${span.state}, producerId ${span.producerId} epoch ${span.producerEpoch}, partitions ${span.partitions.join(",") || "none"}, coordinatorEpoch ${span.coordinatorEpoch}, ${where}`;
}

/** A group span's one-line description (the lane's hover and label). */
export function describeGroupSpan(span: GroupSpan): string {
  const where = span.coordinatorStatus === "active" ? `coordinator ${span.coordinator ?? "?"}` : `coordinator ${span.coordinator ?? "?"} ${span.coordinatorStatus}`;
  const rebalance = isRebalancing(span.state) ? " (rebalance in progress)" : "";
  return `group ${span.group}: ${span.state}${rebalance}, generation ${span.generation}, leader ${span.leader !== null ? shortMemberId(span.leader) : "none"}, ${span.members} member${span.members === 1 ? "" : "s"}, protocol ${span.protocol ?? "none"}, ${where}`;
}

function faultLabel(e: TraceEvent): string {
  if (e.kind === "settle") return "settle: every fault healed, every node restarted";
  const nodes = Array.isArray(e.nodes) ? ` ${e.nodes.join(", ")}` : "";
  const groups = Array.isArray(e.groups) ? ` ${(e.groups as unknown[]).map((g) => (Array.isArray(g) ? `[${g.join(", ")}]` : String(g))).join(" | ")}` : "";
  return `${String(e.type)}${nodes}${groups}`;
}

/** Network and disk faults as bands on the lanes they touch; host faults come from the host's own events. */
function faultBand(e: TraceEvent, laneOf: Map<string, number>, open: Band[], bands: Band[], endT: number): void {
  if (e.kind === "settle" || (e.kind === "fault" && e.type === "heal")) {
    for (const band of open.splice(0)) band.toT = e.t;
    return;
  }
  const type = String(e.type);
  if (e.kind === "fault-end") {
    const at = open.findIndex((band) => band.label.split(" ")[0] === type);
    if (at >= 0) open.splice(at, 1)[0].toT = e.t;
    return;
  }
  const kind: BandKind | null = NETWORK_FAULTS.has(type) ? (type === "partition" ? "partition" : "network") : DISK_FAULTS.has(type) ? "disk" : type === "clock-skew" ? "clock" : null;
  if (kind === null) return;
  const names = new Set<string>();
  const collect = (value: unknown) => {
    if (typeof value === "string") names.add(value);
    else if (Array.isArray(value)) value.forEach(collect);
  };
  collect(e.nodes);
  collect(e.groups);
  collect(e.from);
  collect(e.to);
  collect(e.node === "nemesis" ? undefined : e.node);
  const lanes = [...names].map((name) => laneOf.get(name)).filter((lane): lane is number => lane !== undefined);
  const band: Band = { kind, lanes: lanes.length > 0 ? lanes : [...laneOf.values()], fromT: e.t, toT: endT, label: faultLabel(e), seq: e.seq };
  // A partition fault replaces the partition in force (the network keeps one partition at a time).
  if (type === "partition") {
    const at = open.findIndex((b) => b.kind === "partition");
    if (at >= 0) open.splice(at, 1)[0].toT = e.t;
  }
  bands.push(band);
  if (e.kind === "fault" && !(["corrupt"] as string[]).includes(type)) open.push(band);
  else band.toT = e.t;
}

function addMetrics(e: TraceEvent, byKey: Map<string, MetricSeries>, metrics: Map<string, MetricSeries[]>): void {
  const mbeans = e.mbeans;
  if (typeof mbeans !== "object" || mbeans === null) return;
  for (const [mbean, attributes] of Object.entries(mbeans as Record<string, unknown>)) {
    if (typeof attributes !== "object" || attributes === null) continue;
    for (const [attribute, value] of Object.entries(attributes as Record<string, unknown>)) {
      if (typeof value !== "number") continue;
      const key = `${mbean}|${attribute}`;
      const nodeKey = `${e.node}|${key}`;
      let series = byKey.get(nodeKey);
      if (series === undefined) {
        series = { node: e.node, mbean, attribute, t: [], v: [] };
        byKey.set(nodeKey, series);
        let list = metrics.get(key);
        if (list === undefined) metrics.set(key, (list = []));
        list.push(series);
      }
      series.t.push(e.t);
      series.v.push(value);
    }
  }
}

class MessageBuilder {
  private sendT: number[] = [];
  private endT: number[] = [];
  private from: number[] = [];
  private to: number[] = [];
  private type: number[] = [];
  private dropped: number[] = [];
  private sendSeq: number[] = [];
  private endSeq: number[] = [];
  private readonly types: string[] = [];
  private readonly typeIndex = new Map<string, number>();
  private readonly byMid = new Map<number, number>();
  private readonly labels = new Map<number, string>();
  private maxSpanUs = 0;

  /** Labels the message just sent. */
  label(text: string): void {
    this.labels.set(this.sendT.length - 1, text);
  }

  send(e: TraceEvent, from: number, to: number): void {
    const name = String(e.type);
    let type = this.typeIndex.get(name);
    if (type === undefined) {
      type = this.types.length;
      this.types.push(name);
      this.typeIndex.set(name, type);
    }
    this.byMid.set(Number(e.mid), this.sendT.length);
    this.sendT.push(e.t);
    this.endT.push(NaN);
    this.from.push(from);
    this.to.push(to);
    this.type.push(type);
    this.dropped.push(0);
    this.sendSeq.push(e.seq);
    this.endSeq.push(-1);
  }

  end(e: TraceEvent, dropped: boolean): void {
    const mid = Number(e.mid);
    const i = this.byMid.get(mid);
    if (i === undefined) return;
    this.byMid.delete(mid);
    this.endT[i] = e.t;
    this.endSeq[i] = e.seq;
    if (dropped) this.dropped[i] = 1;
    const span = e.t - this.sendT[i];
    if (span > this.maxSpanUs) this.maxSpanUs = span;
  }

  finish(): Messages {
    return {
      count: this.sendT.length,
      sendT: Float64Array.from(this.sendT),
      endT: Float64Array.from(this.endT),
      from: Int16Array.from(this.from),
      to: Int16Array.from(this.to),
      type: Int16Array.from(this.type),
      dropped: Uint8Array.from(this.dropped),
      sendSeq: Int32Array.from(this.sendSeq),
      endSeq: Int32Array.from(this.endSeq),
      types: this.types,
      maxSpanUs: this.maxSpanUs,
      labels: this.labels,
    };
  }
}

/** First index i with values[i] >= x (values ascending). */
export function lowerBound(values: ArrayLike<number>, x: number, lo = 0, hi = values.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Parses a trace's text: header and events, with errors naming the line (as the CLI's parser does). */
export function parseTraceText(text: string): { header: TraceHeader; events: TraceEvent[] } {
  let start = 0;
  let lineNumber = 0;
  let header: TraceHeader | null = null;
  const events: TraceEvent[] = [];
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    lineNumber++;
    if (end > start) {
      const line = text.slice(start, end);
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new Error(`line ${lineNumber}: expected a JSON object, found invalid JSON`);
      }
      if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`line ${lineNumber}: expected a JSON object`);
      if (header === null) {
        const h = value as TraceHeader;
        if (h.format !== "kafkasim-trace") throw new Error(`line ${lineNumber}: expected a trace header with "format": "kafkasim-trace"`);
        if (!Array.isArray(h.nodes)) throw new Error(`line ${lineNumber}: expected the header's "nodes" to be a list of node names`);
        header = h;
      } else {
        const e = value as TraceEvent;
        if (typeof e.t !== "number" || typeof e.seq !== "number" || typeof e.kind !== "string" || typeof e.node !== "string") {
          throw new Error(`line ${lineNumber}: expected an event with numeric "t" and "seq" and string "node" and "kind"`);
        }
        events.push(e);
      }
    }
    start = end + 1;
  }
  if (header === null) throw new Error("line 1: expected a header line, found an empty trace");
  return { header, events };
}
