/**
 * The operator's dashboard, under the timeline on the same time axis: small charts of the JMX metrics the
 * simulator samples into the trace (`metrics` events), one line per broker or client. Gauges are drawn as
 * sampled; meters as a per-second rate from the change of their Count over each sampling interval (a
 * restart — a new JVM — starts the Count again at 0).
 */

import { schemeTableau10, type ScaleLinear } from "d3";
import { lowerBound, type MetricSeries, type TraceIndex } from "./trace-index.ts";
import { formatTime } from "./timeline-view.ts";

export interface ChartSpec {
  title: string;
  /**
   * The ObjectName. It also matches names with more tags after it (`RequestsPerSec,request=Produce` matches
   * Kafka ≥ 2.0's `…,request=Produce,version=9`); with `prefix`, any name starting with it (client metrics
   * carry the client id).
   */
  mbean: string;
  attribute: string;
  mode: "gauge" | "rate";
  prefix?: boolean;
  /** What a student should read in it. */
  hint: string;
  /** A chart derived from the trace's events rather than sampled: lines never break, the value holds between points. */
  derived?: "group-rebalances" | "txn-ongoing";
}

const RM = "kafka.server:type=ReplicaManager,name=";
const KC = "kafka.controller:type=KafkaController,name=";
const CS = "kafka.controller:type=ControllerStats,name=";
const RQ = "kafka.network:type=RequestMetrics,name=";
const GMM = "kafka.coordinator.group:type=GroupMetadataManager,name=";
const CCM = "kafka.consumer:type=consumer-coordinator-metrics,";

export const CHARTS: ChartSpec[] = [
  { title: "UnderReplicatedPartitions", mbean: `${RM}UnderReplicatedPartitions`, attribute: "Value", mode: "gauge", hint: "partitions led here whose ISR is smaller than their replica list" },
  { title: "OfflinePartitionsCount", mbean: `${KC}OfflinePartitionsCount`, attribute: "Value", mode: "gauge", hint: "partitions without a live leader (reported by the controller)" },
  { title: "ActiveControllerCount", mbean: `${KC}ActiveControllerCount`, attribute: "Value", mode: "gauge", hint: "1 on the controller; the sum over brokers should be exactly 1" },
  { title: "IsrShrinksPerSec", mbean: `${RM}IsrShrinksPerSec`, attribute: "Count", mode: "rate", hint: "followers dropped from an ISR" },
  { title: "IsrExpandsPerSec", mbean: `${RM}IsrExpandsPerSec`, attribute: "Count", mode: "rate", hint: "followers caught up and added back" },
  { title: "UncleanLeaderElectionsPerSec", mbean: `${CS}UncleanLeaderElectionsPerSec`, attribute: "Count", mode: "rate", hint: "leaders elected from outside the ISR: committed data may be lost" },
  { title: "LeaderElectionRateAndTimeMs", mbean: `${CS}LeaderElectionRateAndTimeMs`, attribute: "Count", mode: "rate", hint: "leader elections by the controller" },
  { title: "Produce RequestsPerSec", mbean: `${RQ}RequestsPerSec,request=Produce`, attribute: "Count", mode: "rate", hint: "produce requests handled" },
  { title: "FetchFollower RequestsPerSec", mbean: `${RQ}RequestsPerSec,request=FetchFollower`, attribute: "Count", mode: "rate", hint: "replication fetches from followers" },
  { title: "ErrorsPerSec NOT_ENOUGH_REPLICAS", mbean: `${RQ}ErrorsPerSec,request=Produce,error=NOT_ENOUGH_REPLICAS`, attribute: "Count", mode: "rate", hint: "acks=all writes refused: ISR below min.insync.replicas" },
  { title: "ErrorsPerSec NOT_ENOUGH_REPLICAS_AFTER_APPEND", mbean: `${RQ}ErrorsPerSec,request=Produce,error=NOT_ENOUGH_REPLICAS_AFTER_APPEND`, attribute: "Count", mode: "rate", hint: "appended, but the ISR shrank below min.insync.replicas before acknowledging" },
  { title: "producer record-error-total", mbean: "kafka.producer:type=producer-metrics,client-id=", attribute: "record-error-total", mode: "gauge", prefix: true, hint: "sends the producer gave up on" },
  { title: "consumer records-lag-max", mbean: "kafka.consumer:type=consumer-fetch-manager-metrics,client-id=", attribute: "records-lag-max", mode: "gauge", prefix: true, hint: "how far the consumer is behind the high watermark" },
  { title: "JoinGroup RequestsPerSec", mbean: `${RQ}RequestsPerSec,request=JoinGroup`, attribute: "Count", mode: "rate", hint: "JoinGroup requests handled: members (re)joining a group" },
  {
    title: "NumGroupsPreparingRebalance",
    mbean: `${GMM}NumGroupsPreparingRebalance`,
    attribute: "Value",
    mode: "gauge",
    hint: "groups this coordinator is rebalancing (waiting for members to rejoin)",
  },
  { title: "NumGroupsStable", mbean: `${GMM}NumGroupsStable`, attribute: "Value", mode: "gauge", hint: "groups this coordinator has Stable (every member has its assignment)" },
  { title: "offset-commit-count", mbean: "kafka.server:type=group-coordinator-metrics", attribute: "offset-commit-count", mode: "rate", hint: "offsets this coordinator wrote to __consumer_offsets, per second" },
  { title: "consumer rebalance-total", mbean: `${CCM}client-id=`, attribute: "rebalance-total", mode: "gauge", prefix: true, hint: "successful rebalances this consumer took part in (its SyncGroup completed)" },
  { title: "consumer failed-rebalance-total", mbean: `${CCM}client-id=`, attribute: "failed-rebalance-total", mode: "gauge", prefix: true, hint: "JoinGroup/SyncGroup rounds that failed and were retried" },
  { title: "consumer last-heartbeat-seconds-ago", mbean: `${CCM}client-id=`, attribute: "last-heartbeat-seconds-ago", mode: "gauge", prefix: true, hint: "seconds since the consumer's heartbeat thread last sent a heartbeat" },
  {
    title: "group rebalances (from group-state)",
    mbean: "derived:group-state",
    attribute: "rebalances",
    mode: "gauge",
    derived: "group-rebalances",
    hint: "per consumer group, its transitions into PreparingRebalance so far, counted from the coordinators' group-state events",
  },
  {
    title: "ongoing transactions (from txn-state)",
    mbean: "derived:txn-state",
    attribute: "ongoing",
    mode: "gauge",
    derived: "txn-ongoing",
    hint: "per transaction coordinator, the transactional ids it holds in Ongoing, PrepareCommit, PrepareAbort or PrepareEpochFence, from its txn-state events",
  },
  { title: "producer txn-commit-time-ns-total", mbean: "kafka.producer:type=producer-metrics,client-id=", attribute: "txn-commit-time-ns-total", mode: "gauge", prefix: true, hint: "total ns the application spent in commitTransaction() (calls that returned)" },
  { title: "producer txn-abort-time-ns-total", mbean: "kafka.producer:type=producer-metrics,client-id=", attribute: "txn-abort-time-ns-total", mode: "gauge", prefix: true, hint: "total ns the application spent in abortTransaction() (calls that returned)" },
  { title: "producer txn-init-time-ns-total", mbean: "kafka.producer:type=producer-metrics,client-id=", attribute: "txn-init-time-ns-total", mode: "gauge", prefix: true, hint: "total ns the application spent in initTransactions(): finding the coordinator and InitProducerId" },
];

