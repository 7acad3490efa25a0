import { expect } from "chai";
import { loadScenario, ScenarioError, validateScenario } from "../../src/scenario/load.ts";

const base = () => ({
  name: "t",
  duration: "10s",
  cluster: { demo: { nodes: 3 } },
  faults: [] as unknown[],
});

function errorOf(value: unknown, file = "s.json"): string {
  try {
    validateScenario(value, file);
  } catch (error) {
    expect(error).to.be.instanceOf(ScenarioError);
    return (error as Error).message;
  }
  throw new Error("expected a ScenarioError");
}

describe("scenario loading", () => {
  it("accepts DESIGN.md's shape and fills defaults", () => {
    const scenario = validateScenario(base(), "s.json");
    expect(scenario.seed).to.equal(1);
    expect(scenario.settle).to.equal("30s");
    expect(scenario.network.latencyMs).to.deep.equal([1, 3]);
    expect(scenario.cluster.demo!.pingIntervalMs).to.equal(100);
  });

  it("reads YAML too", () => {
    const scenario = loadScenario("name: y\nduration: 2s\ncluster:\n  demo:\n    nodes: 2\n", "s.yaml");
    expect(scenario.name).to.equal("y");
  });

  it("names the file, the JSON path and what was expected", () => {
    expect(errorOf({ ...base(), duration: "soon" })).to.equal(
      's.json: $.duration: expected a duration like "250ms", "3.1s", "2m" or a number of milliseconds',
    );
    expect(errorOf({ ...base(), faults: [{ at: "1s", type: "crash", node: "node-1" }, { at: "1s", type: "explode" }] })).to.match(
      /^s\.json: \$\.faults\[1\]\.type: expected a fault with a known type/,
    );
    expect(errorOf({ ...base(), faults: [{ at: "1s", type: "crash", node: "node-9" }] })).to.equal(
      's.json: $.faults[0].node: expected one of the cluster\'s nodes (node-1, node-2, node-3), found "node-9"',
    );
    expect(errorOf({ ...base(), colour: "red" })).to.equal("s.json: $.colour: unknown key (not part of the scenario format)");
    expect(errorOf({ ...base(), cluster: { demo: { nodes: 0 } } })).to.match(/^s\.json: \$\.cluster\.demo\.nodes: Too small/);
    expect(errorOf({ ...base(), name: undefined })).to.equal("s.json: $.name: expected string, found nothing (required)");
    expect(errorOf({ ...base(), faults: [{ at: ["1s", "x"], type: "heal" }] })).to.match(/^s\.json: \$\.faults\[0\]\.at\[1\]: expected a duration/);
    expect(errorOf({ ...base(), faults: [{ at: "1s", type: "crash", node: "controller" }] })).to.match(
      /\$\.faults\[0\]\.node: the selector "controller" needs cluster\.brokers/,
    );
    expect(errorOf({ ...base(), faults: [{ at: "1s", type: "partition", groups: [["node-1"], "rest"], from: ["node-2"], to: ["node-3"] }] })).to.match(
      /\$\.faults\[0\]: expected either "groups" or "from" and "to"/,
    );
    expect(errorOf({ ...base(), cluster: { demo: { nodes: 2 }, config: { "disk.writebackMs": "x" } } })).to.match(
      /^s\.json: \$\.cluster\.config\["disk\.writebackMs"\]: expected number, found string$/,
    );
  });

  it("reports unparsable JSON and YAML in one line", () => {
    expect(() => loadScenario("{ nope", "bad.json")).to.throw(ScenarioError, /^bad\.json: line 1, column 3: expected valid JSON/);
    expect(() => loadScenario("a: [1,", "bad.yaml")).to.throw(ScenarioError, /^bad\.yaml: line \d+, column \d+: expected valid YAML/);
  });
});
