/**
 * The space-time (Lamport) diagram: one lane per node, grouped (ZooKeeper, brokers, admin, clients) with
 * role spans (ZooKeeper leader, controller) tinted behind the lane; messages as arrows from send to delivery
 * labelled with their request type when few enough are visible; drops as a red arrow ending in a cross;
 * faults as shaded bands; key events as glyphs; violations as red markers. Drawn on a canvas (SVG would
 * choke on a million events): only what lies in the visible window is drawn, and past a few thousand arrows
 * a stride thins them. d3-zoom pans and zooms the time axis, a d3-brush on the overview strip picks a window,
 * a d3-axis shows simulated time.
 */

import { axisBottom, brushX, scaleLinear, select, zoom, zoomIdentity, type BrushBehavior, type D3ZoomEvent, type ScaleLinear, type Selection, type ZoomBehavior } from "d3";
import { shortMemberId } from "../../../src/cli/timeline-groups.ts";
import { isRebalancing } from "../state/groups.ts";
import { describeGroupSpan, describeTxnSpan, isTxnMessage, lowerBound, type BandKind, type GroupSpan, type TraceIndex, type TxnSpan } from "./trace-index.ts";

export const LANE_HEIGHT = 30;
const LABEL_WIDTH = 150;
const AXIS_HEIGHT = 22;
const OVERVIEW_HEIGHT = 26;
const MAX_ARROWS = 4000;
const LABEL_ARROWS = 160;
/** Messages per pixel of the window above which messages are drawn as per-lane density ticks. */
const DENSITY_PER_PX = 2;
const DENSITY_BUCKET_PX = 3;
const LABEL_GAP_PX = 8;

export const BAND_COLOURS: Record<BandKind, string> = {
  down: "rgba(120,120,120,0.35)",
  "power-loss": "rgba(150,30,30,0.30)",
  shutdown: "rgba(120,120,160,0.30)",
  paused: "rgba(230,190,40,0.35)",
  partition: "rgba(240,120,20,0.18)",
  network: "rgba(240,160,60,0.15)",
  disk: "rgba(160,60,160,0.20)",
  clock: "rgba(60,160,200,0.15)",
};

/**
 * A consumer group's state on its lane: a rebalance (PreparingRebalance, then CompletingRebalance) in warm
 * orange and amber, Stable green, Empty pale, Dead dark; a group whose coordinator is gone (unloaded, or its
 * host down) is hatched grey over the last known state.
 */
export const GROUP_STATE_COLOURS: Record<string, string> = {
  Empty: "rgba(190,196,206,0.45)",
  PreparingRebalance: "rgba(240,130,30,0.60)",
  CompletingRebalance: "rgba(245,190,40,0.65)",
  Stable: "rgba(70,165,95,0.50)",
  Dead: "rgba(60,60,60,0.70)",
};

/**
 * A transactional.id's coordinator state on its lane: Ongoing blue, PrepareCommit / CompleteCommit green (the
 * prepare lighter), PrepareAbort / CompleteAbort red, PrepareEpochFence and Dead dark, Empty pale.
 */
export const TXN_STATE_COLOURS: Record<string, string> = {
  Empty: "rgba(190,196,206,0.45)",
  Ongoing: "rgba(66,133,244,0.45)",
  PrepareCommit: "rgba(120,200,120,0.55)",
  CompleteCommit: "rgba(46,158,80,0.65)",
  PrepareAbort: "rgba(240,140,140,0.60)",
  CompleteAbort: "rgba(198,40,40,0.60)",
  PrepareEpochFence: "rgba(60,60,60,0.70)",
  Dead: "rgba(60,60,60,0.70)",
};

const SHORT_TXN_STATES: Record<string, string> = { Ongoing: "Ong.", PrepareCommit: "P.Com", CompleteCommit: "Com", PrepareAbort: "P.Ab", CompleteAbort: "Ab", PrepareEpochFence: "Fence", Empty: "Empty", Dead: "Dead" };

/** The transaction requests (src/protocol/transaction.ts) and their responses: a purple / crimson family. */
export function txnMessageColour(type: string): string | null {
  if (!isTxnMessage(type)) return null;
  const request = type.endsWith("Response") ? type.slice(0, -"Response".length) : type;
  switch (request) {
    case "EndTxn":
      return "#6a1b9a";
    case "WriteTxnMarkers":
      return "#d81b60";
    case "TxnOffsetCommit":
      return "#8e24aa";
    default:
      return "#ab47bc";
  }
}

const SHORT_STATES: Record<string, string> = { PreparingRebalance: "Prep.", CompletingRebalance: "Compl.", Stable: "Stable", Empty: "Empty", Dead: "Dead" };

/** The group protocol's requests (src/protocol/group.ts) and their responses: a teal family of their own. */
export function groupMessageColour(type: string): string | null {
  const request = type.endsWith("Response") ? type.slice(0, -"Response".length) : type;
  switch (request) {
    case "FindCoordinator":
      return "#4db6ac";
    case "JoinGroup":
    case "SyncGroup":
    case "LeaveGroup":
      return "#00897b";
    case "Heartbeat":
      return "#80cbc4";
    case "OffsetCommit":
    case "OffsetFetch":
      return "#006064";
    default:
      return null;
  }
}

