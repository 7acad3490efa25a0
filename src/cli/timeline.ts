/**
 * The model of `kafkasim timeline` (pure: text in, rows out; the formatters in timeline-text.ts and
 * timeline-mermaid.ts draw it). Reads a JSON Lines trace, validates every line, and keeps the window's key
 * events (faults, crashes and restarts, elections, controller changes, ISR changes, truncations, violations,
 * client errors, consumer groups: timeline-groups.ts) as rows, each marked in its node's lane. Messages become rows of their own when asked
 * for; otherwise the messages between two rows are summarised as one count.
 */

import { TRACE_FORMAT, TraceFormatError, type TraceEvent, type TraceHeader } from "../sim/trace.ts";
import { describeGroupEvent } from "./timeline-groups.ts";
import { describeTransactionEvent } from "./timeline-transactions.ts";

export type Category = "fault" | "down" | "up" | "pause" | "election" | "isr" | "truncation" | "violation" | "client" | "admin" | "zookeeper" | "group" | "transaction";

export interface KeyRow {
  kind: "key";
  t: number;
  node: string;
  category: Category;
  glyph: string;
  label: string;
  /** Lanes to mark: the event's node, or the nodes a fault hit. Empty for cluster-wide events. */
  lanes: string[];
  /** Lane states after this row (only for rows that change one). */
  state?: { node: string; state: LaneState };
}

export interface MessageRow {
  kind: "message";
  t: number;
  from: string;
  to: string;
  type: string;
  /** For a send that the trace later drops, or a drop: why. */
  dropped?: string;
}

export interface SummaryRow {
  kind: "summary";
  /** The first and the last summarised message's time. */
  t: number;
  untilT: number;
  sent: number;
  dropped: number;
}

export type Row = KeyRow | MessageRow | SummaryRow;
export type LaneState = "up" | "down" | "paused";

export interface TimelineOptions {
  fromUs?: number;
  toUs?: number;
  /** Only these nodes' lanes (null: every node of the header). */
  nodes?: readonly string[] | null;
  /** One row per message instead of a summary count. */
  messages?: boolean;
  /** Rows kept at most (summary rows not counted). */
  max?: number;
}

export interface Timeline {
  header: TraceHeader;
  lanes: string[];
  /** Each lane's state at the start of the window. */
  initialStates: Map<string, LaneState>;
  rows: Row[];
  /** Rows past `max`, not kept. */
  omitted: number;
  fromUs: number;
  toUs: number;
}

/** A bad option value (an unknown node): the CLI turns it into a one-line usage error. */
export class TimelineOptionError extends Error {}

export const DEFAULT_MAX_ROWS = 200;

export function buildTimeline(text: string, options: TimelineOptions = {}): Timeline {
  const fromUs = options.fromUs ?? 0;
  const toUs = options.toUs ?? Infinity;
  const max = options.max ?? DEFAULT_MAX_ROWS;
  const lines = text.split("\n");
  let lineNumber = 0;
  while (lineNumber < lines.length && lines[lineNumber].trim() === "") lineNumber++;
  if (lineNumber === lines.length) throw new TraceFormatError(1, "expected a header line, found an empty trace");
  const header = parseObject(lines[lineNumber], lineNumber + 1) as TraceHeader;
  if (header.format !== TRACE_FORMAT) throw new TraceFormatError(lineNumber + 1, `expected a trace header with "format": "${TRACE_FORMAT}"`);
  if (!Array.isArray(header.nodes) || !header.nodes.every((node) => typeof node === "string")) {
    throw new TraceFormatError(lineNumber + 1, 'expected the header\'s "nodes" to be a list of node names');
  }
  const lanes = selectLanes(header.nodes, options.nodes ?? null);
  const shown = new Set(lanes);
  const states = new Map<string, LaneState>(lanes.map((lane) => [lane, "up"]));
  const drops = options.messages ? dropsOf(lines, lineNumber + 1, fromUs, toUs) : null;

  const timeline: Timeline = { header, lanes, initialStates: new Map(), rows: [], omitted: 0, fromUs, toUs };
  let kept = 0;
  let pending: SummaryRow | null = null;
  const push = (row: Row) => {
    if (pending !== null && kept < max && worthSummary(pending)) timeline.rows.push(pending);
    pending = null;
    if (kept < max) timeline.rows.push(row);
    else timeline.omitted++;
    kept++;
  };

  let initialised = false;
  for (let i = lineNumber + 1; i < lines.length; i++) {
    if (lines[i].trim() === "") continue;
    const event = parseEvent(lines[i], i + 1);
    if (!initialised && event.t >= fromUs) {
      timeline.initialStates = new Map(states);
      initialised = true;
    }
    if (event.kind === "send" || event.kind === "drop") {
      if (event.t < fromUs || event.t > toUs) continue;
      const to = String(event.to);
      if (!shown.has(event.node) && !shown.has(to)) continue;
      if (drops !== null) {
        if (!shown.has(event.node) || !shown.has(to)) continue;
        const key = `${event.node}:${String(event.mid)}`;
        if (event.kind === "drop" && drops.sentInWindow.has(key)) continue;
        const dropped = drops.reasons.get(key);
        push({ kind: "message", t: event.t, from: event.node, to, type: String(event.type), ...(dropped !== undefined ? { dropped } : {}) });
      } else {
        pending ??= { kind: "summary", t: event.t, untilT: event.t, sent: 0, dropped: 0 };
        pending.untilT = event.t;
        if (event.kind === "send") pending.sent++;
        else pending.dropped++;
      }
      continue;
    }
    const row = classify(event);
    if (row === null) continue;
    if (row.state !== undefined && states.has(row.state.node)) states.set(row.state.node, row.state.state);
    if (event.t < fromUs || event.t > toUs) continue;
    const relevant = row.category === "violation" || row.lanes.length === 0 || row.lanes.some((lane) => shown.has(lane));
    if (!relevant) continue;
    push(row);
  }
  if (!initialised) timeline.initialStates = new Map(states);
  if (pending !== null && kept < max && worthSummary(pending)) timeline.rows.push(pending);
  return timeline;
}

