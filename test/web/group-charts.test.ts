/**
 * The metrics view's group charts read the MBeans the simulator really samples: over a real group run each of them
 * has a line (the coordinator's gauges and sensors, the group requests' RequestsPerSec, every consumer's
 * consumer-coordinator-metrics), and over a run without groups none has.
 */

import { expect } from "chai";
import { chartLines, CHARTS } from "../../web/src/ui/metrics-view.ts";
import { indexTrace, type TraceIndex } from "../../web/src/ui/trace-index.ts";
import { run, scenarioFile } from "../scenario/helpers.ts";

const GROUP_CHARTS = CHARTS.filter((c) => /Group|group|coordinator|offset-commit|rebalance|heartbeat/.test(`${c.title} ${c.mbean}`));

function indexOf(name: string): TraceIndex {
  const { result, events } = run(scenarioFile(name));
  expect(result.error).to.equal(undefined);
  const header = { format: "kafkasim-trace" as const, formatVersion: 1, kafkasim: "0.1.0", scenario: name, seed: 1, nodes: [...new Set(events.map((e) => e.node))] };
  return indexTrace(header, events);
}

describe("viewer: the group metrics charts", function () {
  this.timeout(120_000);

  it("has the group charts, the derived rebalances chart among them", () => {
    expect(GROUP_CHARTS.map((c) => c.title)).to.include.members([
      "JoinGroup RequestsPerSec",
      "NumGroupsPreparingRebalance",
      "NumGroupsStable",
      "offset-commit-count",
      "consumer rebalance-total",
      "group rebalances (from group-state)",
    ]);
  });

  it("draws a line in every group chart over a real group run, one per consumer for the consumer charts", () => {
    const index = indexOf("group-eager-rebalance");
    for (const spec of GROUP_CHARTS) {
      const lines = chartLines(index, spec).filter((line) => line.t.length > 0);
      expect(lines.length, spec.title).to.be.greaterThan(0);
      if (spec.mbean.startsWith("kafka.consumer:")) expect(lines.map((l) => l.node).sort(), spec.title).to.deep.equal(["c1", "c2", "c3", "c4"]);
    }
    const rebalances = chartLines(index, CHARTS.find((c) => c.title === "consumer rebalance-total")!).find((l) => l.node === "c1")!;
    expect(rebalances.v.at(-1)).to.be.greaterThan(1);
    const stable = chartLines(index, CHARTS.find((c) => c.title === "NumGroupsStable")!);
    expect(Math.max(...stable.flatMap((l) => l.v))).to.equal(1);
  });

  it("draws none over a run without groups", () => {
    const index = indexOf("leader-failover");
    for (const spec of GROUP_CHARTS) expect(chartLines(index, spec).filter((line) => line.t.length > 0), spec.title).to.deep.equal([]);
  });
});