/** Colour by request family: ZooKeeper, replication fetches, produce, controller requests, metadata, groups. */
export function messageColour(type: string): string {
  const group = groupMessageColour(type);
  if (group !== null) return group;
  const txn = txnMessageColour(type);
  if (txn !== null) return txn;
  if (type.startsWith("Zk") || type.startsWith("Quorum") || type.startsWith("Learner")) return "#8e6cc0";
  if (type.startsWith("Fetch")) return "#3b7dd8";
  if (type.startsWith("Produce")) return "#2e9e50";
  if (type.startsWith("LeaderAndIsr") || type.startsWith("UpdateMetadata") || type.startsWith("StopReplica") || type.startsWith("AlterIsr") || type.startsWith("ControlledShutdown")) return "#e07b00";
  if (type.startsWith("InitProducerId") || type.startsWith("OffsetsForLeaderEpoch") || type.startsWith("ListOffsets")) return "#c04080";
  return "#888";
}

export interface TimelineCallbacks {
  /** The user clicked at time t (µs). */
  seekTime(t: number): void;
  /** The user clicked a violation marker. */
  selectViolation(i: number): void;
  /** The visible window changed (metrics charts follow it). */
  windowChanged(x: ScaleLinear<number, number>): void;
  /** Shift+click on a lane: the what-if panel takes the lane's node and the time for a new fault. */
  pickLaneTime?(node: string, t: number): void;
}

export class TimelineView {
  readonly root: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly axisSvg: Selection<SVGSVGElement, unknown, null, undefined>;
  private readonly overviewSvg: Selection<SVGSVGElement, unknown, null, undefined>;
  private readonly base: ScaleLinear<number, number>;
  private x: ScaleLinear<number, number>;
  private readonly zoomBehavior: ZoomBehavior<HTMLCanvasElement, unknown>;
  private readonly brush: BrushBehavior<unknown>;
  private width = 800;
  private cursorT = 0;
  private highlight: { t: number; lane: number } | null = null;
  private frame = 0;
  private syncingBrush = false;
  private readonly markT: Float64Array;
  private leaders = new Map<string, string[]>();
  private readonly resizeObserver: ResizeObserver;
  private readonly tooltip: HTMLDivElement;
  /** Arrows drawn in the last frame (tests read it through the DOM's data attributes). */
  drawnArrows = 0;

  constructor(
    container: HTMLElement,
    private readonly index: TraceIndex,
    private readonly callbacks: TimelineCallbacks,
  ) {
    this.root = container;
    container.innerHTML = "";
    this.axisSvg = select(container).append("svg").attr("class", "axis").attr("height", AXIS_HEIGHT);
    this.canvas = document.createElement("canvas");
    this.canvas.className = "lanes";
    container.appendChild(this.canvas);
    this.overviewSvg = select(container).append("svg").attr("class", "overview").attr("height", OVERVIEW_HEIGHT);
    this.ctx = this.canvas.getContext("2d")!;
    this.markT = Float64Array.from(index.marks, (mark) => mark.t);
    const end = Math.max(index.endT, 1);
    this.base = scaleLinear().domain([0, end]);
    this.x = this.base.copy();

    this.zoomBehavior = zoom<HTMLCanvasElement, unknown>()
      .scaleExtent([1, Math.max(2, end / 50)])
      .on("zoom", (event: D3ZoomEvent<HTMLCanvasElement, unknown>) => {
        this.x = event.transform.rescaleX(this.base);
        this.syncBrush();
        this.callbacks.windowChanged(this.x);
        this.requestDraw();
      });
    select(this.canvas).call(this.zoomBehavior).on("dblclick.zoom", null);
    this.canvas.addEventListener("click", (event) => this.onClick(event));
    this.tooltip = document.createElement("div");
    this.tooltip.className = "tooltip";
    container.appendChild(this.tooltip);
    this.canvas.addEventListener("mousemove", (event) => this.onHover(event));
    this.canvas.addEventListener("mouseleave", () => (this.tooltip.style.display = "none"));

    this.brush = brushX<unknown>().on("end", (event: { selection: [number, number] | null; sourceEvent?: Event }) => {
      if (this.syncingBrush || event.sourceEvent === undefined) return;
      if (event.selection === null) {
        this.zoomTo(0, end);
        return;
      }
      const overview = this.overviewScale();
      this.zoomTo(overview.invert(event.selection[0] - LABEL_WIDTH), overview.invert(event.selection[1] - LABEL_WIDTH));
    });
    this.resize();
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(container);
  }

  get scale(): ScaleLinear<number, number> {
    return this.x;
  }

  /** Shows the window [fromT, toT] (µs). */
  zoomTo(fromT: number, toT: number): void {
    const span = Math.max(toT - fromT, 1);
    const k = (this.base.domain()[1] - this.base.domain()[0]) / span;
    const transform = zoomIdentity.scale(k).translate(-this.base(fromT), 0);
    select(this.canvas).call(this.zoomBehavior.transform, transform);
  }

  setCursor(t: number): void {
    this.cursorT = t;
    // Keep the cursor in view while playing.
    const [d0, d1] = this.x.domain();
    if (t < d0 || t > d1) {
      const span = d1 - d0;
      this.zoomTo(Math.max(0, t - span * 0.2), Math.max(0, t - span * 0.2) + span);
    }
    this.requestDraw();
  }

