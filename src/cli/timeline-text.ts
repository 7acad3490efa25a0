/**
 * The terminal drawing of a timeline (pure): a header naming one lane per node, then one line per row —
 * the time on the left, the lanes (│ running, ┆ paused, blank while down) with the row's glyph in its
 * node's lane, then what happened. Messages, when shown, are arrows between lanes; otherwise a dim line
 * counts the messages between two key events. Colours come from the `Paint` the caller passes.
 */

import { formatTime } from "../sim/time.ts";
import type { Category, LaneState, MessageRow, Timeline } from "./timeline.ts";

export type Paint = Record<Category | "dim" | "bold" | "message", (text: string) => string>;

const identity = (text: string) => text;
export const NO_PAINT: Paint = {
  fault: identity,
  down: identity,
  up: identity,
  pause: identity,
  election: identity,
  isr: identity,
  truncation: identity,
  violation: identity,
  client: identity,
  admin: identity,
  zookeeper: identity,
  group: identity,
  transaction: identity,
  dim: identity,
  bold: identity,
  message: identity,
};

const TIME_WIDTH = 12;
const LANE_GAP = 2;
const LANE_CHAR: Record<LaneState, string> = { up: "│", paused: "┆", down: " " };

export function formatTimelineText(timeline: Timeline, paint: Paint = NO_PAINT): string[] {
  const { header, lanes } = timeline;
  const positions = new Map<string, number>();
  let width = 0;
  for (const lane of lanes) {
    positions.set(lane, width);
    width += lane.length + LANE_GAP;
  }
  const states = new Map(timeline.initialStates);
  const out: string[] = [];
  const window = `${timeline.fromUs === 0 ? "start" : formatTime(timeline.fromUs)} – ${Number.isFinite(timeline.toUs) ? formatTime(timeline.toUs) : "end"}`;
  out.push(paint.bold(`${String(header.scenario)}  seed ${String(header.seed)}  ${window}`));
  out.push(`${"time".padStart(TIME_WIDTH)}  ${paint.bold(lanes.map((lane) => lane.padEnd(lane.length + LANE_GAP)).join(""))}`);

  const laneCells = (): string[] => {
    const cells = new Array<string>(width).fill(" ");
    for (const lane of lanes) cells[positions.get(lane)!] = LANE_CHAR[states.get(lane) ?? "up"];
    return cells;
  };
  const line = (t: number, cells: string[], text: string) => out.push(`${paint.dim(formatTime(t).padStart(TIME_WIDTH))}  ${cells.join("")}${text}`);

  for (const row of timeline.rows) {
    if (row.kind === "summary") {
      const dropped = row.dropped > 0 ? `, ${row.dropped} dropped` : "";
      out.push(`${" ".repeat(TIME_WIDTH)}  ${paint.dim(laneCells().join("") + `· ${row.sent} message${row.sent === 1 ? "" : "s"} sent${dropped} in ${formatTime(row.untilT - row.t)}`)}`);
      continue;
    }
    if (row.kind === "message") {
      line(row.t, arrowCells(laneCells(), positions.get(row.from)!, positions.get(row.to)!, row, paint), paint.message(messageLabel(row)));
      continue;
    }
    if (row.state !== undefined && states.has(row.state.node)) states.set(row.state.node, row.state.state);
    const cells = laneCells();
    const colour = paint[row.category];
    const marked = row.lanes.filter((lane) => positions.has(lane));
    for (const lane of marked) cells[positions.get(lane)!] = colour(row.glyph);
    if (row.glyph === "═") {
      for (let i = 0; i < width; i++) if (cells[i] === " ") cells[i] = paint.dim("═");
    }
    const who = row.lanes.length === 1 ? `${row.node} ` : "";
    line(row.t, cells, `${paint.bold(who)}${colour(row.label)}`);
  }
  if (timeline.omitted > 0) out.push(paint.dim(`… ${timeline.omitted} more rows (narrow the window with --from/--to/--nodes, or raise --max)`));
  return out;
}

function messageLabel(row: MessageRow): string {
  const dropped = row.dropped !== undefined ? ` dropped (${row.dropped})` : "";
  return `${row.from} → ${row.to} ${row.type}${dropped}`;
}

/** Draws ●──▶ (or ●┄┄× for a dropped message) from one lane to another over the cells. */
function arrowCells(cells: string[], from: number, to: number, row: MessageRow, paint: Paint): string[] {
  const dropped = row.dropped !== undefined;
  const step = to >= from ? 1 : -1;
  if (from === to) {
    cells[from] = dropped ? paint.violation("×") : paint.message("●");
    return cells;
  }
  for (let i = from + step; i !== to; i += step) cells[i] = paint.message(dropped ? "┄" : "─");
  cells[from] = paint.message("●");
  cells[to] = dropped ? paint.violation("×") : paint.message(step > 0 ? "▶" : "◀");
  return cells;
}
