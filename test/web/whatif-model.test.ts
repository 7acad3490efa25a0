/**
 * The what-if model: fault edits give documents the loader accepts and the runner replays, the branch tree, the
 * comparison of two runs, and the scenario URL round trip.
 */

import { expect } from "chai";
import fc from "fast-check";
import { validateScenario } from "../../src/scenario/load.ts";
import { runScenario } from "../../src/scenario/run.ts";
import { MemorySink } from "../../src/sim/trace.ts";
import {
  addFault,
  BranchTree,
  decodeScenario,
  deleteFault,
  describeFault,
  durationMs,
  encodeScenario,
  faultAtMs,
  faultsOf,
  firstDivergingLine,
  formatMs,
  moveFault,
  newFault,
  violationCounts,
  WHATIF_FAULT_TYPES,
} from "../../web/src/ui/whatif-model.ts";
import { scenarioFile } from "../scenario/helpers.ts";

describe("what-if model", function () {
  this.timeout(120_000);

  it("reads and writes fault times", () => {
    expect(durationMs("5s")).to.equal(5000);
    expect(durationMs("250ms")).to.equal(250);
    expect(durationMs("2m")).to.equal(120_000);
    expect(durationMs(1500)).to.equal(1500);
    expect(durationMs("soon")).to.equal(null);
    expect(formatMs(14_000)).to.equal("14s");
    expect(formatMs(14_250.4)).to.equal("14250ms");
    expect(faultAtMs({ at: ["1s", "2s"] })).to.equal(1000);
  });

  it("moves, deletes and adds faults; every edit loads and the fault list stays in time order", () => {
    const kip101 = scenarioFile("kip-101-data-loss");
    const crashOfBroker2 = faultsOf(kip101).findIndex((fault) => fault.type === "crash" && fault.node === "broker-2");
    const moved = moveFault(kip101, crashOfBroker2, 30_000);
    expect(faultsOf(moved)[crashOfBroker2].at).to.equal("30s");
    expect(faultsOf(kip101)[crashOfBroker2].at).to.equal("13s"); // the original is untouched
    validateScenario(moved, "moved.json");
    const fewer = deleteFault(kip101, 0);
    expect(faultsOf(fewer)).to.have.length(faultsOf(kip101).length - 1);
    for (const type of WHATIF_FAULT_TYPES) {
      const added = addFault(kip101, newFault(type, "broker-3", 7000, 2000, type === "partition" ? "broker-1" : undefined));
      validateScenario(added, `${type}.json`);
      const times = faultsOf(added).map((fault) => faultAtMs(fault)!);
      expect(times).to.deep.equal([...times].sort((a, b) => a - b));
    }
    expect(describeFault(faultsOf(kip101)[crashOfBroker2])).to.equal("13s crash broker-2");
  });

  it("moving broker-2's crash into the settle phase changes KIP-101's verdict", () => {
    const kip101 = scenarioFile("kip-101-data-loss");
    const index = faultsOf(kip101).findIndex((fault) => fault.type === "crash" && fault.node === "broker-2");
    const run = (document: Record<string, unknown>) => runScenario(validateScenario(document, "k.json"), { hash: false });
    expect(run(kip101).violations.map((v) => v.name)).to.include("lost-write");
    // Anywhere before 40 s the loss stays: the controller (broker-3) cannot reach broker-2 with its LeaderAndIsr
    // until controller.socket.timeout.ms ends, so broker-3 never re-fetches the record it dropped.
    expect(run(moveFault(kip101, index, 35_000)).violations.map((v) => v.name)).to.include("lost-write");
    // At 45 s the cluster is settling (faults end at `duration`, 40 s): the crash is skipped, broker-2 keeps leading
    // and nothing is lost — so the scenario, which expects lost-write, no longer meets its expectation.
    const later = run(moveFault(kip101, index, 45_000));
    expect(later.violations.map((v) => v.name)).to.not.include("lost-write");
    expect(later.expectationMet).to.equal(false);
  });

  it("keeps the branches as a tree, walked depth first", () => {
    const tree = new BranchTree({ name: "x" }, 1);
    const a = tree.branch(0, "a", { name: "a" });
    const b = tree.branch(0, "b", { name: "b" }, 7);
    const a1 = tree.branch(a.id, "a1", { name: "a1" });
    expect(tree.walk().map(([branch, depth]) => `${branch.label}:${depth}`)).to.deep.equal(["original:0", "a:1", "a1:2", "b:1"]);
    expect(a1.seed).to.equal(1);
    expect(b.seed).to.equal(7);
    expect(() => tree.get(9)).to.throw(RangeError);
  });

  it("finds the first line where two runs part and counts violations side by side", () => {
    const kip101 = scenarioFile("kip-101-data-loss");
    const traceOf = (document: Record<string, unknown>) => {
      const sink = new MemorySink();
      runScenario(validateScenario(document, "k.json"), { sinks: [sink], hash: false });
      return sink.lines.join("\n");
    };
    const original = traceOf(kip101);
    expect(firstDivergingLine(original, original)).to.equal(null);
    const index = faultsOf(kip101).findIndex((fault) => fault.type === "crash" && fault.node === "broker-2");
    const moved = traceOf(moveFault(kip101, index, 35_000));
    const parted = firstDivergingLine(original, moved)!;
    expect(parted.line).to.be.greaterThan(2);
    // Every line before it is the same; the parting lines are not.
    expect(original.split("\n").slice(1, parted.line - 1)).to.deep.equal(moved.split("\n").slice(1, parted.line - 1));
    expect(parted.left).to.not.equal(parted.right);
    expect([...violationCounts(["lost-write", "lost-write", "hwm-regression"], ["hwm-regression"])]).to.deep.equal([
      ["lost-write", [2, 0]],
      ["hwm-regression", [1, 1]],
    ]);
  });

  it("round-trips a scenario through its URL form", async () => {
    const kip101 = scenarioFile("kip-101-data-loss");
    const encoded = await encodeScenario(kip101, 3);
    expect(encoded).to.match(/^[A-Za-z0-9_-]+$/);
    expect(await decodeScenario(encoded)).to.deep.equal({ ...kip101, seed: 3 });
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string(), fc.jsonValue()), async (document) => {
        expect(await decodeScenario(await encodeScenario(document))).to.deep.equal(JSON.parse(JSON.stringify(document)));
      }),
      { numRuns: 50 },
    );
    let refused = false;
    try {
      await decodeScenario("not-a-scenario");
    } catch {
      refused = true;
    }
    expect(refused).to.equal(true);
  });
});
