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

/** "group": a consumer group's lane (its state over time from `group-state`), not a node. */
export type LaneGroup = "zookeeper" | "broker" | "admin" | "client" | "group" | "other";

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
  category: Category | "group";
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
  /** Indexes of key events (marks, violations), in order: shift+step jumps between them. */
  keyIndexes: Int32Array;
  endT: number;
}

const HOST_DOWN: Record<string, BandKind> = { "host-crash": "down", "host-power-loss": "power-loss", "host-shutdown": "shutdown", "broker-halted": "down", "zk-fatal": "down" };
const NETWORK_FAULTS = new Set(["partition", "loss", "delay", "bandwidth", "slow"]);
const DISK_FAULTS = new Set(["disk-error", "disk-full", "disk-slow", "corrupt"]);

export function laneGroup(name: string): LaneGroup {
  if (name.startsWith("zk-")) return "zookeeper";
  if (name.startsWith("broker-")) return "broker";
  if (name === "admin") return "admin";
  if (name === "nemesis" || name === "sim" || name === "checker") return "other";
  return "client";
}

const GROUP_ORDER: LaneGroup[] = ["zookeeper", "broker", "admin", "client", "group", "other"];

/** A consumer group's lane name (a space: no node is named so). */
export function groupLaneName(group: string): string {
  return `group ${group}`;
}

export function indexTrace(header: TraceHeader, events: TraceEvent[]): TraceIndex {
  const names = [...header.nodes];
  // Consumer groups get lanes after the clients: the groups any coordinator announced, by id.
  const groupIds = new Set<string>();
  for (const e of events) if (e.kind === "group-state") groupIds.add(String(e.group));
  const groupNames = [...groupIds].sort().map(groupLaneName);
  const sorted = GROUP_ORDER.flatMap((group) => (group === "group" ? groupNames : names.filter((name) => laneGroup(name) === group)));
  const lanes: Lane[] = sorted.map((name, index) => ({ name, group: groupNames.includes(name) && !names.includes(name) ? "group" : laneGroup(name), index }));
  const laneOf = new Map(lanes.filter((lane) => lane.group !== "group").map((lane) => [lane.name, lane.index]));
  const groupLanes = new Map([...groupIds].map((id) => [id, lanes.findIndex((lane) => lane.group === "group" && lane.name === groupLaneName(id))]));
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
      case "send":
        builder.send(e, lane, laneOf.get(String(e.to)) ?? -1);
        continue;
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
    // Group events first: their lanes here include the group's own (classify knows only nodes).
    const row = groupRow(e, groupLanes) ?? classify(e);
    if (row !== null && row.category !== "violation") {
      const rowLanes = row.lanes.length > 0 ? row.lanes : [e.node];
      for (const name of rowLanes) {
        const l = laneOf.get(name) ?? (name.startsWith("group ") ? groupLanes.get(name.slice(6)) : undefined);
        if (l !== undefined && l >= 0) marks.push({ t: e.t, seq: e.seq, lane: l, category: row.category, glyph: row.glyph, label: row.label });
      }
      keyIndexes.push(i);
    }
  }
  for (const series of rebalanceSeries.values()) {
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
  private maxSpanUs = 0;

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