const CHART_HEIGHT = 46;
const LABEL_WIDTH = 150;

interface Line {
  node: string;
  t: number[];
  v: number[];
}

/** A chart's lines: gauges as sampled, meters as rates from Count deltas. */
export function chartLines(index: TraceIndex, spec: ChartSpec): Line[] {
  if (spec.derived === "group-rebalances") return index.groupRebalances.map((s) => ({ node: s.node, t: s.t, v: s.v }));
  if (spec.derived === "txn-ongoing") return index.txnOngoing.map((s) => ({ node: s.node, t: s.t, v: s.v }));
  const series: MetricSeries[] = [];
  for (const [key, list] of index.metrics) {
    const [mbean, attribute] = key.split("|");
    if (attribute !== spec.attribute) continue;
    const matches = spec.prefix === true ? mbean.startsWith(spec.mbean) && !mbean.includes(",topic=") : mbean === spec.mbean || mbean.startsWith(`${spec.mbean},`);
    if (matches) series.push(...list);
  }
  return series.map((s) => {
    if (spec.mode === "gauge") return { node: s.node, t: s.t, v: s.v };
    const t: number[] = [];
    const v: number[] = [];
    for (let i = 1; i < s.t.length; i++) {
      const dt = (s.t[i] - s.t[i - 1]) / 1e6;
      if (dt <= 0) continue;
      const delta = s.v[i] >= s.v[i - 1] ? s.v[i] - s.v[i - 1] : s.v[i];
      t.push(s.t[i]);
      v.push(delta / dt);
    }
    return { node: s.node, t, v };
  });
}

export class MetricsView {
  private readonly charts: { spec: ChartSpec; lines: Line[]; canvas: HTMLCanvasElement; value: HTMLElement; max: number }[] = [];
  private x: ScaleLinear<number, number> | null = null;
  private cursorT = 0;
  private readonly colours = new Map<string, string>();

