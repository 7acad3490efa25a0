import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateScenario } from "../../src/scenario/load.ts";
import { runScenario } from "../../src/scenario/run.ts";
import { deleteFaults, explicitSchedule, formatDurationUs, shrinkScenario, smallestFailing, toFault, withMovedNotes } from "../../src/scenario/shrink.ts";
import { MemorySink, parseTrace } from "../../src/sim/trace.ts";
import { scenarioFile, type Spec } from "./helpers.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

/** KIP-101's data loss with three irrelevant faults added (a range, a selector, a ZooKeeper pause). */
function noisyKip101(): Spec {
  const spec = scenarioFile("kip-101-data-loss");
  const faults = spec.faults as Spec[];
  return {
    ...spec,
    faults: [
      { at: ["1s", "2s"], type: "delay", extra: "5ms", from: [{ random: "broker" }], for: "500ms" },
      ...faults,
      { at: "20s", type: "pause", node: "zk-1", for: "1s" },
      { at: "35s", type: "crash", node: { leaderOf: "t-0" }, for: "1s" },
    ],
  };
}

function traced(spec: Spec, seed?: number) {
  const sink = new MemorySink();
  const scenario = validateScenario(spec, "s.json");
  const result = runScenario(scenario, { sinks: [sink], seed });
  return { scenario, result, events: parseTrace(sink.lines.join("\n")).events };
}

