/**
 * A timeline as a Mermaid sequenceDiagram (pure): participants are the lanes, messages are arrows labelled
 * with their request type (a dropped message is a dashed arrow ending in a cross; only with --messages), key
 * events are notes over their nodes with the virtual time, and stretches that dropped messages are notes spanning
 * every participant.
 */

import { formatTime } from "../sim/time.ts";
import type { Timeline } from "./timeline.ts";

/** A Mermaid identifier for a node name ("broker-1" → "broker_1"); hyphens would read as arrows. */
export function mermaidId(node: string): string {
  const id = node.replace(/[^A-Za-z0-9_]/g, "_");
  return RESERVED.test(id) ? `${id}_` : id;
}

/** Words Mermaid's sequence diagrams read as keywords (a client could be called "end"). */
const RESERVED = /^(end|loop|alt|else|opt|par|and|rect|note|over|critical|break|box|autonumber|participant|actor|activate|deactivate|title|link|links|create|destroy)$/i;

/** Message and note text: Mermaid ends a statement at ";" and reads "#…;" as an entity. */
function escape(text: string): string {
  return text.replace(/#/g, "#35;").replace(/;/g, "#59;").replace(/\n/g, " ");
}

export function formatTimelineMermaid(timeline: Timeline): string[] {
  const { lanes } = timeline;
  const out = ["sequenceDiagram"];
  for (const lane of lanes) out.push(`  participant ${mermaidId(lane)} as ${lane}`);
  const span = lanes.length === 0 ? "" : lanes.length === 1 ? mermaidId(lanes[0]) : `${mermaidId(lanes[0])},${mermaidId(lanes[lanes.length - 1])}`;

  for (const row of timeline.rows) {
    if (row.kind === "message") {
      const arrow = row.dropped !== undefined ? "--x" : "->>";
      const label = row.dropped !== undefined ? `${row.type} dropped (${row.dropped})` : row.type;
      out.push(`  ${mermaidId(row.from)}${arrow}${mermaidId(row.to)}: ${escape(label)}`);
      continue;
    }
    if (span === "") continue;
    if (row.kind === "summary") {
      // Without --messages only the stretches that lost messages are noted: the diagram stays key events and faults.
      if (row.dropped === 0) continue;
      const dropped = row.dropped > 0 ? `, ${row.dropped} dropped` : "";
      out.push(`  Note over ${span}: ${escape(`${row.sent} messages${dropped}`)}`);
      continue;
    }
    // A note spans from the first to the last of its nodes in participant order.
    const marked = lanes.filter((lane) => row.lanes.includes(lane));
    const over = marked.length === 0 ? span : marked.length === 1 ? mermaidId(marked[0]) : `${mermaidId(marked[0])},${mermaidId(marked[marked.length - 1])}`;
    out.push(`  Note over ${over}: ${escape(`${formatTime(row.t)} ${row.label}`)}`);
  }
  if (timeline.omitted > 0) out.push(`  %% … ${timeline.omitted} more rows (narrow the window with --from/--to/--nodes, or raise --max)`);
  return out;
}