  /** The partitions each broker leads at the playback position (from the state timeline), shown in its label. */
  setLeaders(leaders: Map<string, string[]>): void {
    this.leaders = leaders;
    this.requestDraw();
  }

  /** Stops following the container's size (a new trace replaces this view). */
  dispose(): void {
    this.resizeObserver.disconnect();
  }

  setHighlight(target: { t: number; lane: number } | null): void {
    this.highlight = target;
    this.requestDraw();
  }

  private overviewScale(): ScaleLinear<number, number> {
    return this.base.copy().range([0, this.width]);
  }

  private resize(): void {
    const width = Math.max(200, this.root.clientWidth - LABEL_WIDTH - 2);
    this.width = width;
    this.base.range([0, width]);
    const transform = (this.canvas as unknown as { __zoom?: { rescaleX: (s: ScaleLinear<number, number>) => ScaleLinear<number, number> } }).__zoom;
    this.x = transform !== undefined ? transform.rescaleX(this.base) : this.base.copy();
    this.zoomBehavior.extent([
      [0, 0],
      [width, this.canvasHeight()],
    ]).translateExtent([
      [0, 0],
      [width, this.canvasHeight()],
    ]);
    const dpr = window.devicePixelRatio || 1;
    const height = this.canvasHeight();
    this.canvas.width = Math.round((width + LABEL_WIDTH) * dpr);
    this.canvas.height = Math.round(height * dpr);
    this.canvas.style.width = `${width + LABEL_WIDTH}px`;
    this.canvas.style.height = `${height}px`;
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.axisSvg.attr("width", width + LABEL_WIDTH);
    this.drawOverview();
    this.callbacks.windowChanged(this.x);
    this.requestDraw();
  }

  private canvasHeight(): number {
    return this.index.lanes.length * LANE_HEIGHT + 16;
  }