describe("shrink", function () {
  this.timeout(120_000);

  it("turns ranges and selectors into the times and nodes the run used, replaying the run exactly", () => {
    const spec = noisyKip101();
    const original = traced(spec);
    const explicit = explicitSchedule(original.scenario, 1, original.events);
    expect(explicit).to.have.length(6);
    const faults = explicit.map(toFault);
    expect(faults[0]).to.include({ type: "delay" });
    expect(faults[0].from).to.be.an("array").with.length(1).and.satisfy((from: string[]) => /^broker-\d$/.test(from[0]));
    expect(faults[0].at).to.match(/^\d+(us|ms|s)$/);
    // until → for; the scenario's note goes with its fault.
    expect(faults[1]).to.deep.equal({ at: "4s", type: "partition", groups: [["broker-2"], ["broker-3"]], for: "26s", note: original.scenario.faults[1].note });
    expect(faults[5].node).to.match(/^broker-\d$/);
    // The explicit list is the same run: the same trace, line for line.
    const replay = traced({ ...spec, faults });
    expect(replay.result.stats.traceHash).to.equal(original.result.stats.traceHash);
  });

  it("writes out a nemesis's faults, and the explicit list replays its run", () => {
    const spec: Spec = {
      ...scenarioFile("kip-101-data-loss"),
      faults: [],
      nemesis: { types: ["crash", "partition", "pause", "power-loss"], intervalMs: [1000, 4000], durationMs: [500, 6000], maxConcurrent: 2, startAt: "2s" },
    };
    const original = traced(spec, 3);
    const explicit = explicitSchedule(original.scenario, 3, original.events);
    const fired = original.events.filter((e) => e.kind === "nemesis-fault");
    expect(explicit.length).to.equal(fired.length).and.be.greaterThan(2);
    const { nemesis: _nemesis, ...fixed } = spec;
    const replay = traced({ ...fixed, faults: explicit.map(toFault) }, 3);
    expect(replay.result.violations.map((v) => [v.name, v.time])).to.deep.equal(original.result.violations.map((v) => [v.name, v.time]));
    expect(replay.result.stats.messages).to.deep.equal(original.result.stats.messages);
  });

  it("shrinks KIP-101 with extra faults to fewer faults that still show the same violation", () => {
    const phases: string[] = [];
    const result = shrinkScenario(noisyKip101(), { seed: 1, file: "noisy.json", violation: "lost-write", maxRuns: 80, onProgress: (p) => phases.push(p.phase) });
    expect(result.status).to.equal("shrunk");
    if (result.status !== "shrunk") return;
    expect(result.counts).to.deep.equal({ listed: 6, nemesis: 0, explicit: 6, shrunk: result.counts.shrunk });
    expect(result.counts.shrunk).to.be.at.most(3);
    expect(result.runs).to.be.at.most(81);
    expect(result.durationUs.after).to.be.at.most(result.durationUs.before);
    expect(phases).to.include.members(["record", "explicit", "delete", "earlier", "duration", "verify"]);
    const document = result.scenario;
    expect(document.name).to.equal("kip-101-data-loss-shrunk");
    expect(document.seed).to.equal(1);
    expect(document.description).to.match(/^Shrunk by kafkasim shrink from noisy\.json \(scenario kip-101-data-loss\) with seed 1: lost-write with \d faults? instead of 6/);
    expect((document.expect as Spec).violations).to.deep.equal(["lost-write"]);
    expect(document).to.not.have.property("nemesis");
    // The written scenario replays: it loads, shows lost-write and meets its expectation.
    const replay = runScenario(validateScenario(JSON.parse(JSON.stringify(document)), "shrunk.json"));
    expect(replay.violations.map((v) => v.name)).to.include("lost-write");
    expect(replay.expectationProblems).to.deep.equal([]);
  });

  it("aims at the scenario's expected violation unless told otherwise, and rewrites the notes of faults it moved", () => {
    // KIP-101's run shows hwm-regression first, but the scenario expects lost-write: that is what is kept.
    const result = shrinkScenario(scenarioFile("kip-101-data-loss"), { seed: 1, file: "k.json", maxRuns: 40 });
    expect(result.status).to.equal("shrunk");
    if (result.status !== "shrunk") return;
    expect(result.violation).to.equal("lost-write");
    const base = { type: "crash", node: "broker-1", note: "The leader crashes." };
    const moved = withMovedNotes([{ base, atUs: 3_200_000, forUs: 1_000_000 }], [{ base, atUs: 5_000_000, forUs: null }]);
    expect(moved[0].base.note).to.equal("(shrunk: at 3200ms, was 5s; for 1s, was until the end) The leader crashes.");
    expect(withMovedNotes([{ base, atUs: 5_000_000, forUs: null }], [{ base, atUs: 5_000_000, forUs: null }])[0].base.note).to.equal("The leader crashes.");
  });

  it("reports a run without a violation, and a violation the run does not show", () => {
    const fixed = shrinkScenario(scenarioFile("kip-101-fixed"), { seed: 1, file: "fixed.json" });
    expect(fixed).to.deep.equal({ status: "no-violation", runs: 1, violations: [] });
    const other = shrinkScenario(scenarioFile("kip-101-data-loss"), { seed: 1, file: "k.json", violation: "two-controllers" });
    expect(other.status).to.equal("no-violation");
  });

  it("ddmin keeps exactly the needed items; the binary search finds a failing value near the edge", () => {
    let calls = 0;
    const kept = deleteFaults([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], (items) => {
      calls++;
      return items.includes(3) && items.includes(7);
    });
    expect(kept).to.deep.equal([3, 7]);
    expect(calls).to.be.below(30);
    expect(deleteFaults([1, 2], () => true)).to.deep.equal([]);
    expect(smallestFailing(0, 10_000_000, (t) => t >= 4_321_000)).to.be.within(4_321_000, 4_321_000 + 50_000);
    expect(smallestFailing(0, 10_000_000, () => true)).to.equal(0);
    expect(formatDurationUs(5_000_000)).to.equal("5s");
    expect(formatDurationUs(4_250_000)).to.equal("4250ms");
    expect(formatDurationUs(4_250_001)).to.equal("4250001us");
  });

  it("kafkasim shrink writes a scenario that kafkasim run replays (exit 0), exits 1 without a violation, 2 on bad input", () => {
    const dir = mkdtempSync(join(tmpdir(), "kafkasim-shrink-"));
    const input = join(dir, "noisy.json");
    const output = join(dir, "shrunk.json");
    writeFileSync(input, JSON.stringify(noisyKip101()));
    const cli = (args: string[]) => spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "src/cli/main.ts"), ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });

    const shrunk = cli(["shrink", input, "--seed", "1", "-o", output, "--max-runs", "60"]);
    expect(shrunk.status, shrunk.stderr).to.equal(0);
    expect(shrunk.stdout).to.contain(`written to ${output}`);
    expect(existsSync(`${output}.partial`)).to.equal(false);
    const document = JSON.parse(readFileSync(output, "utf8")) as Spec;
    expect((document.faults as unknown[]).length).to.be.below(6);
    const replay = cli(["run", output]);
    expect(replay.status, replay.stdout).to.equal(0);

    const fixed = cli(["shrink", join(ROOT, "scenarios/kip-101-fixed.json"), "-o", join(dir, "none.json")]);
    expect(fixed.status).to.equal(1);
    expect(fixed.stdout).to.contain("nothing to shrink");
    expect(existsSync(join(dir, "none.json"))).to.equal(false);

    const bad = cli(["shrink", input, "-o", output, "--violation", "lost-writes"]);
    expect(bad.status).to.equal(2);
    expect(bad.stderr.trim().split("\n")).to.have.length(1);
    expect(bad.stderr).to.contain("--violation: expected one of");
    const missing = cli(["shrink", join(dir, "nope.json"), "-o", output]);
    expect(missing.status).to.equal(2);
    expect(missing.stderr).to.contain("no such file");
  });
});
