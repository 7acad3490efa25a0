/**
 * A docs page per guided tour (docs/tours/NAME.md, written by `npm run schema`; a test fails when one is stale):
 * the scenario's description, how to take the tour in the viewer or the CLI, and each stop's text with the
 * event it shows. Pure: the script reads the scenario files and writes the pages.
 */

import { tourOf, type TourEventSelector } from "./tour-model.ts";

function eventLabel(event: TourEventSelector | undefined): string {
  if (event === undefined) return "";
  const where = event.where === undefined ? "" : ` ${Object.entries(event.where).map(([key, value]) => `${key}=${JSON.stringify(value)}`).join(" ")}`;
  const nth = event.nth !== undefined && event.nth > 1 ? ` (match ${event.nth})` : "";
  return ` — *event: \`${event.kind}\`${event.node !== undefined ? ` on ${event.node}` : ""}${where}${nth}*`;
}

/** The page for one scenario document with a tour, or null without one. */
export function tourPage(document: Record<string, unknown>): string | null {
  const tour = tourOf(document);
  if (tour === null) return null;
  const name = String(document.name);
  const lines = [
    `# Tour: ${name}`,
    "",
    "<!-- Generated from scenarios/" + name + ".json by `npm run schema`; edit the scenario's `tour`, not this page. -->",
    "",
    String(document.description ?? ""),
    "",
    "Take the tour in the viewer: pick the scenario in its scenario list and press **run**, then **start the tour** (`npx kafkasim view` serves the viewer; on the static site of `npm run build:site`, `index.html?scenario=" + name + "&run` runs it at once), or open a trace of it:",
    "",
    "```sh",
    `npx kafkasim run ${name} --trace out/${name}.jsonl && npx kafkasim view out/${name}.jsonl`,
    "```",
    "",
    "## Stops",
    "",
    ...tour.map((stop, i) => `${i + 1}. ${stop.text}${eventLabel(stop.event)}${stop.partition !== undefined ? ` (inspector: ${stop.partition})` : ""}`),
    "",
  ];
  return lines.join("\n");
}