  private requestDraw(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  /** Draws now (tests and screenshots call it to avoid waiting a frame). */
  draw(): void {
    const { ctx, index } = this;
    const width = this.width;
    const height = this.canvasHeight();
    const x = (t: number) => LABEL_WIDTH + this.x(t);
    const laneY = (lane: number) => lane * LANE_HEIGHT + LANE_HEIGHT / 2 + 8;
    const [t0, t1] = this.x.domain();
    ctx.clearRect(0, 0, width + LABEL_WIDTH, height);

    // Lane backgrounds, group separators, role spans.
    index.lanes.forEach((lane, i) => {
      ctx.fillStyle = i % 2 === 0 ? "#fafafa" : "#f1f3f6";
      ctx.fillRect(LABEL_WIDTH, laneY(i) - LANE_HEIGHT / 2, width, LANE_HEIGHT);
      if (i > 0 && index.lanes[i - 1].group !== lane.group) {
        ctx.fillStyle = "#99a";
        ctx.fillRect(0, laneY(i) - LANE_HEIGHT / 2 - 1, width + LABEL_WIDTH, 2);
      }
    });
    ctx.save();
    ctx.beginPath();
    ctx.rect(LABEL_WIDTH, 0, width, height);
    ctx.clip();
    for (const role of index.roles) {
      if (role.toT < t0 || role.fromT > t1 || role.lane < 0) continue;
      ctx.fillStyle = role.role === "controller" ? "rgba(255,200,0,0.25)" : "rgba(142,108,192,0.18)";
      const a = Math.max(x(role.fromT), LABEL_WIDTH);
      ctx.fillRect(a, laneY(role.lane) - LANE_HEIGHT / 2 + 2, Math.max(1, x(role.toT) - a), LANE_HEIGHT - 4);
    }
    this.drawGroupSpans(x, laneY, t0, t1);
    this.drawTxnSpans(x, laneY, t0, t1);
    for (const band of index.bands) {
      if (band.toT < t0 || band.fromT > t1) continue;
      ctx.fillStyle = BAND_COLOURS[band.kind];
      const a = Math.max(x(band.fromT), LABEL_WIDTH);
      const w = Math.max(2, x(band.toT) - a);
      for (const lane of band.lanes) ctx.fillRect(a, laneY(lane) - LANE_HEIGHT / 2, w, LANE_HEIGHT);
      if (band.kind === "down" || band.kind === "power-loss") {
        ctx.strokeStyle = band.kind === "down" ? "#666" : "#a22";
        ctx.lineWidth = 2;
        for (const lane of band.lanes) {
          ctx.beginPath();
          ctx.moveTo(a, laneY(lane));
          ctx.lineTo(a + w, laneY(lane));
          ctx.setLineDash([4, 4]);
          ctx.stroke();
          ctx.setLineDash([]);
        }
      }
    }
    // Lane axes.
    ctx.strokeStyle = "#c8ccd4";
    ctx.lineWidth = 1;
    for (let i = 0; i < index.lanes.length; i++) {
      ctx.beginPath();
      ctx.moveTo(LABEL_WIDTH, laneY(i));
      ctx.lineTo(LABEL_WIDTH + width, laneY(i));
      ctx.stroke();
    }

    // Messages in the window.
    const m = index.messages;
    const first = lowerBound(m.sendT, t0 - m.maxSpanUs);
    const last = lowerBound(m.sendT, t1 + 1);
    let visible = 0;
    let visibleTxn = 0;
    const txnType = m.types.map(isTxnMessage);
    for (let i = first; i < last; i++) {
      if ((Number.isNaN(m.endT[i]) ? m.sendT[i] : m.endT[i]) < t0) continue;
      visible++;
      if (txnType[m.type[i]]) visibleTxn++;
    }
    // Zoomed out (more than DENSITY_PER_PX messages per pixel of the window), arrows would merge into solid blocks
    // that read like fault bands: each lane then gets density ticks (one per DENSITY_BUCKET_PX, taller where its
    // nodes sent more), and only dropped and transaction messages are still drawn as arrows.
    const density = visible > width * DENSITY_PER_PX;
    this.canvas.dataset.density = String(density);
    if (density) this.drawDensity(first, last, t0, x, laneY);
    const stride = Math.max(1, Math.ceil(visible / MAX_ARROWS));
    const label = visible <= LABEL_ARROWS;
    // Transaction requests are few among the fetches: always drawn, and labelled while few of them are in view.
    const labelTxn = visibleTxn <= LABEL_ARROWS;
    let labelledTxn = 0;
    // Dense windows fade each arrow, so overlapping traffic reads as density rather than a solid block.
    const alpha = label ? 0.9 : Math.max(0.12, Math.min(0.55, 400 / Math.min(visible, MAX_ARROWS)));
    let drawn = 0;
    let seen = 0;
    const labels: { x: number; y: number; w: number }[] = [];
    ctx.lineWidth = 1;
    ctx.font = "10px sans-serif";
    for (let i = first; i < last; i++) {
      const endT = Number.isNaN(m.endT[i]) ? m.sendT[i] : m.endT[i];
      if (endT < t0) continue;
      const isTxn = txnType[m.type[i]];
      const sampledOut = density || seen % stride !== 0;
      seen++;
      if (sampledOut && m.dropped[i] === 0 && !isTxn) continue;
      if (m.from[i] < 0 || m.to[i] < 0) continue;
      const type = m.labels.get(i) ?? m.types[m.type[i]];
      const labelIt = label || (isTxn && labelTxn);
      const x0 = x(m.sendT[i]);
      const y0 = laneY(m.from[i]);
      const y1 = laneY(m.to[i]);
      let x1: number;
      let yEnd: number;
      if (m.dropped[i] === 1) {
        // A dropped message ends half way, in a red cross, at its drop time.
        x1 = Math.max(x(endT), x0 + 6);
        yEnd = (y0 + y1) / 2;
        ctx.strokeStyle = "#d33";
      } else if (Number.isNaN(m.endT[i])) {
        x1 = x(index.endT);
        yEnd = (y0 + y1) / 2;
        ctx.strokeStyle = "#bbb";
      } else {
        x1 = x(endT);
        yEnd = y1;
        ctx.strokeStyle = messageColour(type);
      }
      ctx.globalAlpha = isTxn ? 0.95 : alpha;
      ctx.beginPath();
      ctx.moveTo(x0, y0);
      if (m.from[i] === m.to[i] && m.dropped[i] === 0) {
        // A request to itself (a coordinator's WriteTxnMarkers to its own partitions): a loop above the lane.
        ctx.quadraticCurveTo((x0 + x1) / 2, y0 - 14, x1, yEnd);
      } else {
        ctx.lineTo(x1, yEnd);
      }
      ctx.stroke();
      if (m.dropped[i] === 1) {
        ctx.beginPath();
        ctx.moveTo(x1 - 4, yEnd - 4);
        ctx.lineTo(x1 + 4, yEnd + 4);
        ctx.moveTo(x1 + 4, yEnd - 4);
        ctx.lineTo(x1 - 4, yEnd + 4);
        ctx.stroke();
      } else if (labelIt) {
        if (m.from[i] === m.to[i]) arrowHead(ctx, (x0 + x1) / 2, y0 - 7, x1, yEnd);
        else arrowHead(ctx, x0, y0, x1, yEnd);
      }
      if (labelIt) {
        // Label the arrow unless it would overprint one already written.
        const lx = (x0 + x1) / 2 + 2;
        const ly = (y0 + yEnd) / 2 - (m.from[i] === m.to[i] ? 9 : 2);
        const w = ctx.measureText(type).width;
        // A gap of LABEL_GAP_PX between labels on one line, so zoomed-in labels do not run together.
        if (!labels.some((b) => lx < b.x + b.w + LABEL_GAP_PX && b.x < lx + w + LABEL_GAP_PX && Math.abs(b.y - ly) < 11)) {
          labels.push({ x: lx, y: ly, w });
          ctx.globalAlpha = 1;
          ctx.fillStyle = isTxn ? "#4a148c" : "#333";
          ctx.fillText(type, lx, ly);
          if (isTxn) labelledTxn++;
        }
      }
      drawn++;
    }
    ctx.globalAlpha = 1;
    this.drawnArrows = drawn;
    this.canvas.dataset.arrows = String(drawn);
    this.canvas.dataset.txnLabels = String(labelledTxn);

    // Key events.
    ctx.font = "12px sans-serif";
    ctx.textAlign = "center";
    const marks = index.marks;
    const mFirst = lowerBound(this.markT, t0);
    const lastX = new Map<number, number>();
    for (let i = mFirst; i < marks.length && marks[i].t <= t1; i++) {
      const mark = marks[i];
      if (mark.glyph === "") continue;
      const px = x(mark.t);
      if ((lastX.get(mark.lane) ?? -99) > px - 8) continue;
      lastX.set(mark.lane, px);
      ctx.fillStyle = mark.category === "election" ? "#b8860b" : mark.category === "truncation" ? "#c0392b" : mark.category === "isr" ? "#2c6fbb" : mark.category === "group" ? "#00695c" : mark.category === "txn" ? (mark.glyph === "✗" || mark.glyph === "⚠" ? "#c62828" : mark.glyph === "✓" ? "#1b7a2e" : "#6a1b9a") : "#333";
      ctx.fillText(mark.glyph, px, laneY(mark.lane) - 4);
    }

    // Violations: a red dashed line and a triangle on the lane.
    for (const v of index.violations) {
      if (v.t < t0 || v.t > t1) continue;
      const px = x(v.t);
      ctx.strokeStyle = "#e00";
      ctx.setLineDash([3, 3]);
      ctx.beginPath();
      ctx.moveTo(px, 0);
      ctx.lineTo(px, height);
      ctx.stroke();
      ctx.setLineDash([]);
      const y = v.lane >= 0 ? laneY(v.lane) : 10;
      ctx.fillStyle = "#e00";
      ctx.beginPath();
      ctx.moveTo(px, y - 9);
      ctx.lineTo(px - 7, y + 5);
      ctx.lineTo(px + 7, y + 5);
      ctx.closePath();
      ctx.fill();
      ctx.fillStyle = "#fff";
      ctx.fillText("!", px, y + 3);
    }
    ctx.textAlign = "left";

    if (this.highlight !== null) {
      ctx.strokeStyle = "#ff00aa";
      ctx.lineWidth = 3;
      ctx.beginPath();
      ctx.arc(x(this.highlight.t), this.highlight.lane >= 0 ? laneY(this.highlight.lane) : 10, 11, 0, Math.PI * 2);
      ctx.stroke();
      ctx.lineWidth = 1;
    }

    // Cursor.
    const cx = x(this.cursorT);
    ctx.strokeStyle = "#0057d9";
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(cx, 0);
    ctx.lineTo(cx, height);
    ctx.stroke();
    ctx.lineWidth = 1;
    ctx.restore();

    // Labels (drawn last, over the left margin).
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, LABEL_WIDTH, height);
    ctx.font = "12px sans-serif";
    index.lanes.forEach((lane, i) => {
      ctx.fillStyle = "#222";
      ctx.fillText(lane.name, 8, laneY(i) + (lane.group === "group" || lane.group === "txn" ? -3 : 4), LABEL_WIDTH - 12);
      if (lane.group === "txn") {
        // A transactional.id's lane: its coordinator's state and the producer id / epoch at the playback position.
        const span = this.txnSpanAt(i, this.cursorT);
        ctx.font = "10px sans-serif";
        if (span !== null) {
          ctx.fillStyle = span.state.endsWith("Abort") ? "#c62828" : span.state.endsWith("Commit") ? "#1b7a2e" : "#6a1b9a";
          ctx.fillText(`${span.state} · pid ${span.producerId}/${span.producerEpoch}`, 8, laneY(i) + 10, LABEL_WIDTH - 12);
        }
        ctx.font = "12px sans-serif";
        return;
      }
      if (lane.group === "group") {
        // A group's lane: its state and generation at the playback position.
        const span = this.groupSpanAt(i, this.cursorT);
        ctx.font = "10px sans-serif";
        if (span !== null) {
          ctx.fillStyle = isRebalancing(span.state) ? "#c05a00" : "#00695c";
          ctx.fillText(`${span.state} · gen ${span.generation}`, 8, laneY(i) + 10, LABEL_WIDTH - 12);
        }
        ctx.font = "12px sans-serif";
        return;
      }
      // Roles at the playback position: ZooKeeper leader or controller, then the partitions it leads.
      const role = index.roles.find((r) => r.lane === i && r.fromT <= this.cursorT && r.toT > this.cursorT);
      const led = this.leaders.get(lane.name) ?? [];
      ctx.font = "10px sans-serif";
      if (role !== undefined) {
        ctx.fillStyle = role.role === "controller" ? "#b8860b" : "#8e6cc0";
        ctx.fillText(role.role === "controller" ? "★ controller" : "★ ZK leader", 62, laneY(i) + (led.length > 0 ? -2 : 4));
      }
      if (led.length > 0) {
        ctx.fillStyle = "#2c6fbb";
        const text = `◆ ${led.slice(0, 4).join(" ")}${led.length > 4 ? ` +${led.length - 4}` : ""}`;
        ctx.fillText(text, 62, laneY(i) + (role !== undefined ? 9 : 4), LABEL_WIDTH - 64);
      }
      ctx.font = "12px sans-serif";
    });

    // Axis.
    const axis = axisBottom(this.x.copy().range([LABEL_WIDTH, LABEL_WIDTH + width]))
      .ticks(Math.max(2, Math.floor(width / 90)))
      .tickFormat((d) => formatTime(Number(d)));
    this.axisSvg.selectAll("g").remove();
    this.axisSvg.append("g").attr("transform", "translate(0,1)").call(axis);
  }