/** A stretch of messages between two key rows earns a line when some were dropped or it lasted a second. */
const SUMMARY_SPAN_US = 1_000_000;
function worthSummary(row: SummaryRow): boolean {
  return row.dropped > 0 || row.untilT - row.t >= SUMMARY_SPAN_US;
}

function selectLanes(nodes: readonly string[], wanted: readonly string[] | null): string[] {
  if (wanted === null) return [...nodes];
  for (const node of wanted) {
    if (!nodes.includes(node)) throw new TimelineOptionError(`--nodes: unknown node "${node}" (the trace has ${nodes.join(", ")})`);
  }
  return nodes.filter((node) => wanted.includes(node));
}

interface Drops {
  /** "sender:mid" → why the trace dropped that message. */
  reasons: Map<string, string>;
  /** Messages whose send is in the window: their send row shows the drop, and the drop row is skipped. */
  sentInWindow: Set<string>;
}

function dropsOf(lines: readonly string[], first: number, fromUs: number, toUs: number): Drops {
  const drops: Drops = { reasons: new Map(), sentInWindow: new Set() };
  for (let i = first; i < lines.length; i++) {
    const line = lines[i];
    if (!line.includes('"kind":"drop"') && !line.includes('"kind":"send"')) continue;
    const event = parseEvent(line, i + 1);
    const key = `${event.node}:${String(event.mid)}`;
    if (event.kind === "send" && event.t >= fromUs && event.t <= toUs) drops.sentInWindow.add(key);
    else if (event.kind === "drop") drops.reasons.set(key, String(event.reason));
  }
  return drops;
}

