/**
 * The viewer's reconstruction of the cluster at any playback position, from the trace alone. `Timeline.build`
 * makes one pass over the events into temporal indexes (a Series per attribute, an append-only record store per
 * replica, ZooKeeper's tree per znode path); `stateAt(index)` then answers with binary searches, never by
 * replaying. See docs/viewer-state.md for what is reconstructed from which events and what cannot be known.
 */

import type { TraceEvent, TraceHeader } from "../../../src/sim/trace.ts";
import { lastAtOrBelow, Series } from "./series.ts";
import { ReplicaTrack } from "./replica-track.ts";
import { compare, ZkTrack } from "./zk-track.ts";
import { GroupTimeline } from "./group-timeline.ts";
import { TxnTimeline } from "./transactions.ts";
import type { ClusterView, HostState, HostView, OpView, PartitionView, ReplicaView } from "./types.ts";

/** Completed operations kept in ClusterView.ops.recent. */
export const RECENT_OPS = 20;

interface HostTrack {
  name: string;
  state: Series<HostState>;
  incarnation: Series<number>;
  /** The controller epoch while this broker believes it is the active controller, else null. */
  controller: Series<number | null>;
  /** The broker's log dir failed (until the next start). */
  logDirOffline: Series<boolean>;
  replicas: ReplicaTrack[];
}

interface OpRecord {
  process: string;
  f: string;
  opId?: number;
  value?: unknown;
  invokeSeq: number;
  completeSeq?: number;
  type?: "ok" | "fail" | "info";
  invokePartition?: number;
  partition?: number;
  offset?: number;
  error?: string;
}

const TOPIC_PATH = /^\/brokers\/topics\/([^/]+)$/;
const STATE_PATH = /^\/brokers\/topics\/([^/]+)\/partitions\/(\d+)\/state$/;

export class Timeline {
  private readonly times: Float64Array;
  private readonly hosts = new Map<string, HostTrack>();
  private readonly replicas = new Map<string, ReplicaTrack>();
  private readonly byPartition = new Map<string, ReplicaTrack[]>();
  /**
   * Per ZooKeeper server: its epoch while it serves as LEADING, else null; and the tree it committed. A stale
   * leader (cut off, not yet abandoning) may still serve beside a newer one: the newest epoch is the leader.
   */
  private readonly zkLeading = new Map<string, Series<number | null>>();
  private readonly zkTrees = new Map<string, ZkTrack>();
  /** The server whose tree the view shows: the latest to start leading. */
  private readonly zkLastLeader = new Series<string | null>(null);
  /** Client host by session id, shared by every server's tree. */
  private readonly zkClients = new Map<string, string>();
  private readonly ops: OpRecord[] = [];
  /** Completed operations in completion order. */
  private readonly completed: OpRecord[] = [];
  private readonly completedSeqs: number[] = [];
  private readonly parsed = new Map<string, unknown>();
  private readonly groups = new GroupTimeline();
  private readonly txns = new TxnTimeline();

  private constructor(
    readonly header: TraceHeader,
    readonly events: readonly TraceEvent[],
  ) {
    this.times = new Float64Array(events.length);
    for (const name of header.nodes ?? []) this.host(name);
  }

  static build(header: TraceHeader, events: TraceEvent[]): Timeline {
    const timeline = new Timeline(header, events);
    timeline.index();
    return timeline;
  }

  get length(): number {
    return this.events.length;
  }

  /** The last index with events[index].t <= t (-1 when none). */
  indexAtTime(t: number): number {
    return lastAtOrBelow(this.times, t);
  }

  // ---- building ----