  /**
   * One state span of a group or transactional-id lane: a filled box, hatched while no coordinator serves it
   * (`loadingHatch` while one loads it, grey when none), with a white tick where it starts. Returns its x and width.
   */
  /** Per-lane density ticks of the messages sent in the window (the sender's lane), log-scaled heights. */
  private drawDensity(first: number, last: number, t0: number, x: (t: number) => number, laneY: (lane: number) => number): void {
    const m = this.index.messages;
    const buckets = Math.ceil(this.width / DENSITY_BUCKET_PX) + 1;
    const lanes = this.index.lanes.length;
    const counts = new Uint32Array(lanes * buckets);
    for (let i = first; i < last; i++) {
      const endT = Number.isNaN(m.endT[i]) ? m.sendT[i] : m.endT[i];
      if (endT < t0 || m.from[i] < 0) continue;
      const bucket = Math.floor((x(m.sendT[i]) - LABEL_WIDTH) / DENSITY_BUCKET_PX);
      if (bucket < 0 || bucket >= buckets) continue;
      counts[m.from[i] * buckets + bucket]++;
    }
    const ctx = this.ctx;
    ctx.fillStyle = "#5a6480";
    ctx.globalAlpha = 0.55;
    for (let lane = 0; lane < lanes; lane++) {
      const base = laneY(lane) + LANE_HEIGHT / 2 - 2;
      for (let b = 0; b < buckets; b++) {
        const count = counts[lane * buckets + b];
        if (count === 0) continue;
        const h = Math.min(LANE_HEIGHT * 0.6, 2 + Math.log2(count + 1) * 2.5);
        ctx.fillRect(LABEL_WIDTH + b * DENSITY_BUCKET_PX, base - h, DENSITY_BUCKET_PX - 1, h);
      }
    }
    ctx.globalAlpha = 1;
  }

