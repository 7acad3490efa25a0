/** `expect.events`: trace event counts a scenario must (or must not) show — availability differences between eras. */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { validateScenario } from "../../src/scenario/load.ts";
import { runScenario } from "../../src/scenario/run.ts";

const RAW = JSON.parse(readFileSync("scenarios/happy-path.json", "utf8")) as Record<string, unknown>;

function run(events: unknown[]) {
  return runScenario(validateScenario({ ...RAW, expect: { violations: [], events } }, "happy-path.json"), { seed: 1, hash: false, checkers: false });
}

describe("expect.events", function () {
  this.timeout(60_000);

  it("counts events of a kind whose fields match `where`; min defaults to 1", () => {
    const met = run([{ kind: "leader-elected", where: { reason: "new-partition", unclean: false }, min: 2, max: 2 }, { kind: "controller-elected" }, { kind: "broker-halted", max: 0 }]);
    expect(met.expectationProblems).to.deep.equal([]);
    expect(met.expectationMet).to.equal(true);
  });

  it("names the kind, the filter, the bound and the count when a bound fails", () => {
    const missed = run([{ kind: "broker-halted" }, { kind: "leader-elected", where: { unclean: true }, min: 1 }, { kind: "leader-elected", max: 1 }]);
    expect(missed.expectationMet).to.equal(false);
    expect(missed.expectationProblems).to.deep.equal([
      'expected at least 1 "broker-halted" event, found 0',
      'expected at least 1 "leader-elected" event with {"unclean":true}, found 0',
      'expected at most 1 "leader-elected" event, found 3',
    ]);
  });

  it("refuses min above max at load", () => {
    expect(() => validateScenario({ ...RAW, expect: { events: [{ kind: "broker-halted", min: 2, max: 1 }] } }, "x.json")).to.throw(/min <= max/);
  });
});