  private index(): void {
    const events = this.events;
    const open = new Map<string, OpRecord>();
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      this.times[i] = e.t;
      switch (e.kind) {
        case "send":
        case "deliver":
        case "drop":
        case "fetch":
          break;
        case "host-start":
          this.hostChange(i, e.node, "up", e.incarnation as number);
          break;
        case "host-crash":
        case "host-power-loss":
        case "host-machine-crash":
        case "host-shutdown":
          this.hostChange(i, e.node, "down", e.incarnation as number);
          break;
        case "host-pause":
          this.host(e.node).state.set(i, "paused");
          break;
        case "host-resume":
          this.host(e.node).state.set(i, "up");
          break;
        case "zk-serving":
          if (e.role === "LEADING") {
            this.leading(e.node).set(i, e.epoch as number);
            this.zkLastLeader.set(i, e.node);
            if (e.tree !== undefined) this.zkTree(e.node).reset(i, e.tree as Parameters<ZkTrack["reset"]>[1]);
          } else {
            this.leading(e.node).set(i, null);
          }
          break;
        case "zk-not-serving":
          this.leading(e.node).set(i, null);
          break;
        case "zk-commit":
          this.zkTree(e.node).commit(i, e);
          break;
        case "zk-session-created":
          this.zkClients.set(e.sessionId as string, e.client as string);
          for (const tree of this.zkTrees.values()) tree.sessionCreated(i, e.sessionId as string, e.client as string);
          break;
        case "zk-session-expiring":
          this.zkTree(e.node).sessionExpiring(i, e.sessionId as string);
          break;
        case "controller-elected":
          this.host(e.node).controller.set(i, e.controllerEpoch as number);
          break;
        case "controller-id": {
          const host = this.host(e.node);
          host.controller.set(i, e.activeController === brokerIdOf(e.node) ? (e.controllerEpoch as number) : null);
          break;
        }
        case "op":
          this.op(i, e, open);
          break;
        case "log-dir-failure":
          this.host(e.node).logDirOffline.set(i, true);
          break;
        default:
          if (typeof e.topicPartition === "string") this.replicaEvent(i, e);
      }
      this.groups.observe(i, e);
      this.txns.observe(i, e);
    }
  }

  private replicaEvent(i: number, e: TraceEvent): void {
    switch (e.kind) {
      case "log-created": {
        const r = this.replica(e.node, e.topicPartition as string);
        const start = e.logStartOffset as number;
        r.removeAll(i);
        r.exists.set(i, true);
        r.logStartOffset.set(i, start);
        r.logEndOffset.set(i, start);
        r.highWatermark.set(i, start);
        break;
      }
      case "log-append": {
        const r = this.replica(e.node, e.topicPartition as string);
        const offsets = e.offsets as number[];
        const values = e.values as (string | null)[];
        const epoch = e.partitionLeaderEpoch as number;
        const batchLast = e.lastOffset as number;
        // A transactional batch (docs/trace.md): its producer, and a marker's type.
        const txn = e.isTransactional === true ? { producerId: e.producerId as number, control: e.isControl === true ? (e.controlType === "ABORT" ? "ABORT" : "COMMIT") as "COMMIT" | "ABORT" : null } : null;
        for (let k = 0; k < offsets.length; k++) r.append(i, offsets[k], values[k] ?? null, epoch, batchLast, txn);
        r.exists.set(i, true);
        r.logEndOffset.set(i, (e.lastOffset as number) + 1);
        break;
      }
      case "log-truncate": {
        const r = this.replica(e.node, e.topicPartition as string);
        const offset = e.offset as number;
        if (e.fully === true) {
          r.removeAll(i);
          r.logStartOffset.set(i, offset);
          r.highWatermark.set(i, offset);
        } else {
          r.truncateTo(i, offset);
          if (r.logStartOffset.last > offset) r.logStartOffset.set(i, offset);
          if (typeof e.highWatermark === "number") r.highWatermark.set(i, e.highWatermark);
        }
        r.logEndOffset.set(i, offset);
        break;
      }
      case "log-recovery": {
        const r = this.replica(e.node, e.topicPartition as string);
        const start = e.logStartOffset as number;
        r.truncateTo(i, e.logEndOffset as number);
        r.removeBelow(i, start);
        r.exists.set(i, true);
        r.logStartOffset.set(i, start);
        r.logEndOffset.set(i, e.logEndOffset as number);
        r.highWatermark.set(i, start);
        break;
      }
      case "log-loaded": {
        const r = this.replica(e.node, e.topicPartition as string);
        const start = e.logStartOffset as number;
        const batches = e.batches as [number, number[], (string | null)[], number][] | undefined;
        if (batches !== undefined) {
          const records: { offset: number; epoch: number; value: string | null; batchLast: number }[] = [];
          for (const [epoch, offsets, values, batchLast] of batches) {
            for (let k = 0; k < offsets.length; k++) if (offsets[k] >= start) records.push({ offset: offsets[k], epoch, value: values[k] ?? null, batchLast });
          }
          r.replaceContent(i, records);
        }
        r.exists.set(i, true);
        r.logStartOffset.set(i, start);
        r.logEndOffset.set(i, e.logEndOffset as number);
        r.highWatermark.set(i, e.highWatermark as number);
        break;
      }
      case "log-retention-delete":
      case "log-start-offset": {
        const r = this.replica(e.node, e.topicPartition as string);
        const start = e.logStartOffset as number;
        r.removeBelow(i, start);
        r.logStartOffset.set(i, start);
        break;
      }
      case "log-compaction":
        if (Array.isArray(e.removedOffsets)) this.replica(e.node, e.topicPartition as string).removeOffsets(i, e.removedOffsets as number[]);
        break;
      case "log-delete": {
        const r = this.replica(e.node, e.topicPartition as string);
        r.removeAll(i);
        r.exists.set(i, false);
        this.resetRole(i, r);
        break;
      }
      case "become-leader": {
        const r = this.replica(e.node, e.topicPartition as string);
        r.role.set(i, "leader");
        r.leaderEpoch.set(i, e.leaderEpoch as number);
        r.isr.set(i, e.isr as number[]);
        r.highWatermark.set(i, e.highWatermark as number);
        break;
      }
      case "become-follower": {
        const r = this.replica(e.node, e.topicPartition as string);
        r.role.set(i, "follower");
        r.leaderEpoch.set(i, e.leaderEpoch as number);
        r.isr.set(i, null);
        r.lastStableOffset.set(i, null);
        r.highWatermark.set(i, e.highWatermark as number);
        break;
      }
      case "isr-shrink":
      case "isr-expand":
        if (e.by !== "controller") this.replica(e.node, e.topicPartition as string).isr.set(i, e.isr as number[]);
        break;
      case "hwm":
        this.replica(e.node, e.topicPartition as string).highWatermark.set(i, e.highWatermark as number);
        break;
      case "txn-lso":
        this.replica(e.node, e.topicPartition as string).lastStableOffset.set(i, e.lastStableOffset as number);
        break;
      case "stop-replica":
        if (e.deletePartition === true) this.resetRole(i, this.replica(e.node, e.topicPartition as string));
        break;
    }
  }

  private resetRole(i: number, r: ReplicaTrack): void {
    r.role.set(i, "none");
    r.leaderEpoch.set(i, -1);
    r.isr.set(i, null);
    r.lastStableOffset.set(i, null);
  }

  private hostChange(i: number, name: string, state: HostState, incarnation: number): void {
    const host = this.host(name);
    host.state.set(i, state);
    if (typeof incarnation === "number") host.incarnation.set(i, incarnation);
    // A new process (or none): volatile roles are gone; the logs on disk stay.
    host.controller.set(i, null);
    if (state === "up") host.logDirOffline.set(i, false);
    for (const r of host.replicas) this.resetRole(i, r);
    this.zkLeading.get(name)?.set(i, null);
  }

  private op(i: number, e: TraceEvent, open: Map<string, OpRecord>): void {
    const process = (e.process as string | undefined) ?? e.node;
    // A transactional producer numbers its send and txn ops separately: the key names the function too.
    const key = `${process}|${String(e.f)}|${e.opId ?? ""}`;
    const type = e.type as OpView["type"];
    if (type === "invoke") {
      const record: OpRecord = { process, f: e.f as string, invokeSeq: i };
      if (typeof e.opId === "number") record.opId = e.opId;
      if (e.value !== undefined) record.value = e.value;
      else if (e.f === "commit") record.value = commitValue(e);
      else if (e.f === "txn") record.value = txnValue(e);
      if (typeof e.partition === "number" && e.partition >= 0) record.invokePartition = e.partition;
      this.ops.push(record);
      open.set(key, record);
      return;
    }
    let record = open.get(key);
    if (record === undefined) {
      record = { process, f: e.f as string, invokeSeq: i };
      if (typeof e.opId === "number") record.opId = e.opId;
      if (e.value !== undefined) record.value = e.value;
      else if (e.f === "commit") record.value = commitValue(e);
      this.ops.push(record);
    }
    open.delete(key);
    if (e.f === "txn") record.value = txnValue(e);
    record.completeSeq = i;
    record.type = type;
    if (typeof e.partition === "number" && e.partition >= 0) record.partition = e.partition;
    if (typeof e.offset === "number") record.offset = e.offset;
    if (typeof e.error === "string") record.error = e.error;
    this.completed.push(record);
    this.completedSeqs.push(i);
  }

  private leading(server: string): Series<number | null> {
    let series = this.zkLeading.get(server);
    if (series === undefined) {
      series = new Series<number | null>(null);
      this.zkLeading.set(server, series);
    }
    return series;
  }

  private zkTree(server: string): ZkTrack {
    let tree = this.zkTrees.get(server);
    if (tree === undefined) {
      tree = new ZkTrack(this.zkClients);
      this.zkTrees.set(server, tree);
    }
    return tree;
  }

  /** The serving LEADING server with the newest epoch after events[0..index] (ties: the first by name). */
  private zkLeaderAt(i: number): string | null {
    let leader: string | null = null;
    let best = -1;
    for (const [server, series] of this.zkLeading) {
      const epoch = series.at(i);
      if (epoch !== null && (epoch > best || (epoch === best && leader !== null && compare(server, leader) < 0))) {
        best = epoch;
        leader = server;
      }
    }
    return leader;
  }

  private host(name: string): HostTrack {
    let host = this.hosts.get(name);
    if (host === undefined) {
      host = {
        name,
        state: new Series<HostState>("down"),
        incarnation: new Series<number>(0),
        controller: new Series<number | null>(null),
        logDirOffline: new Series<boolean>(false),
        replicas: [],
      };
      this.hosts.set(name, host);
    }
    return host;
  }

  private replica(node: string, topicPartition: string): ReplicaTrack {
    const key = `${node}|${topicPartition}`;
    let r = this.replicas.get(key);
    if (r === undefined) {
      r = new ReplicaTrack(node, brokerIdOf(node), topicPartition);
      this.replicas.set(key, r);
      this.host(node).replicas.push(r);
      let list = this.byPartition.get(topicPartition);
      if (list === undefined) {
        list = [];
        this.byPartition.set(topicPartition, list);
      }
      list.push(r);
      list.sort((a, b) => a.brokerId - b.brokerId || compare(a.host, b.host));
    }
    return r;
  }

  // ---- reading ----

  /** The cluster after applying events[0..index] (index -1: before any event). */
  stateAt(index: number): ClusterView {
    const i = Math.max(-1, Math.min(index, this.events.length - 1));
    const t = i < 0 ? 0 : this.times[i];
    const hosts: HostView[] = [];
    const upByName = new Map<string, boolean>();
    const offlineByName = new Map<string, boolean>();
    const activeControllers: { host: string; controllerEpoch: number }[] = [];
    for (const host of this.hosts.values()) {
      const state = host.state.at(i);
      hosts.push({ name: host.name, state, incarnation: host.incarnation.at(i) });
      upByName.set(host.name, state !== "down");
      offlineByName.set(host.name, host.logDirOffline.at(i));
      const epoch = host.controller.at(i);
      if (epoch !== null) activeControllers.push({ host: host.name, controllerEpoch: epoch });
    }
    let controller: string | null = null;
    let best = -1;
    for (const active of activeControllers) {
      if (active.controllerEpoch > best) {
        best = active.controllerEpoch;
        controller = active.host;
      }
    }
    const zkLeader = this.zkLeaderAt(i);
    const treeServer = zkLeader ?? this.zkLastLeader.at(i);
    const tree = treeServer === null ? null : (this.zkTrees.get(treeServer) ?? null);
    const znodes = tree === null ? [] : tree.znodesAt(i);
    const controllerEpochData = tree === null ? null : tree.dataAt("/controller_epoch", i);
    const sinceCache = new Map<number, number>();
    const sinceIndexOf = (recentUs: number): number => {
      let since = sinceCache.get(recentUs);
      if (since === undefined) {
        since = lastAtOrBelow(this.times, t - recentUs - 1, i + 1);
        sinceCache.set(recentUs, since);
      }
      return since;
    };
    return {
      index: i,
      t,
      hosts,
      zkLeader,
      controller,
      controllerEpoch: controllerEpochData === null ? 0 : Number(controllerEpochData) || 0,
      activeControllers,
      partitions: this.partitionsAt(i, znodes, upByName, offlineByName, sinceIndexOf),
      zk: { znodes, sessions: tree === null ? [] : tree.sessionsAt(i) },
      ops: this.opsAt(i),
      groups: this.groups.groupsAt(i),
      transactions: this.txns.txnsAt(i),
    };
  }

  private partitionsAt(
    i: number,
    znodes: { path: string; data: string; version: number }[],
    upByName: Map<string, boolean>,
    offlineByName: Map<string, boolean>,
    sinceIndexOf: (recentUs: number) => number,
  ): PartitionView[] {
    const byKey = new Map<string, PartitionView>();
    const partition = (topic: string, id: number): PartitionView => {
      const key = `${topic}-${id}`;
      let view = byKey.get(key);
      if (view === undefined) {
        view = { topicPartition: key, topic, partition: id, replicas: [], leader: -1, leaderEpoch: -1, isr: [], replicaViews: [] };
        byKey.set(key, view);
      }
      return view;
    };
    for (const node of znodes) {
      let match = TOPIC_PATH.exec(node.path);
      if (match !== null) {
        const data = this.json(node.data) as { partitions?: Record<string, number[]> } | null;
        for (const [id, replicas] of Object.entries(data?.partitions ?? {})) partition(match[1], Number(id)).replicas = [...replicas];
        continue;
      }
      match = STATE_PATH.exec(node.path);
      if (match !== null) {
        const data = this.json(node.data) as { leader?: number; leader_epoch?: number; isr?: number[]; controller_epoch?: number } | null;
        const view = partition(match[1], Number(match[2]));
        view.leader = data?.leader ?? -1;
        view.leaderEpoch = data?.leader_epoch ?? -1;
        view.isr = [...(data?.isr ?? [])];
        view.zkVersion = node.version;
        if (data?.controller_epoch !== undefined) view.controllerEpoch = data.controller_epoch;
      }
    }
    for (const [topicPartition, tracks] of this.byPartition) {
      let replicaViews: ReplicaView[] | null = null;
      for (const r of tracks) {
        if (!r.exists.at(i)) continue;
        if (replicaViews === null) {
          const dash = topicPartition.lastIndexOf("-");
          replicaViews = partition(topicPartition.slice(0, dash), Number(topicPartition.slice(dash + 1))).replicaViews;
        }
        replicaViews.push(r.view(i, upByName.get(r.host) ?? false, offlineByName.get(r.host) ?? false, sinceIndexOf));
      }
    }
    return [...byKey.values()].sort((a, b) => compare(a.topic, b.topic) || a.partition - b.partition);
  }

  private json(data: string): unknown {
    if (this.parsed.has(data)) return this.parsed.get(data);
    let value: unknown = null;
    try {
      value = JSON.parse(data);
    } catch {
      value = null;
    }
    if (this.parsed.size > 10_000) this.parsed.clear();
    this.parsed.set(data, value);
    return value;
  }

  private opsAt(i: number): { open: OpView[]; recent: OpView[] } {
    const open: OpView[] = [];
    const ops = this.ops;
    const invoked = lastAtOrBelowBy(ops, i);
    for (let k = 0; k <= invoked; k++) {
      const op = ops[k];
      if (op.completeSeq === undefined || op.completeSeq > i) open.push(opView(op, false));
    }
    const done = lastAtOrBelow(this.completedSeqs, i);
    const recent: OpView[] = [];
    for (let k = Math.max(0, done - RECENT_OPS + 1); k <= done; k++) recent.push(opView(this.completed[k], true));
    return { open, recent };
  }
}