  constructor(
    private readonly container: HTMLElement,
    private readonly index: TraceIndex,
  ) {
    container.innerHTML = "";
    index.lanes.forEach((lane, i) => this.colours.set(lane.group === "group" ? lane.name.slice(6) : lane.name, schemeTableau10[i % 10]));
    if (index.metrics.size === 0 && index.groupRebalances.length === 0 && index.txnOngoing.length === 0) {
      container.innerHTML = '<p class="muted">This trace has no metrics (it was recorded with --metrics-interval 0 or by an older kafkasim).</p>';
      return;
    }
    for (const spec of CHARTS) {
      const lines = chartLines(index, spec).filter((line) => line.t.length > 0);
      if (lines.length === 0) continue;
      const row = document.createElement("div");
      row.className = "chart";
      row.dataset.mbean = spec.mbean;
      const title = document.createElement("div");
      title.className = "chart-title";
      title.title = `${spec.mbean}${spec.prefix === true ? "*" : ""} ${spec.attribute} — ${spec.hint}`;
      title.textContent = spec.title;
      const value = document.createElement("span");
      value.className = "chart-value";
      title.appendChild(value);
      const canvas = document.createElement("canvas");
      row.append(title, canvas);
      container.appendChild(row);
      let max = 0;
      for (const line of lines) for (const v of line.v) if (v > max) max = v;
      this.charts.push({ spec, lines, canvas, value, max: Math.max(max, 1) });
    }
  }

  setWindow(x: ScaleLinear<number, number>): void {
    this.x = x;
    this.draw();
  }

  setCursor(t: number): void {
    this.cursorT = t;
    this.draw();
  }

  draw(): void {
    const x = this.x;
    if (x === null) return;
    const width = x.range()[1] - x.range()[0];
    const dpr = window.devicePixelRatio || 1;
    const [t0, t1] = x.domain();
    for (const chart of this.charts) {
      const { canvas } = chart;
      const w = width + LABEL_WIDTH;
      if (canvas.width !== Math.round(w * dpr)) {
        canvas.width = Math.round(w * dpr);
        canvas.height = Math.round(CHART_HEIGHT * dpr);
        canvas.style.width = `${w}px`;
        canvas.style.height = `${CHART_HEIGHT}px`;
      }
      const ctx = canvas.getContext("2d")!;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, CHART_HEIGHT);
      ctx.fillStyle = "#fbfbfd";
      ctx.fillRect(LABEL_WIDTH, 0, width, CHART_HEIGHT);
      const y = (v: number) => CHART_HEIGHT - 3 - (v / chart.max) * (CHART_HEIGHT - 8);
      ctx.save();
      ctx.beginPath();
      ctx.rect(LABEL_WIDTH, 0, width, CHART_HEIGHT);
      ctx.clip();
      const readings: string[] = [];
      for (const line of chart.lines) {
        ctx.strokeStyle = this.colours.get(line.node) ?? "#555";
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        let started = false;
        let prevT = -Infinity;
        for (let i = 0; i < line.t.length; i++) {
          const t = line.t[i];
          if (chart.spec.derived === undefined && (t < t0 - 5e6 || (i > 0 && line.t[i - 1] > t1))) continue;
          const px = LABEL_WIDTH + x(t);
          // A gap of more than three intervals (host down or paused): break the line.
          if (!started || (chart.spec.derived === undefined && t - prevT > 3_500_000)) ctx.moveTo(px, y(line.v[i]));
          else ctx.lineTo(px, y(line.v[i]));
          started = true;
          prevT = t;
        }
        ctx.stroke();
        const at = lowerBound(line.t, Math.floor(this.cursorT) + 1) - 1;
        if (at >= 0 && (chart.spec.derived !== undefined || this.cursorT - line.t[at] < 3_500_000)) readings.push(`${line.node}=${round(line.v[at])}`);
      }
      const cx = LABEL_WIDTH + x(this.cursorT);
      ctx.strokeStyle = "#0057d9";
      ctx.beginPath();
      ctx.moveTo(cx, 0);
      ctx.lineTo(cx, CHART_HEIGHT);
      ctx.stroke();
      ctx.restore();
      ctx.fillStyle = "#888";
      ctx.font = "10px sans-serif";
      ctx.fillText(`max ${round(chart.max)}${chart.spec.mode === "rate" ? "/s" : ""}`, LABEL_WIDTH - 60, 12);
      chart.value.textContent = ` @ ${formatTime(Math.round(this.cursorT))}: ${readings.join(" ") || "—"}`;
    }
  }
}

function round(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}