  private drawSpanBox(
    x: (t: number) => number,
    laneY: (lane: number) => number,
    span: { readonly fromT: number; readonly toT: number; readonly lane: number; readonly coordinatorStatus: string },
    fill: string,
    loadingHatch: string,
  ): { a: number; w: number } {
    const ctx = this.ctx;
    const a = Math.max(x(span.fromT), LABEL_WIDTH);
    const w = Math.max(1, Math.min(x(span.toT), LABEL_WIDTH + this.width) - a);
    const top = laneY(span.lane) - LANE_HEIGHT / 2 + 3;
    const h = LANE_HEIGHT - 6;
    ctx.fillStyle = fill;
    ctx.fillRect(a, top, w, h);
    if (span.coordinatorStatus !== "active") {
      ctx.save();
      ctx.beginPath();
      ctx.rect(a, top, w, h);
      ctx.clip();
      ctx.strokeStyle = span.coordinatorStatus === "loading" ? loadingHatch : "rgba(90,90,90,0.6)";
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (let k = a - h; k < a + w; k += 6) {
        ctx.moveTo(k, top + h);
        ctx.lineTo(k + h, top);
      }
      ctx.stroke();
      ctx.restore();
    }
    ctx.strokeStyle = "rgba(255,255,255,0.9)";
    ctx.beginPath();
    ctx.moveTo(a, top);
    ctx.lineTo(a, top + h);
    ctx.stroke();
    return { a, w };
  }

  /** The consumer groups' lanes: one box per state span, labelled with state, generation and leader when wide enough. */
  private drawGroupSpans(x: (t: number) => number, laneY: (lane: number) => number, t0: number, t1: number): void {
    const ctx = this.ctx;
    ctx.font = "10px sans-serif";
    let drawn = 0;
    for (const span of this.index.groupSpans) {
      if (span.toT < t0 || span.fromT > t1 || span.lane < 0) continue;
      drawn++;
      const { a, w } = this.drawSpanBox(x, laneY, span, GROUP_STATE_COLOURS[span.state] ?? "rgba(150,150,150,0.4)", "rgba(0,105,92,0.5)");
      const text = span.coordinatorStatus === "active" ? `${span.state} g${span.generation}${span.leader !== null ? ` ★${shortMemberId(span.leader)}` : ""}` : `${span.coordinatorStatus}: ${span.state} g${span.generation}`;
      // The full label, else a short one (Prep. g3), else none.
      const short = `${SHORT_STATES[span.state] ?? span.state} g${span.generation}`;
      const fits = [text, short].find((label) => ctx.measureText(label).width <= w - 6);
      if (fits !== undefined) {
        ctx.fillStyle = span.state === "Dead" ? "#fff" : "#1d2a24";
        ctx.fillText(fits, a + 3, laneY(span.lane) + 3);
      }
    }
    this.canvas.dataset.groupSpans = String(drawn);
    // The groups' states at the playback position (tests read them).
    const states = this.index.lanes.filter((lane) => lane.group === "group").map((lane) => {
      const span = this.groupSpanAt(lane.index, this.cursorT);
      return `${lane.name.slice(6)}=${span === null ? "none" : `${span.state}/${span.generation}`}`;
    });
    this.canvas.dataset.groupStates = states.join(";");
  }