/** broker-N's broker id N (-1 for other hosts). */
function brokerIdOf(host: string): number {
  const match = /^broker-(\d+)$/.exec(host);
  return match === null ? -1 : Number(match[1]);
}

/**
 * A consumer group's commit (an `op` with f "commit": docs/groups.md) as the inspector's value column shows it:
 * its mode and offsets (`auto t-0@12 t-1@7`).
 */
function commitValue(e: TraceEvent): string {
  const offsets = Array.isArray(e.offsets) ? (e.offsets as { topic?: unknown; partition?: unknown; offset?: unknown }[]).map((o) => `${String(o.topic)}-${String(o.partition)}@${String(o.offset)}`) : [];
  return [typeof e.mode === "string" ? e.mode : "", ...offsets].filter((part) => part !== "").join(" ");
}

/**
 * A transaction (an `op` with f "txn": docs/scenarios.md) as the inspector's value column shows it: its outcome
 * (planned at invoke, final at completion), the producer id and epoch, and how many records it sent.
 */
function txnValue(e: TraceEvent): string {
  const sends = Array.isArray(e.sends) ? ` · ${e.sends.length} records` : "";
  return `${String(e.result)} pid ${String(e.producerId)}/${String(e.producerEpoch)}${sends}`;
}

/** The last op index whose invokeSeq <= i (ops are in invoke order). */
function lastAtOrBelowBy(ops: readonly OpRecord[], i: number): number {
  let lo = 0;
  let hi = ops.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ops[mid].invokeSeq <= i) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

function opView(op: OpRecord, completed: boolean): OpView {
  const view: OpView = { process: op.process, f: op.f, type: completed ? op.type! : "invoke", invokeSeq: op.invokeSeq };
  if (op.opId !== undefined) view.opId = op.opId;
  if (op.value !== undefined) view.value = op.value;
  if (completed) {
    view.completeSeq = op.completeSeq;
    if (op.offset !== undefined) view.offset = op.offset;
    if (op.error !== undefined) view.error = op.error;
  }
  const partition = completed ? (op.partition ?? op.invokePartition) : op.invokePartition;
  if (partition !== undefined) view.partition = partition;
  return view;
}
