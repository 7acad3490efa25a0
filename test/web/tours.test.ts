/**
 * Every shipped scenario's guided tour points at events its own run produces (a tour whose stop finds nothing
 * fails here), in the order the stops tell them.
 */

import { expect } from "chai";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { validateScenario } from "../../src/scenario/load.ts";
import { runScenario } from "../../src/scenario/run.ts";
import { MemorySink, parseTrace } from "../../src/sim/trace.ts";
import { resolveTour, tourOf } from "../../web/src/ui/tour-model.ts";
import { tourPage } from "../../web/src/ui/tour-docs.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const withTours = readdirSync(join(ROOT, "scenarios"))
  .filter((name) => name.endsWith(".json"))
  .map((name) => ({ name, document: JSON.parse(readFileSync(join(ROOT, "scenarios", name), "utf8")) as Record<string, unknown> }))
  .filter(({ document }) => tourOf(document) !== null);

describe("guided tours", function () {
  this.timeout(120_000);

  it("ship with the teaching scenarios", () => {
    expect(withTours.map(({ name }) => name)).to.include("kip-101-data-loss.json");
  });

  for (const { name, document } of withTours) {
    it(`${name}: every stop finds its event in the scenario's run, in order`, () => {
      const sink = new MemorySink();
      runScenario(validateScenario(document, name), { sinks: [sink], hash: false });
      const { events } = parseTrace(sink.lines.join("\n"));
      const stops = resolveTour(tourOf(document)!, events);
      for (const stop of stops) expect(stop.missing, `stop "${stop.text.slice(0, 60)}…" found no ${JSON.stringify(stop.event)}`).to.equal(false);
      const indexes = stops.filter((stop) => stop.index >= 0).map((stop) => stop.index);
      expect(indexes).to.deep.equal([...indexes].sort((a, b) => a - b));
    });
  }

  for (const { name, document } of withTours) {
    it(`docs/tours/${name.replace(/\.json$/, ".md")} is up to date (regenerate with \`npm run schema\`)`, () => {
      expect(readFileSync(join(ROOT, "docs", "tours", name.replace(/\.json$/, ".md")), "utf8")).to.equal(tourPage(document));
    });
  }

  it("resolves the nth match and says when a run lacks the event", () => {
    const events = [
      { t: 1, seq: 1, node: "a", kind: "x", v: 1 },
      { t: 2, seq: 2, node: "b", kind: "x", v: 2 },
      { t: 3, seq: 3, node: "a", kind: "x", v: 2 },
    ];
    const [first, second, onB, none, text] = resolveTour(
      [{ text: "1", event: { kind: "x" } }, { text: "2", event: { kind: "x", nth: 2 } }, { text: "3", event: { kind: "x", node: "a", where: { v: 2 } } }, { text: "4", event: { kind: "y" } }, { text: "5" }],
      events,
    );
    expect([first.index, second.index, onB.index, none.index, text.index]).to.deep.equal([0, 1, 2, -1, -1]);
    expect([none.missing, text.missing]).to.deep.equal([true, false]);
  });
});