  /** The transactional ids' lanes: one box per coordinator state, labelled with the state and producer epoch when wide enough. */
  private drawTxnSpans(x: (t: number) => number, laneY: (lane: number) => number, t0: number, t1: number): void {
    const ctx = this.ctx;
    ctx.font = "10px sans-serif";
    let drawn = 0;
    for (const span of this.index.txnSpans) {
      if (span.toT < t0 || span.fromT > t1 || span.lane < 0) continue;
      drawn++;
      const { a, w } = this.drawSpanBox(x, laneY, span, TXN_STATE_COLOURS[span.state] ?? "rgba(150,150,150,0.4)", "rgba(106,27,154,0.5)");
      const text = `${span.state} e${span.producerEpoch}${span.partitions.length > 0 ? ` ${span.partitions.join(",")}` : ""}`;
      const fits = [text, `${span.state} e${span.producerEpoch}`, SHORT_TXN_STATES[span.state] ?? span.state].find((label) => ctx.measureText(label).width <= w - 6);
      if (fits !== undefined) {
        ctx.fillStyle = span.state === "Dead" || span.state === "PrepareEpochFence" ? "#fff" : "#1d1a2a";
        ctx.fillText(fits, a + 3, laneY(span.lane) + 3);
      }
    }
    this.canvas.dataset.txnSpans = String(drawn);
    const states = this.index.lanes.filter((lane) => lane.group === "txn").map((lane) => {
      const span = this.txnSpanAt(lane.index, this.cursorT);
      return `${lane.name.slice(4)}=${span === null ? "none" : `${span.state}/${span.producerId}/${span.producerEpoch}`}`;
    });
    this.canvas.dataset.txnStates = states.join(";");
  }

  /** The transaction span on lane `lane` at time t (the last that starts at or before t). */
  private txnSpanAt(lane: number, t: number): TxnSpan | null {
    let found: TxnSpan | null = null;
    for (const span of this.index.txnSpans) {
      if (span.lane !== lane) continue;
      if (span.fromT > t) break;
      found = span;
    }
    return found;
  }

  /** The group span on lane `lane` at time t (the last that starts at or before t). */
  private groupSpanAt(lane: number, t: number): GroupSpan | null {
    let found: GroupSpan | null = null;
    for (const span of this.index.groupSpans) {
      if (span.lane !== lane) continue;
      if (span.fromT > t) break;
      found = span;
    }
    return found;
  }

  private drawOverview(): void {
    const svg = this.overviewSvg;
    svg.attr("width", this.width + LABEL_WIDTH);
    svg.selectAll("*").remove();
    const overview = this.overviewScale();
    const g = svg.append("g").attr("transform", `translate(${LABEL_WIDTH},0)`);
    g.append("rect").attr("width", this.width).attr("height", OVERVIEW_HEIGHT).attr("fill", "#eef");
    for (const band of this.index.bands) {
      g.append("rect")
        .attr("x", overview(band.fromT))
        .attr("width", Math.max(1, overview(band.toT) - overview(band.fromT)))
        .attr("y", 2)
        .attr("height", OVERVIEW_HEIGHT - 4)
        .attr("fill", BAND_COLOURS[band.kind]);
    }
    for (const v of this.index.violations) {
      g.append("rect").attr("x", overview(v.t) - 1).attr("width", 2).attr("height", OVERVIEW_HEIGHT).attr("fill", "#e00");
    }
    svg.append("text").attr("x", 8).attr("y", 17).attr("font-size", 11).attr("fill", "#555").text("brush a window ↔");
    this.brush.extent([
      [LABEL_WIDTH, 0],
      [LABEL_WIDTH + this.width, OVERVIEW_HEIGHT],
    ]);
    svg.append("g").attr("class", "brush").call(this.brush);
    this.syncBrush();
  }

  private syncBrush(): void {
    const overview = this.overviewScale();
    const [d0, d1] = this.x.domain();
    const full = d0 <= this.base.domain()[0] && d1 >= this.base.domain()[1];
    this.syncingBrush = true;
    const g = this.overviewSvg.select<SVGGElement>("g.brush");
    if (!g.empty()) this.brush.move(g, full ? null : [LABEL_WIDTH + overview(d0), LABEL_WIDTH + overview(d1)]);
    this.syncingBrush = false;
  }

