/**
 * The diagram's legend: what the lane bands, role spans, arrow colours and marks mean, drawn from the same
 * colour tables the diagram uses (timeline-view.ts), so it cannot drift from the picture.
 */

import { BAND_COLOURS, messageColour } from "./timeline-view.ts";

const BAND_LABELS: Record<keyof typeof BAND_COLOURS, string> = {
  down: "host down (crashed or stopped)",
  "power-loss": "power loss (unflushed writes lost)",
  shutdown: "clean shutdown",
  paused: "paused (a GC pause: alive but silent)",
  partition: "network partition",
  network: "lossy, slow or delayed links",
  disk: "disk fault",
  clock: "clock skew",
};

const ARROWS: [string, string][] = [
  ["ZkRequest", "ZooKeeper"],
  ["Fetch", "replication fetch"],
  ["Produce", "produce"],
  ["LeaderAndIsr", "controller requests (LeaderAndIsr, UpdateMetadata, AlterIsr…)"],
  ["OffsetsForLeaderEpoch", "epochs and offsets lookups, InitProducerId"],
  ["JoinGroup", "consumer groups"],
  ["AddPartitionsToTxn", "transactions"],
  ["ApiVersions", "other"],
];

/** The glyphs of `kafkasim timeline` (src/cli/timeline.ts), in the diagram's colours. */
const MARKS: [string, string, string][] = [
  ["#333", "✕ ■", "crash, power loss, halt (■: machine crash)"],
  ["#333", "▲", "restart"],
  ["#333", "‖ ►", "pause, resume"],
  ["#333", "↯ ═", "a fault starts, ends"],
  ["#b8860b", "◆", "leader elected"],
  ["#b8860b", "★ ☆", "controller / ZooKeeper leader elected; resigned"],
  ["#2c6fbb", "+ − ≠", "ISR expand, shrink, update failed"],
  ["#c0392b", "✂", "log truncated"],
  ["#333", "✗ ?", "a client request failed, its outcome unknown"],
  ["#333", "◇", "admin operation"],
  ["#e00", "⚠", "violation (click it for the explanation)"],
];

const swatch = (colour: string, text = "") => `<span class="swatch" style="background:${colour}">${text}</span>`;

export function legendHtml(): string {
  const bands = Object.entries(BAND_COLOURS).map(([kind, colour]) => `<li>${swatch(colour)} ${BAND_LABELS[kind as keyof typeof BAND_COLOURS]}</li>`);
  const roles = [`<li>${swatch("rgba(255,200,0,0.25)")} controller</li>`, `<li>${swatch("rgba(142,108,192,0.18)")} ZooKeeper leader</li>`];
  const arrows = ARROWS.map(([type, label]) => `<li><span class="arrow" style="border-color:${messageColour(type)}"></span> ${label}</li>`);
  const marks = MARKS.map(([colour, glyph, label]) => `<li><b style="color:${colour}">${glyph}</b> ${label}</li>`);
  return `<div class="legend-cols">
    <div><b>lane bands</b><ul>${bands.join("")}</ul></div>
    <div><b>roles</b><ul>${roles.join("")}</ul><b>marks</b><ul>${marks.join("")}</ul></div>
    <div><b>messages</b> (an arrow per message; a dashed one ending in × was dropped; zoomed out, a lane's messages become density ticks)<ul>${arrows.join("")}</ul></div>
  </div>`;
}