function parseObject(line: string, lineNumber: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new TraceFormatError(lineNumber, "expected a JSON object, found invalid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new TraceFormatError(lineNumber, "expected a JSON object");
  return value as Record<string, unknown>;
}

function parseEvent(line: string, lineNumber: number): TraceEvent {
  const event = parseObject(line, lineNumber);
  if (typeof event.t !== "number" || typeof event.seq !== "number" || typeof event.node !== "string" || typeof event.kind !== "string") {
    throw new TraceFormatError(lineNumber, 'expected an event with numeric "t" and "seq" and string "node" and "kind"');
  }
  return event as TraceEvent;
}

const HOST_FAULTS = new Set(["crash", "power-loss", "machine-crash", "shutdown", "restart", "pause"]);
const EVIDENCE_MAX = 100;

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** The nodes a fault touches: its resolved `nodes`, or the members of its partition groups, or from/to. */
function faultNodes(event: TraceEvent): string[] {
  const names: string[] = [];
  const add = (value: unknown) => {
    if (typeof value === "string" && !names.includes(value)) names.push(value);
    else if (Array.isArray(value)) for (const item of value) add(item);
  };
  add(event.nodes);
  add(event.groups);
  add(event.from);
  add(event.to);
  return names;
}

const list = (value: unknown) => (Array.isArray(value) ? `[${value.join(",")}]` : String(value));

/** A key event's row, or null for an event the timeline leaves out. */
export function classify(event: TraceEvent): KeyRow | null {
  const own = (category: Category, glyph: string, label: string, state?: LaneState): KeyRow => ({
    kind: "key",
    t: event.t,
    node: event.node,
    category,
    glyph,
    label,
    lanes: [event.node],
    ...(state !== undefined ? { state: { node: event.node, state } } : {}),
  });
  const e = event;
  switch (e.kind) {
    case "fault": {
      // Host faults show as the host's own event (crash, restart, pause…) in its lane.
      if (HOST_FAULTS.has(String(e.type))) return null;
      const nodes = faultNodes(e);
      const { t: _t, seq: _s, node: _n, kind: _k, type, nodes: _nodes, ...rest } = e;
      const detail = Object.entries(rest).map(([key, value]) => `${key}=${JSON.stringify(value)}`).join(" ");
      return { kind: "key", t: e.t, node: e.node, category: "fault", glyph: "↯", label: `fault ${String(type)}${detail ? ` ${detail}` : ""}`, lanes: nodes };
    }
    case "fault-end":
      return { kind: "key", t: e.t, node: e.node, category: "fault", glyph: "↯", label: `fault ends: ${String(e.type)}`, lanes: [] };
    case "settle":
      return { kind: "key", t: e.t, node: e.node, category: "fault", glyph: "═", label: "settle: every fault healed, every node restarted", lanes: [] };
    case "host-crash":
      return own("down", "✕", "crash", "down");
    case "host-power-loss":
      return own("down", "✕", "power loss", "down");
    case "host-machine-crash":
      return own("down", "✕", "machine crash", "down");
    case "host-shutdown":
      return own("down", "■", "shutdown", "down");
    case "broker-halted":
      return own("down", "✕", `halted: ${String(e.reason)}`, "down");
    case "zk-fatal":
      return own("down", "✕", `ZooKeeper server stopped: ${String(e.reason)}`, "down");
    case "host-start":
      return e.incarnation === 1 ? null : own("up", "▲", `restart (incarnation ${String(e.incarnation)})`, "up");
    case "host-pause":
      return own("pause", "‖", `pause ${typeof e.durationUs === "number" ? `${e.durationUs / 1000} ms` : ""}`.trimEnd(), "paused");
    case "host-resume":
      return own("pause", "►", `resume${typeof e.backlog === "number" ? ` (${e.backlog} events waiting)` : ""}`, "up");
    case "zk-serving":
      return e.role === "LEADING" ? own("zookeeper", "★", `ZooKeeper leader (epoch ${String(e.epoch)})`) : null;
    case "zk-session-expired":
      return own("zookeeper", "⊘", "ZooKeeper session expired");
    case "controller-elected":
      return own("election", "★", `controller (controllerEpoch ${String(e.controllerEpoch)})`);
    case "controller-resigned":
      return own("election", "☆", `resigned as controller (controllerEpoch ${String(e.controllerEpoch)})`);
    case "leader-elected":
      return own(
        "election",
        "◆",
        `${String(e.topicPartition)} leader broker-${String(e.leader)} leaderEpoch ${String(e.leaderEpoch)} isr ${list(e.isr)} (${String(e.reason)})${e.unclean === true ? " UNCLEAN" : ""}`,
      );
    case "isr-shrink":
    case "isr-expand":
      return own("isr", e.kind === "isr-shrink" ? "−" : "+", `${String(e.topicPartition)} isr ${list(e.previousIsr)} → ${list(e.isr)}`);
    case "isr-update-failed":
      return own("isr", "≠", `${String(e.topicPartition)} isr update to ${list(e.proposedIsr)} failed (${String(e.reason)})`);
    case "replica-truncate":
      // Only decisions that remove records; the log-truncate that carries one out follows it.
      return typeof e.logEndOffset === "number" && typeof e.offset === "number" && e.offset < e.logEndOffset
        ? own("truncation", "✂", `${String(e.topicPartition)} truncate to ${e.offset} (from ${e.logEndOffset}) by ${String(e.mode)}${e.reason !== e.mode ? `: ${String(e.reason)}` : ""}`)
        : null;
    case "log-truncate":
      return e.fully === true ? own("truncation", "✂", `${String(e.topicPartition)} log emptied, restarts at ${String(e.offset)}`) : null;
    case "violation":
      return { kind: "key", t: e.t, node: e.node, category: "violation", glyph: "!", label: `VIOLATION ${String(e.name)} ${clip(JSON.stringify(e.evidence ?? {}), EVIDENCE_MAX)}`, lanes: [e.node] };
    case "op":
      if (e.type === "fail") return own("client", "✗", `${String(e.f)} failed: ${String(e.error)}`);
      if (e.type === "info") return own("client", "?", `${String(e.f)} outcome unknown: ${String(e.error)}`);
      return null;
    case "producer-expire":
      return own("client", "✗", `batch expired ${String(e.topicPartition)}: ${String(e.error ?? "")}`.trimEnd());
    case "consumer-validate-error":
    case "consumer-fetch-error":
      return own("client", "✗", `${e.kind} ${String(e.topicPartition ?? "")} ${String(e.error ?? "")}`.trimEnd());
    case "admin-op":
      return own("admin", "◇", `admin ${String(e.op)}: ${String(e.result)}`);
    case "controlled-shutdown-complete":
    case "controlled-shutdown-failed":
    case "reassignment-completed":
    case "topic-deleted":
      return own("admin", "◇", e.kind + (e.topicPartition !== undefined ? ` ${String(e.topicPartition)}` : e.topic !== undefined ? ` ${String(e.topic)}` : ""));
    default: {
      const group = describeGroupEvent(e);
      if (group !== null) return own("group", group.glyph, group.label);
      const transaction = describeTransactionEvent(e);
      return transaction !== null ? own("transaction", transaction.glyph, transaction.label) : null;
    }
  }
}