  /** What lies under the pointer: a key event or a violation on the lane, else the nearest message arrow. */
  private describeAt(px: number, py: number): string | null {
    const laneIndex = Math.floor((py - 8) / LANE_HEIGHT);
    const t = this.x.invert(px - LABEL_WIDTH);
    const usPerPx = (this.x.domain()[1] - this.x.domain()[0]) / this.width;
    for (const v of this.index.violations) {
      if (v.lane === laneIndex && Math.abs(v.t - t) <= 8 * usPerPx) return `⚠ ${v.name} at ${formatTime(v.t)} — click to explain`;
    }
    const from = lowerBound(this.markT, t - 6 * usPerPx);
    for (let i = from; i < this.index.marks.length && this.index.marks[i].t <= t + 6 * usPerPx; i++) {
      const mark = this.index.marks[i];
      if (mark.lane === laneIndex) return `${formatTime(mark.t)} ${this.index.lanes[mark.lane].name}: ${mark.glyph} ${mark.label}`;
    }
    const lane = this.index.lanes[laneIndex];
    if (lane !== undefined && lane.group === "group") {
      const span = this.groupSpanAt(laneIndex, t);
      return span === null ? null : `${describeGroupSpan(span)}, from ${formatTime(span.fromT)}`;
    }
    if (lane !== undefined && lane.group === "txn") {
      const span = this.txnSpanAt(laneIndex, t);
      return span === null ? null : `${describeTxnSpan(span)}, from ${formatTime(span.fromT)}`;
    }
    // Nearest arrow: distance from the pointer to each visible segment.
    const m = this.index.messages;
    const laneY = (lane: number) => lane * LANE_HEIGHT + LANE_HEIGHT / 2 + 8;
    const first = lowerBound(m.sendT, t - m.maxSpanUs);
    const last = Math.min(lowerBound(m.sendT, t + 1), first + 20000);
    let best = -1;
    let bestDistance = 5;
    for (let i = first; i < last; i++) {
      const end = Number.isNaN(m.endT[i]) ? this.index.endT : m.endT[i];
      if (end < t - 4 * usPerPx || m.from[i] < 0 || m.to[i] < 0) continue;
      const x0 = LABEL_WIDTH + this.x(m.sendT[i]);
      const y0 = laneY(m.from[i]);
      const x1 = LABEL_WIDTH + this.x(end);
      const y1 = m.dropped[i] === 1 || Number.isNaN(m.endT[i]) ? (y0 + laneY(m.to[i])) / 2 : laneY(m.to[i]);
      const d = segmentDistance(px, py, x0, y0, x1, y1);
      if (d < bestDistance) {
        bestDistance = d;
        best = i;
      }
    }
    if (best < 0) return null;
    const from0 = this.index.lanes[m.from[best]].name;
    const to0 = this.index.lanes[m.to[best]].name;
    const fate = m.dropped[best] === 1 ? `dropped at ${formatTime(m.endT[best])}` : Number.isNaN(m.endT[best]) ? "never delivered" : `delivered at ${formatTime(m.endT[best])}`;
    return `${m.labels.get(best) ?? m.types[m.type[best]]}: ${from0} → ${to0}, sent at ${formatTime(m.sendT[best])}, ${fate}`;
  }

  private onHover(event: MouseEvent): void {
    const rect = this.canvas.getBoundingClientRect();
    const px = event.clientX - rect.left;
    const py = event.clientY - rect.top;
    const text = px > LABEL_WIDTH ? this.describeAt(px, py) : null;
    if (text === null) {
      this.tooltip.style.display = "none";
      return;
    }
    this.tooltip.textContent = text;
    this.tooltip.style.display = "block";
    this.tooltip.style.left = `${this.canvas.offsetLeft + px + 12}px`;
    this.tooltip.style.top = `${this.canvas.offsetTop + py + 12}px`;
  }

  private onClick(event: MouseEvent): void {
    const rect = this.canvas.getBoundingClientRect();
    const px = event.clientX - rect.left;
    const py = event.clientY - rect.top;
    if (px < LABEL_WIDTH) return;
    const t = this.x.invert(px - LABEL_WIDTH);
    if (event.shiftKey && this.callbacks.pickLaneTime !== undefined) {
      const lane = this.index.lanes[Math.floor((py - 8) / LANE_HEIGHT)];
      if (lane !== undefined) {
        this.callbacks.pickLaneTime(lane.name, Math.max(0, t));
        return;
      }
    }
    // A violation marker within 8 px wins.
    for (let i = 0; i < this.index.violations.length; i++) {
      const v = this.index.violations[i];
      const vx = LABEL_WIDTH + this.x(v.t);
      const vy = v.lane >= 0 ? v.lane * LANE_HEIGHT + LANE_HEIGHT / 2 + 8 : 10;
      if (Math.abs(vx - px) <= 8 && Math.abs(vy - py) <= 12) {
        this.callbacks.selectViolation(i);
        return;
      }
    }
    this.callbacks.seekTime(Math.max(0, t));
  }

  /** Canvas position of a violation marker (the browser test clicks it). */
  violationPoint(i: number): { x: number; y: number } {
    const v = this.index.violations[i];
    return { x: LABEL_WIDTH + this.x(v.t), y: v.lane >= 0 ? v.lane * LANE_HEIGHT + LANE_HEIGHT / 2 + 8 : 10 };
  }
}

function segmentDistance(px: number, py: number, x0: number, y0: number, x1: number, y1: number): number {
  const dx = x1 - x0;
  const dy = y1 - y0;
  const length2 = dx * dx + dy * dy;
  const u = length2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - x0) * dx + (py - y0) * dy) / length2));
  return Math.hypot(px - (x0 + u * dx), py - (y0 + u * dy));
}

function arrowHead(ctx: CanvasRenderingContext2D, x0: number, y0: number, x1: number, y1: number): void {
  const angle = Math.atan2(y1 - y0, x1 - x0);
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - 6 * Math.cos(angle - 0.4), y1 - 6 * Math.sin(angle - 0.4));
  ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - 6 * Math.cos(angle + 0.4), y1 - 6 * Math.sin(angle + 0.4));
  ctx.stroke();
}

/** Simulated time for axes and labels: seconds with as many decimals as the span needs. */
export function formatTime(us: number): string {
  if (Math.abs(us) >= 1e6) return `${us % 1e6 === 0 ? us / 1e6 : (us / 1e6).toFixed(3).replace(/0+$/, "")} s`;
  if (Math.abs(us) >= 1e3) return `${(us / 1e3).toFixed(1).replace(/\.0$/, "")} ms`;
  return `${us} µs`;
}
